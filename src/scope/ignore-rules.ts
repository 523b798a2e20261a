// gitignore-style rules ("*.env", "/config/local.json", "secrets/", "!keep.env", "a/**/b"),
// compiled by us: `.worktreeinclude` uses this syntax, and the host reads it with the same rules
// git applies. tests/scope/ignore-rules.test.ts holds the answers to `git check-ignore`'s.

interface Rule {
  regex: RegExp;
  negative: boolean;
  /** A trailing "/": the rule matches folders only. */
  dirOnly: boolean;
}

function escapeChar(char: string): string {
  return /[.+^$()|{}\\/[\]*?]/.test(char) ? `\\${char}` : char;
}

/** One path segment of a pattern ("*.env", "log[0-9]") as a regular expression. */
function segmentSource(segment: string): string {
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i]!;
    if (char === '\\' && i + 1 < segment.length) out += escapeChar(segment[++i]!);
    else if (char === '*') {
      while (segment[i + 1] === '*') i++;
      out += '[^/]*';
    } else if (char === '?') out += '[^/]';
    else if (char === '[') {
      // "[!a]" negates; a "]" right after the opening (or after "!") is a member, as in fnmatch.
      const negated = segment[i + 1] === '!' || segment[i + 1] === '^';
      const first = i + (negated ? 2 : 1);
      const end = segment.indexOf(']', first + 1);
      if (end < 0) out += '\\[';
      else {
        out += `[${negated ? '^' : ''}${segment.slice(first, end).replace(/[\\\]]/g, '\\$&')}]`;
        i = end;
      }
    } else out += escapeChar(char);
  }
  return out;
}

function compileRule(line: string): Rule | undefined {
  let pattern = line;
  let negative = false;
  if (pattern.startsWith('!')) {
    negative = true;
    pattern = pattern.slice(1);
  } else if (pattern.startsWith('\\!') || pattern.startsWith('\\#')) {
    pattern = pattern.slice(1);
  }
  const dirOnly = pattern.endsWith('/');
  pattern = pattern.replace(/\/+$/, '');
  if (pattern === '') return undefined;
  // A "/" at the start or in the middle anchors the pattern to the root; otherwise it may match
  // at any depth.
  const anchored = pattern.includes('/');
  const segments = pattern.replace(/^\//, '').split('/');
  let source = '';
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === '**') {
      if (index === 0) source += last ? '.*' : '(?:.*/)?';
      else if (last) source += '.+';
      else source += '(?:.*/)?';
    } else {
      source += segmentSource(segment) + (last ? '' : '/');
    }
  });
  return { regex: new RegExp(`${anchored ? '^' : '(?:^|/)'}${source}$`), negative, dirOnly };
}

export interface IgnoreRules {
  /** Whether a repository-relative path ("a/b.txt"; "a/b/" for a folder) is matched. */
  ignores(path: string): boolean;
}

/** Lines as in a .gitignore file; blank lines and "#" comments are skipped. */
export function compileIgnoreRules(lines: readonly string[]): IgnoreRules {
  const rules = lines.map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#')).map(compileRule).filter((rule) => rule !== undefined);
  const matches = (path: string, isDir: boolean): boolean => {
    let matched = false;
    for (const rule of rules) {
      if (rule.dirOnly && !isDir) continue;
      if (rule.negative === matched && rule.regex.test(path)) matched = !rule.negative;
    }
    return matched;
  };
  return {
    ignores(path) {
      const isDir = path.endsWith('/');
      const parts = path.replace(/\/+$/, '').split('/');
      // A file inside a matched folder is matched, and no later "!" rule can take it back (git's rule).
      for (let depth = 1; depth < parts.length; depth++) {
        if (matches(parts.slice(0, depth).join('/'), true)) return true;
      }
      return matches(parts.join('/'), isDir);
    },
  };
}
