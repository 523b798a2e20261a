import { compileGlob, globMatches, segmentProgram, staticBase, type Glob } from './glob.ts';
import { isGlob, normalizeScopeEntry, scopeEntryProblem } from './scope-entry.ts';
import { matchSegment, type SegmentProgram } from './segment-glob.ts';
import { segmentsIntersect } from './segment-meet.ts';
import type { MatchCost } from './segment-syntax.ts';

// Whether two scope entries can name a common path, decided from the patterns alone: a file that
// does not exist yet is as much at risk as one that does. The semantics are those of
// globMatches/matchesScope: `**` is any number of whole segments (also none), `*` and `?` stay
// within one segment, and a literal folder covers its path and everything beneath it (a literal
// whose last segment has an extension is taken as a file; see looksLikeFile).

type SegmentPattern =
  | { kind: 'globstar' }
  | { kind: 'literal'; text: string }
  | { kind: 'glob'; program: SegmentProgram };

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
  matcher: Glob | undefined;
  /** Covers its base and everything beneath it: a literal, or a glob like `dir/**`. */
  coversBase: boolean;
  /** For `dir/**\/*.ts`-shaped globs: the literal end of the name (".ts"), which decides a file in one test. */
  suffix: string | undefined;
}

/**
 * A literal entry covers its path and everything beneath it, as matchesScope says. For overlap
 * that would make `src/a.ts` collide with `src/**\/*.test.ts` (through "src/a.ts/x.test.ts"), so
 * a last segment with an extension is taken as a file. Write `dir.v2/**` for a dotted folder.
 */
function looksLikeFile(segment: string): boolean {
  return /^[^.].*\.[^.]+$/.test(segment) || WELL_KNOWN_FILES.has(segment);
}

// Files with no extension that every repository has: taken as folders, they would collide with
// every `**/*.ts`-style glob (through "README/x.ts") and serialize unrelated tasks.
const WELL_KNOWN_FILES = new Set([
  'Makefile', 'GNUmakefile', 'Dockerfile', 'Containerfile', 'Jenkinsfile', 'Vagrantfile', 'Procfile', 'Gemfile', 'Rakefile',
  'Brewfile', 'Justfile', 'justfile', 'README', 'LICENSE', 'LICENCE', 'COPYING', 'NOTICE', 'CHANGELOG', 'AUTHORS', 'CONTRIBUTORS',
  'CODEOWNERS', 'VERSION', '.gitignore', '.gitattributes', '.gitmodules', '.editorconfig', '.npmrc', '.nvmrc', '.node-version',
  '.env', '.dockerignore', '.prettierrc', '.eslintrc', '.babelrc', '.mailmap',
]);

/** Compiles a scope entry; throws on an entry scopeEntryProblem rejects (the schema reports those first). */
export function compileScopePattern(rawEntry: string): ScopePattern {
  const problem = scopeEntryProblem(rawEntry);
  if (problem) throw new Error(`scope entry ${JSON.stringify(rawEntry)} ${problem}`);
  const entry = normalizeScopeEntry(rawEntry);
  if (!isGlob(entry)) {
    const last = entry.slice(entry.lastIndexOf('/') + 1);
    return { entry, base: entry, literal: true, file: looksLikeFile(last), segments: undefined, matcher: undefined, coversBase: true, suffix: undefined };
  }
  const base = staticBase(entry);
  const rest = base === '' ? entry : entry.slice(base.length + 1);
  const suffix = rest.startsWith('**/*') && !isGlob(rest.slice(4)) && !rest.slice(4).includes('/') ? rest.slice(4) : undefined;
  return { entry, base, literal: false, file: false, segments: undefined, matcher: compileGlob(entry), coversBase: rest === '**', suffix };
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
      return { kind: 'glob', program: segmentProgram(part) };
    });
  }
  pattern.segments = segments;
  return segments;
}

/** Whether two single-segment patterns (neither a globstar) share a name; costs at most their sizes' product. */
function segmentsMeet(a: SegmentPattern, b: SegmentPattern, cost: MatchCost): boolean {
  if (a.kind === 'literal' && b.kind === 'literal') {
    cost.steps += Math.min(a.text.length, b.text.length) + 1;
    return a.text === b.text;
  }
  if (a.kind === 'literal' && b.kind === 'glob') return matchSegment(b.program, a.text, 0, a.text.length, cost);
  if (a.kind === 'glob' && b.kind === 'literal') return matchSegment(a.program, b.text, 0, b.text.length, cost);
  return a.kind === 'glob' && b.kind === 'glob' && segmentsIntersect(a.program, b.program, cost);
}

const UNCOUNTED: MatchCost = { steps: 0 };

/**
 * True when both entries can name a common path, whether or not that file exists yet. A walk over
 * pairs of segment positions, each visited once, each pair of segments decided on their automata:
 * at most 64 × (length of a + 1) × (length of b + 1) steps (tests/scope/glob.test.ts counts them).
 */
export function patternsOverlap(a: ScopePattern, b: ScopePattern, cost: MatchCost = UNCOUNTED): boolean {
  // Fast path: a literal or `dir/**` whose base prefixes the other's base covers all of it.
  if (a.coversBase && isPathPrefix(a.base, b.base)) return true;
  if (b.coversBase && isPathPrefix(b.base, a.base)) return true;
  if (!isPathPrefix(a.base, b.base) && !isPathPrefix(b.base, a.base)) return false;
  // The common case in a real plan, a file against a folder glob, is one test.
  if (a.file && !b.literal) return fileMatches(a.entry, b, cost);
  if (b.file && !a.literal) return fileMatches(b.entry, a, cost);
  const sa = segmentsOf(a);
  const sb = segmentsOf(b);
  const width = sb.length + 1;
  const reach = new Uint8Array((sa.length + 1) * width);
  reach[0] = 1;
  for (let i = 0; i <= sa.length; i++) {
    for (let j = 0; j <= sb.length; j++) {
      if (!reach[i * width + j]) continue;
      cost.steps++;
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
      if (segA && segB && segA.kind !== 'globstar' && segB.kind !== 'globstar' && segmentsMeet(segA, segB, cost)) {
        reach[(i + 1) * width + j + 1] = 1;
      }
    }
  }
  return reach[sa.length * width + sb.length] === 1;
}

function fileMatches(path: string, glob: ScopePattern, cost: MatchCost): boolean {
  if (glob.suffix !== undefined) {
    cost.steps += glob.suffix.length + glob.base.length + 1;
    return path.endsWith(glob.suffix) && (glob.base === '' || (path.length > glob.base.length && isPathPrefix(glob.base, path)));
  }
  return globMatches(glob.matcher!, path, cost);
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
    // A file overlaps a glob only by being matched by it.
    if (literal.file) return literal.entry;
    if (isPathPrefix(literal.base, glob.base)) return glob.entry;
    if (globMatches(glob.matcher!, literal.entry)) return literal.entry;
    return `${glob.entry} & ${literal.entry}`;
  }
  const [first, second] = a.entry < b.entry ? [a, b] : [b, a];
  return `${first.entry} & ${second.entry}`;
}
