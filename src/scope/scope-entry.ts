import { isSyntaxError, parseSegment, type SegmentSyntaxError } from './segment-syntax.ts';

// The one answer to "is this a valid scope entry", for every way an entry comes in: `add
// --files`, plan files (and the batch plans written as plan files), task files read from disk
// (all through scopeEntrySchema in src/store/task-schema.ts), and `worktree add --sparse`, which
// adds "no globs" on top. An entry that is refused here never reaches the matcher, so a typo
// fails loudly instead of silently matching nothing, or everything.

const SYNTAX_PROBLEMS: { [K in SegmentSyntaxError['kind']]: (error: Extract<SegmentSyntaxError, { kind: K }>) => string } = {
  'unclosed-class': () => 'has a "[" without its "]": close the character class',
  'stray-close-class': () => 'has a "]" without its "[": remove it, or open the character class with "["',
  'empty-class': () => 'has an empty character class "[]": list at least one character in it',
  'reversed-range': (error) => `has the reversed range "${error.range}" in a "[...]" class: write it low to high (a-z)`,
  'class-cut-by-braces': () => 'has a "[...]" class cut by "," or "}" inside "{...}": keep each class within one alternative',
  'nested-braces': () => 'has nested "{" alternatives: write them flat, as in {a,b,c}',
  'unclosed-braces': () => 'has a "{" without its "}": close it within the same folder (alternatives cannot span "/")',
  'stray-close-brace': () => 'has a "}" without its "{": remove it, or open the alternatives with "{"',
};

const GLOB_CHARS = /[*?[\]{}]/;

export function isGlob(entry: string): boolean {
  return GLOB_CHARS.test(entry);
}

const NEEDS_NORMALIZING = /^\s|\s$|\/\/|^\.\/|.\/$/;

/** Drops surrounding blanks, "./" prefixes, duplicate and trailing slashes. */
export function normalizeScopeEntry(entry: string): string {
  // Most entries are already clean; skip the rewriting (it runs for every entry of every task).
  if (!NEEDS_NORMALIZING.test(entry)) return entry;
  let normalized = entry.trim().replace(/\/{2,}/g, '/');
  while (normalized.startsWith('./')) normalized = normalized.slice(2);
  if (normalized.length > 1 && normalized.endsWith('/')) normalized = normalized.slice(0, -1);
  return normalized;
}

/** Plain folder and file names, most entries: none of the rules below can object to them. */
const PLAIN = /^[\w@+-][\w@+.-]*(?:\/[\w@+-][\w@+.-]*)*$/;

/**
 * Why a scope entry cannot be used, as "<problem>: <fix>", or undefined when it can. Where the
 * entry points is checked first (it holds for literal paths too), then the glob syntax.
 */
export function scopeEntryProblem(entry: string): string | undefined {
  if (PLAIN.test(entry)) return undefined;
  if (entry.length === 0) return 'is empty: name a file, folder or glob relative to the repository root';
  const normalized = normalizeScopeEntry(entry);
  if (normalized.startsWith('/') || /^[A-Za-z]:[\\/]/.test(normalized)) return 'is absolute: write it relative to the repository root';
  if (normalized.split(/[\\/]/).includes('..')) return 'contains "..": a scope stays inside the repository; name the path from its root';
  if (entry.includes('\\')) return 'uses "\\": separate folders with "/"';
  if (normalized === '' || normalized === '.') return 'names no path: write ** for the whole repository';
  if (normalized.startsWith('!')) return 'is negated ("!…"), which scopes do not support: list what the task writes';
  for (const segment of normalized.split('/')) {
    if (segment === '.') return 'has a "." segment: leave it out (a/b, not a/./b)';
    if (!isGlob(segment)) continue;
    const parsed = parseSegment(segment);
    if (isSyntaxError(parsed)) return (SYNTAX_PROBLEMS[parsed.kind] as (error: SegmentSyntaxError) => string)(parsed);
  }
  return undefined;
}

/** `"<entry>" <problem>: <fix>`, the wording every door uses after its own location and field. */
export function scopeEntryMessage(entry: string): string | undefined {
  const problem = scopeEntryProblem(entry);
  return problem === undefined ? undefined : `${JSON.stringify(entry)} ${problem}`;
}

/**
 * Splits a comma-separated list of entries (`add --files a,b`) at the commas outside "{...}",
 * so `src/*.{ts,tsx}` stays one entry; blanks around items and empty items are dropped.
 */
export function splitScopeList(text: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i <= text.length; i++) {
    const char = text[i];
    if (char === '{') depth++;
    else if (char === '}' && depth > 0) depth--;
    else if (i === text.length || (char === ',' && depth === 0)) {
      const item = text.slice(from, i).trim();
      if (item.length > 0) items.push(item);
      from = i + 1;
    }
  }
  return items;
}
