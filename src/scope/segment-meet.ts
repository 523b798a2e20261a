import { accepts, type CharToken, type MatchCost } from './segment-syntax.ts';
import { SPLIT, TAKE, type SegmentProgram } from './segment-glob.ts';

// Whether two segment globs can name a common segment, decided on their automata: no spelling
// out of "{...}" alternatives (2^20 of them for twenty groups), so the cost is at most the
// product of the two automata's sizes.

const SLASH = 47;

/** Whether some character other than "/" is in both token sets. */
function tokensMeet(a: CharToken, b: CharToken, cost: MatchCost): boolean {
  if (a.kind === 'any') return b.kind !== 'class' || b.negated || hasOtherThanSlash(b.ranges, cost);
  if (b.kind === 'any') return tokensMeet(b, a, cost);
  if (a.kind === 'char') return accepts(b, a.code, cost);
  if (b.kind === 'char') return accepts(a, b.code, cost);
  if (a.negated && b.negated) return true;
  const positive = a.negated ? b : a;
  const other = a.negated ? a : b;
  return other.negated ? someOutside(positive.ranges, other.ranges, cost) : someShared(positive.ranges, other.ranges, cost);
}

function hasOtherThanSlash(ranges: number[], cost: MatchCost): boolean {
  cost.steps += ranges.length / 2;
  for (let i = 0; i < ranges.length; i += 2) if (ranges[i] !== SLASH || ranges[i + 1] !== SLASH) return true;
  return false;
}

/** Two sorted range lists share a code other than "/" (a merge walk). */
function someShared(a: number[], b: number[], cost: MatchCost): boolean {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    cost.steps++;
    const low = Math.max(a[i]!, b[j]!);
    const high = Math.min(a[i + 1]!, b[j + 1]!);
    if (low <= high && !(low === SLASH && high === SLASH)) return true;
    if (a[i + 1]! < b[j + 1]!) i += 2;
    else j += 2;
  }
  return false;
}

/** Some code of the sorted ranges `inside`, other than "/", lies outside the sorted ranges `outside`. */
function someOutside(inside: number[], outside: number[], cost: MatchCost): boolean {
  let j = 0;
  for (let i = 0; i < inside.length; i += 2) {
    let code = inside[i]!;
    const high = inside[i + 1]!;
    while (code <= high) {
      cost.steps++;
      while (j < outside.length && outside[j + 1]! < code) j += 2;
      if (j < outside.length && outside[j]! <= code) code = outside[j + 1]! + 1;
      else if (code === SLASH) code++;
      else return true;
    }
  }
  return false;
}

/**
 * True when some string is matched by both programs: a walk over pairs of states, each pair
 * visited once, so the cost is at most the product of the two automata's sizes.
 */
export function segmentsIntersect(a: SegmentProgram, b: SegmentProgram, cost: MatchCost): boolean {
  const width = b.kind.length;
  const seen = new Uint8Array(a.kind.length * width);
  const stack: number[] = [a.start * width + b.start];
  seen[a.start * width + b.start] = 1;
  const goal = a.match * width + b.match;
  const push = (u: number, v: number): void => {
    const pair = u * width + v;
    if (!seen[pair]) {
      seen[pair] = 1;
      stack.push(pair);
    }
  };
  while (stack.length > 0) {
    const pair = stack.pop()!;
    cost.steps++;
    if (pair === goal) return true;
    const u = Math.floor(pair / width);
    const v = pair - u * width;
    const kindA = a.kind[u];
    const kindB = b.kind[v];
    if (kindA === SPLIT) for (const next of a.out[u]!) push(next, v);
    if (kindB === SPLIT) for (const next of b.out[v]!) push(u, next);
    if (kindA === TAKE && kindB === TAKE) {
      cost.steps++;
      if (tokensMeet(a.token[u]!, b.token[v]!, cost)) push(a.out[u]![0]!, b.out[v]![0]!);
    }
    cost.steps += (kindA === SPLIT ? a.out[u]!.length : 0) + (kindB === SPLIT ? b.out[v]!.length : 0);
  }
  return false;
}
