import { accepts, isSyntaxError, parseSegment, type CharToken, type Element, type MatchCost } from './segment-syntax.ts';

// One path segment's glob as a small automaton (Thompson's construction), run by keeping the set
// of live states instead of backtracking: matching costs at most (segment length + 1) times the
// automaton's size (nodes, edges and class ranges, at most 7 per pattern character plus 2).

export const TAKE = 0;
export const SPLIT = 1;
export const MATCH = 2;

export interface SegmentProgram {
  readonly source: string;
  readonly kind: Uint8Array;
  /** The token a TAKE node consumes. */
  readonly token: Array<CharToken | undefined>;
  /** TAKE: the one node after it; SPLIT: the nodes it leads to without consuming. */
  readonly out: number[][];
  readonly start: number;
  readonly match: number;
  /**
   * When every alternative is literal text with at most one star ("*.ts", "index.*",
   * "*.{ts,tsx}"): the alternatives, each tested with two string comparisons instead of the
   * automaton. At most one "{...}" group, so there are no more of them than characters.
   */
  readonly affixes: Affix[] | undefined;
  // Scratch state for matchSegment: one generation mark per node and two state lists.
  gen: number;
  readonly mark: Int32Array;
  readonly listA: Int32Array;
  readonly listB: Int32Array;
}

interface Affix {
  prefix: string;
  suffix: string;
  /** Without a star the segment must be exactly `prefix`. */
  star: boolean;
}

function affixOf(elements: Element[]): Affix | undefined {
  let prefix = '';
  let suffix = '';
  let star = false;
  for (const element of elements) {
    if (element.kind === 'star') {
      if (star) return undefined;
      star = true;
    } else if (element.kind === 'char') {
      if (star) suffix += String.fromCharCode(element.code);
      else prefix += String.fromCharCode(element.code);
    } else return undefined;
  }
  return { prefix, suffix, star };
}

function affixesOf(elements: Element[]): Affix[] | undefined {
  const groups = elements.filter((element) => element.kind === 'group');
  if (groups.length > 1) return undefined;
  const at = elements.findIndex((element) => element.kind === 'group');
  const spelled = at < 0 ? [elements] : (groups[0] as { alternatives: Element[][] }).alternatives.map((alternative) => [...elements.slice(0, at), ...alternative, ...elements.slice(at + 1)]);
  const affixes: Affix[] = [];
  for (const alternative of spelled) {
    const affix = affixOf(alternative.filter((element, i) => !(element.kind === 'star' && alternative[i - 1]?.kind === 'star')));
    if (!affix) return undefined;
    affixes.push(affix);
  }
  return affixes;
}

/** Builds the automaton of a segment parseSegment accepts; throws on one it refuses. */
export function compileSegment(segment: string): SegmentProgram {
  const elements = parseSegment(segment);
  if (isSyntaxError(elements)) throw new Error(`glob segment "${segment}" is malformed (${elements.kind})`);
  const kind: number[] = [];
  const token: Array<CharToken | undefined> = [];
  const out: number[][] = [];
  const node = (nodeKind: number, nodeToken: CharToken | undefined, next: number[]): number => {
    kind.push(nodeKind);
    token.push(nodeToken);
    out.push(next);
    return kind.length - 1;
  };
  const match = node(MATCH, undefined, []);
  // Built from the end, so every node's successors already exist.
  const sequence = (parts: Element[], next: number): number => {
    let at = next;
    for (let i = parts.length - 1; i >= 0; i--) {
      const part = parts[i]!;
      if (part.kind === 'star') {
        const loop = node(SPLIT, undefined, []);
        out[loop]!.push(node(TAKE, { kind: 'any' }, [loop]), at);
        at = loop;
      } else if (part.kind === 'group') {
        const after = at;
        at = node(SPLIT, undefined, part.alternatives.map((alternative) => sequence(alternative, after)));
      } else at = node(TAKE, part, [at]);
    }
    return at;
  };
  const start = sequence(elements, match);
  const size = kind.length;
  return {
    source: segment,
    kind: Uint8Array.from(kind),
    token,
    out,
    start,
    match,
    affixes: affixesOf(elements),
    gen: 0,
    mark: new Int32Array(size),
    listA: new Int32Array(size),
    listB: new Int32Array(size),
  };
}

function nextGeneration(program: SegmentProgram): number {
  if (program.gen >= 0x3fffffff) {
    program.mark.fill(0);
    program.gen = 0;
  }
  return ++program.gen;
}

/** Adds `from` and every node reachable from it without consuming to `list`; returns the new length. */
function closure(program: SegmentProgram, from: number, gen: number, list: Int32Array, length: number, cost: MatchCost): number {
  const { kind, out, mark } = program;
  cost.steps++;
  if (mark[from] === gen) return length;
  mark[from] = gen;
  // TAKE and MATCH nodes are collected at the front; SPLIT nodes are walked with a stack kept at
  // the back. A node is marked when pushed, so the two together never exceed the node count.
  let top = list.length;
  list[--top] = from;
  while (top < list.length) {
    const node = list[top++]!;
    if (kind[node] !== SPLIT) {
      list[length++] = node;
      continue;
    }
    for (const next of out[node]!) {
      cost.steps++;
      if (mark[next] !== gen) {
        mark[next] = gen;
        list[--top] = next;
      }
    }
  }
  return length;
}

/** True when text[start, end) is matched by the program. */
export function matchSegment(program: SegmentProgram, text: string, start: number, end: number, cost: MatchCost): boolean {
  const { affixes } = program;
  if (affixes) {
    const length = end - start;
    for (const { prefix, suffix, star } of affixes) {
      cost.steps++;
      if (star ? length < prefix.length + suffix.length : length !== prefix.length) continue;
      // Compared only when the lengths allow, so each test costs at most the segment's length.
      cost.steps += prefix.length + suffix.length;
      if (text.startsWith(prefix, start) && (!star || text.startsWith(suffix, end - suffix.length))) return true;
    }
    return false;
  }
  const { kind, token, out, match } = program;
  let current = program.listA;
  let next = program.listB;
  let gen = nextGeneration(program);
  let count = closure(program, program.start, gen, current, 0, cost);
  for (let at = start; at < end && count > 0; at++) {
    const code = text.charCodeAt(at);
    gen = nextGeneration(program);
    let nextCount = 0;
    for (let i = 0; i < count; i++) {
      const node = current[i]!;
      cost.steps++;
      if (kind[node] === TAKE && accepts(token[node]!, code, cost)) nextCount = closure(program, out[node]![0]!, gen, next, nextCount, cost);
    }
    [current, next] = [next, current];
    count = nextCount;
  }
  for (let i = 0; i < count; i++) if (current[i] === match) return true;
  return false;
}
