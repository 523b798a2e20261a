import { globToRegExp, isGlob, normalizeScopeEntry, staticBase, scopeEntryProblem } from './glob.ts';
import { literalTokens, parseSegment, tokenSequencesMeet, type CharToken } from './segment-glob.ts';

// Whether two scope entries can name a common path, decided from the patterns alone: a file that
// does not exist yet is as much at risk as one that does. The semantics are exactly those of
// globToRegExp/matchesScope: `**` is any number of whole segments (also none), `*` and `?` stay
// within one segment, and a literal folder covers its path and everything beneath it (a literal
// whose last segment has an extension is taken as a file; see looksLikeFile).

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
  const entry = normalizeScopeEntry(rawEntry);
  if (!isGlob(entry)) {
    // Literal paths are most entries; only the checks that can apply to them run here.
    if (entry === '' || entry === '.' || entry === '/' || entry.startsWith('!') || entry.includes('/./') || entry.startsWith('./') || entry.endsWith('/.')) {
      throw new Error(`scope entry "${rawEntry}" ${scopeEntryProblem(rawEntry) ?? 'is invalid'}`);
    }
    const last = entry.slice(entry.lastIndexOf('/') + 1);
    return { entry, base: entry, literal: true, file: looksLikeFile(last), segments: undefined, matcher: undefined, coversBase: true, suffix: undefined };
  }
  const problem = scopeEntryProblem(entry);
  if (problem) throw new Error(`scope entry "${rawEntry}" ${problem}`);
  const base = staticBase(entry);
  const rest = base === '' ? entry : entry.slice(base.length + 1);
  const suffix = rest.startsWith('**/*') && !isGlob(rest.slice(4)) && !rest.slice(4).includes('/') ? rest.slice(4) : undefined;
  return { entry, base, literal: false, file: false, segments: undefined, matcher: globToRegExp(entry), coversBase: rest === '**', suffix };
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

function segmentsMeet(a: SegmentPattern, b: SegmentPattern): boolean {
  if (a.kind === 'literal' && b.kind === 'literal') return a.text === b.text;
  const left = a.kind === 'literal' ? [literalTokens(a.text)] : a.kind === 'glob' ? a.alternatives : [];
  const right = b.kind === 'literal' ? [literalTokens(b.text)] : b.kind === 'glob' ? b.alternatives : [];
  return left.some((x) => right.some((y) => tokenSequencesMeet(x, y)));
}

/** True when both entries can name a common path, whether or not that file exists yet. */
export function patternsOverlap(a: ScopePattern, b: ScopePattern): boolean {
  // Fast path: a literal or `dir/**` whose base prefixes the other's base covers all of it.
  if (a.coversBase && isPathPrefix(a.base, b.base)) return true;
  if (b.coversBase && isPathPrefix(b.base, a.base)) return true;
  if (!isPathPrefix(a.base, b.base) && !isPathPrefix(b.base, a.base)) return false;
  // The common case in a real plan, a file against a folder glob, is one test.
  if (a.file && !b.literal) return fileMatches(a.entry, b);
  if (b.file && !a.literal) return fileMatches(b.entry, a);
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

function fileMatches(path: string, glob: ScopePattern): boolean {
  if (glob.suffix !== undefined) {
    return path.endsWith(glob.suffix) && (glob.base === '' || (path.length > glob.base.length && isPathPrefix(glob.base, path)));
  }
  return glob.matcher!.test(path);
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
    if (glob.matcher?.test(literal.entry)) return literal.entry;
    return `${glob.entry} & ${literal.entry}`;
  }
  const [first, second] = a.entry < b.entry ? [a, b] : [b, a];
  return `${first.entry} & ${second.entry}`;
}
