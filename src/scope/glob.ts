// Scope globs, compiled by us instead of pulling picomatch in as an undeclared transitive
// dependency. Syntax: `**` any number of path segments, `*` and `?` within one segment,
// `{a,b}` alternatives, `[abc]` classes. A literal entry (no glob characters) names a file or a
// folder: it covers the path itself and everything beneath it.

const GLOB_CHARS = /[*?[\]{}]/;

export function isGlob(entry: string): boolean {
  return GLOB_CHARS.test(entry);
}

const NEEDS_NORMALIZING = /^\s|\s$|\/\/|^\.\/|.\/$/;

/** Drops "./" prefixes, duplicate and trailing slashes. */
export function normalizeScopeEntry(entry: string): string {
  // Most entries are already clean; skip the rewriting (it runs for every entry of every task).
  if (!NEEDS_NORMALIZING.test(entry)) return entry;
  let normalized = entry.trim().replace(/\/{2,}/g, '/');
  while (normalized.startsWith('./')) normalized = normalized.slice(2);
  if (normalized.length > 1 && normalized.endsWith('/')) normalized = normalized.slice(0, -1);
  return normalized;
}

/** The literal folder prefix before the first glob character ("src/api" for "src/api/**\/*.ts"). */
export function staticBase(entry: string): string {
  const segments = normalizeScopeEntry(entry).split('/');
  const literal: string[] = [];
  for (const segment of segments) {
    if (isGlob(segment)) break;
    literal.push(segment);
  }
  return literal.join('/');
}

function escapeRegex(text: string): string {
  return text.replace(/[.+^$()|\\/]/g, '\\$&');
}

function segmentToRegex(segment: string): string {
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i]!;
    if (char === '*') out += '[^/]*';
    else if (char === '?') out += '[^/]';
    else if (char === '[') {
      const end = segment.indexOf(']', i + 1);
      if (end < 0) out += '\\[';
      else {
        const body = segment.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
        out += `[${body}]`;
        i = end;
      }
    } else if (char === '{') {
      const end = segment.indexOf('}', i + 1);
      if (end < 0) out += '\\{';
      else {
        const options = segment.slice(i + 1, end).split(',').map(segmentToRegex);
        out += `(?:${options.join('|')})`;
        i = end;
      }
    } else out += escapeRegex(char);
  }
  return out;
}

export function globToRegExp(entry: string): RegExp {
  const normalized = normalizeScopeEntry(entry);
  if (!isGlob(normalized)) {
    return new RegExp(`^${escapeRegex(normalized)}(?:/.*)?$`);
  }
  const segments = normalized.split('/');
  // "dir/**" also covers "dir" itself, as a folder scope should.
  const trailingAny = segments.length > 1 && segments[segments.length - 1] === '**';
  if (trailingAny) segments.pop();
  let source = '^';
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === '**') {
      source += last ? '.*' : '(?:[^/]+/)*';
    } else {
      source += segmentToRegex(segment) + (last ? '' : '/');
    }
  });
  if (trailingAny) source += '(?:/.*)?';
  return new RegExp(`${source}$`);
}

const compiled = new Map<string, RegExp>();

function compile(entry: string): RegExp {
  let regex = compiled.get(entry);
  if (!regex) {
    regex = globToRegExp(entry);
    compiled.set(entry, regex);
  }
  return regex;
}

/** True when the repo-relative path lies inside any scope entry. */
export function matchesScope(path: string, scope: readonly string[]): boolean {
  const normalized = normalizeScopeEntry(path);
  return scope.some((entry) => compile(entry).test(normalized));
}

/**
 * Why a scope entry cannot be used, or undefined when it can. The schema already rejects empty,
 * absolute, ".." and backslash entries; this catches what only the glob syntax can get wrong, so
 * a typo fails loudly instead of silently matching nothing (or everything).
 */
export function scopeEntryProblem(entry: string): string | undefined {
  const normalized = normalizeScopeEntry(entry);
  if (normalized === '' || normalized === '.' || normalized === '/') return 'names no path (use ** for the whole repository)';
  if (normalized.startsWith('!')) return 'negated entries ("!…") are not supported: list what the task writes';
  for (const segment of normalized.split('/')) {
    if (segment === '.') return 'must not contain "." segments';
    let depth = 0;
    for (let i = 0; i < segment.length; i++) {
      const char = segment[i]!;
      if (char === '[') {
        const end = segment.indexOf(']', i + 1);
        if (end < 0) return 'has a "[" without its "]"';
        if (end === i + 1 || (end === i + 2 && (segment[i + 1] === '!' || segment[i + 1] === '^'))) return 'has an empty character class "[]"';
        i = end;
      } else if (char === ']') return 'has a "]" without its "["';
      else if (char === '{') {
        if (depth > 0) return 'has nested "{" alternatives, which are not supported';
        depth++;
      }
      else if (char === '}') {
        if (depth === 0) return 'has a "}" without its "{"';
        depth--;
      }
    }
    if (depth !== 0) return 'has a "{" without its "}" (alternatives cannot span "/")';
  }
  return undefined;
}
