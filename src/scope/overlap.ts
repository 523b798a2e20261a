import { globToRegExp, isGlob, normalizeScopeEntry, staticBase, scopeEntryProblem } from './glob.ts';

// Whether two scope entries can name a common path, decided from the patterns alone: a file that
// does not exist yet is as much at risk as one that does. The semantics are exactly those of
// globToRegExp/matchesScope: `**` is any number of whole segments (also none), `*` and `?` stay
// within one segment, and a literal entry covers its path and everything beneath it.

type CharToken =
  | { kind: 'char'; char: string }
  | { kind: 'any' }
  | { kind: 'star' }
  | { kind: 'class'; negated: boolean; ranges: Array<[number, number]> };

type SegmentPattern =
  | { kind: 'globstar' }
  | { kind: 'literal'; text: string }
  | { kind: 'glob'; alternatives: CharToken[][] };

export interface ScopePattern {
  /** The normalized entry, e.g. "src/api/**". */
  entry: string;
  /** The literal folder prefix (the whole path for a literal entry). */
  base: string;
  literal: boolean;
  /** A literal whose last segment names a file: it covers nothing beneath it. */
  file: boolean;
  /** Built on first use by segmentsOf. */
  segments: SegmentPattern[] | undefined;
  /** For globs: the same matcher matchesScope uses, to test a file path in one call. */
  matcher: RegExp | undefined;
}

// Brace groups multiply; a pattern with more alternatives than this is treated as "any string"
// in that segment, which can only over-report an overlap, never hide one.
const MAX_ALTERNATIVES = 256;

function parseClass(body: string): CharToken {
  const negated = body.startsWith('!') || body.startsWith('^');
  const chars = negated ? body.slice(1) : body;
  const ranges: Array<[number, number]> = [];
  for (let i = 0; i < chars.length; i++) {
    const low = chars.charCodeAt(i);
    if (chars[i + 1] === '-' && i + 2 < chars.length) {
      const high = chars.charCodeAt(i + 2);
      ranges.push(low <= high ? [low, high] : [high, low]);
      i += 2;
    } else ranges.push([low, low]);
  }
  return { kind: 'class', negated, ranges };
}

function parseSegment(segment: string): CharToken[][] {
  let alternatives: CharToken[][] = [[]];
  const append = (token: CharToken): void => {
    for (const alternative of alternatives) alternative.push(token);
  };
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i]!;
    if (char === '*') append({ kind: 'star' });
    else if (char === '?') append({ kind: 'any' });
    else if (char === '[') {
      const end = segment.indexOf(']', i + 1);
      if (end < 0) append({ kind: 'char', char });
      else {
        append(parseClass(segment.slice(i + 1, end)));
        i = end;
      }
    } else if (char === '{') {
      const end = segment.indexOf('}', i + 1);
      if (end < 0) append({ kind: 'char', char });
      else {
        const options = segment.slice(i + 1, end).split(',').flatMap(parseSegment);
        if (alternatives.length * options.length > MAX_ALTERNATIVES) {
          alternatives = [[{ kind: 'star' }]];
          return alternatives;
        }
        alternatives = alternatives.flatMap((prefix) => options.map((option) => [...prefix, ...option]));
        i = end;
      }
    } else append({ kind: 'char', char });
  }
  return alternatives;
}

/**
 * A literal entry covers its path and everything beneath it, as matchesScope says. For overlap
 * that would make `src/a.ts` collide with `src/**\/*.test.ts` (through "src/a.ts/x.test.ts"), so
 * a last segment with an extension is taken as a file. Write `dir.v2/**` for a dotted folder.
 */
function looksLikeFile(segment: string): boolean {
  return /^[^.].*\.[^.]+$/.test(segment);
}

/** Compiles a scope entry; throws on an entry scopeEntryProblem rejects (the schema reports those first). */
export function compileScopePattern(rawEntry: string): ScopePattern {
  const entry = normalizeScopeEntry(rawEntry);
  if (!isGlob(entry)) {
    // Literal paths are most entries; only the checks that can apply to them run here.
    if (entry === '' || entry === '.' || entry === '/' || entry.startsWith('!') || entry.includes('/./') || entry.startsWith('./') || entry.endsWith('/.')) {
      throw new Error(`scope entry "${rawEntry}" ${scopeEntryProblem(rawEntry) ?? 'is invalid'}`);
    }
    const last = entry.slice(entry.lastIndexOf('/') + 1);
    return { entry, base: entry, literal: true, file: looksLikeFile(last), segments: undefined, matcher: undefined };
  }
  const problem = scopeEntryProblem(entry);
  if (problem) throw new Error(`scope entry "${rawEntry}" ${problem}`);
  return { entry, base: staticBase(entry), literal: false, file: false, segments: undefined, matcher: globToRegExp(entry) };
}

/** Segment patterns, built on first use: most comparisons never need them. */
function segmentsOf(pattern: ScopePattern): SegmentPattern[] {
  if (pattern.segments) return pattern.segments;
  const parts = pattern.entry.split('/');
  let segments: SegmentPattern[];
  if (pattern.literal) {
    segments = parts.map((text) => ({ kind: 'literal', text }));
    if (!pattern.file) segments.push({ kind: 'globstar' });
  } else {
    segments = parts.map((part) => {
      if (part === '**') return { kind: 'globstar' };
      if (!isGlob(part)) return { kind: 'literal', text: part };
      return { kind: 'glob', alternatives: parseSegment(part) };
    });
  }
  pattern.segments = segments;
  return segments;
}

function classHas(token: { negated: boolean; ranges: Array<[number, number]> }, code: number): boolean {
  const inside = token.ranges.some(([low, high]) => code >= low && code <= high);
  return token.negated ? !inside : inside;
}

function someCodeIn(token: { negated: boolean; ranges: Array<[number, number]> }, accept: (code: number) => boolean): boolean {
  for (const [low, high] of token.ranges) {
    for (let code = low; code <= high && code - low < 0x10000; code++) if (accept(code)) return true;
  }
  return false;
}

function tokensMeet(a: CharToken, b: CharToken): boolean {
  if (a.kind === 'any') return b.kind !== 'class' || b.negated || b.ranges.some(([low, high]) => !(low === 47 && high === 47));
  if (b.kind === 'any') return tokensMeet(b, a);
  if (a.kind === 'char' && b.kind === 'char') return a.char === b.char;
  if (a.kind === 'char' && b.kind === 'class') return classHas(b, a.char.charCodeAt(0));
  if (a.kind === 'class' && b.kind === 'char') return classHas(a, b.char.charCodeAt(0));
  if (a.kind === 'class' && b.kind === 'class') {
    if (a.negated && b.negated) return true;
    const positive = a.negated ? b : a;
    const other = a.negated ? a : b;
    return someCodeIn(positive, (code) => code !== 47 && classHas(other, code));
  }
  return false;
}

/** True when some string is matched by both token sequences (a two-pointer reachability walk). */
function tokenSequencesMeet(a: CharToken[], b: CharToken[]): boolean {
  const width = b.length + 1;
  const reach = new Uint8Array((a.length + 1) * width);
  reach[0] = 1;
  for (let i = 0; i <= a.length; i++) {
    for (let j = 0; j <= b.length; j++) {
      if (!reach[i * width + j]) continue;
      const tokenA = a[i];
      const tokenB = b[j];
      if (tokenA?.kind === 'star') {
        reach[(i + 1) * width + j] = 1;
        if (tokenB) reach[i * width + j + 1] = 1;
      }
      if (tokenB?.kind === 'star') {
        reach[i * width + j + 1] = 1;
        if (tokenA) reach[(i + 1) * width + j] = 1;
      }
      if (tokenA && tokenB && tokenA.kind !== 'star' && tokenB.kind !== 'star' && tokensMeet(tokenA, tokenB)) {
        reach[(i + 1) * width + j + 1] = 1;
      }
    }
  }
  return reach[a.length * width + b.length] === 1;
}

function literalTokens(text: string): CharToken[] {
  return Array.from(text, (char) => ({ kind: 'char' as const, char }));
}

function segmentsMeet(a: SegmentPattern, b: SegmentPattern): boolean {
  if (a.kind === 'literal' && b.kind === 'literal') return a.text === b.text;
  const left = a.kind === 'literal' ? [literalTokens(a.text)] : a.kind === 'glob' ? a.alternatives : [];
  const right = b.kind === 'literal' ? [literalTokens(b.text)] : b.kind === 'glob' ? b.alternatives : [];
  return left.some((x) => right.some((y) => tokenSequencesMeet(x, y)));
}

/** True when both entries can name a common path, whether or not that file exists yet. */
export function patternsOverlap(a: ScopePattern, b: ScopePattern): boolean {
  // Fast path: a literal folder or file whose path prefixes the other's base covers all of it.
  if (a.literal && isPathPrefix(a.base, b.base)) return true;
  if (b.literal && isPathPrefix(b.base, a.base)) return true;
  if (!isPathPrefix(a.base, b.base) && !isPathPrefix(b.base, a.base)) return false;
  // The common case in a real plan, a file against a folder glob, is one regex test.
  if (a.file && b.matcher) return b.matcher.test(a.entry);
  if (b.file && a.matcher) return a.matcher.test(b.entry);
  const sa = segmentsOf(a);
  const sb = segmentsOf(b);
  const width = sb.length + 1;
  const reach = new Uint8Array((sa.length + 1) * width);
  reach[0] = 1;
  for (let i = 0; i <= sa.length; i++) {
    for (let j = 0; j <= sb.length; j++) {
      if (!reach[i * width + j]) continue;
      const segA = sa[i];
      const segB = sb[j];
      if (segA?.kind === 'globstar') {
        reach[(i + 1) * width + j] = 1;
        if (segB) reach[i * width + j + 1] = 1;
      }
      if (segB?.kind === 'globstar') {
        reach[i * width + j + 1] = 1;
        if (segA) reach[(i + 1) * width + j] = 1;
      }
      if (segA && segB && segA.kind !== 'globstar' && segB.kind !== 'globstar' && segmentsMeet(segA, segB)) {
        reach[(i + 1) * width + j + 1] = 1;
      }
    }
  }
  return reach[sa.length * width + sb.length] === 1;
}

/** "a" is "a", "a/b", or any segment-wise prefix of it ("" prefixes everything). */
export function isPathPrefix(prefix: string, path: string): boolean {
  if (prefix === '') return true;
  return path === prefix || (path.startsWith(prefix) && path.charCodeAt(prefix.length) === 47);
}

/** Convenience for one-off checks: do two raw scope entries overlap? */
export function scopeEntriesOverlap(a: string, b: string): boolean {
  return patternsOverlap(compileScopePattern(a), compileScopePattern(b));
}

/**
 * Names what two overlapping entries share, for a person deciding whether the ordering is real:
 * the narrower entry when one contains the other, else both.
 */
export function describeSharedScope(a: ScopePattern, b: ScopePattern): string {
  if (a.entry === b.entry) return a.entry;
  if (a.literal && b.literal) return a.entry.length >= b.entry.length ? a.entry : b.entry;
  if (a.literal !== b.literal) {
    const literal = a.literal ? a : b;
    const glob = a.literal ? b : a;
    if (isPathPrefix(literal.base, glob.base)) return glob.entry;
    if (glob.matcher?.test(literal.entry)) return literal.entry;
    return `${glob.entry} & ${literal.entry}`;
  }
  const [first, second] = a.entry < b.entry ? [a, b] : [b, a];
  return `${first.entry} & ${second.entry}`;
}
