// The scope matcher as it was before src/scope/glob.ts stopped compiling globs to RegExp, kept
// only as a test oracle: it backtracks exponentially on globs like `**/**/**/x`, so tests give it
// small inputs. One deliberate difference, behind `classesSkipSlash`: the old `[!a]` became the
// RegExp `[^a]`, which also matches "/", so `src[!x]*` covered "src/anything"; classes now stay
// within one segment like `*` and `?`. The brace expansion and token walk below are the old
// overlap code (segment-glob.ts), the oracle for segmentsIntersect.

function normalizeScopeEntry(entry: string): string {
  if (!/^\s|\s$|\/\/|^\.\/|.\/$/.test(entry)) return entry;
  let normalized = entry.trim().replace(/\/{2,}/g, '/');
  while (normalized.startsWith('./')) normalized = normalized.slice(2);
  if (normalized.length > 1 && normalized.endsWith('/')) normalized = normalized.slice(0, -1);
  return normalized;
}

const GLOB_CHARS = /[*?[\]{}]/;

function escapeRegex(text: string): string {
  return text.replace(/[.+^$()|\\/]/g, '\\$&');
}

function segmentToRegex(segment: string, classesSkipSlash: boolean): string {
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
        out += classesSkipSlash ? `(?:(?!/)[${body}])` : `[${body}]`;
        i = end;
      }
    } else if (char === '{') {
      const end = segment.indexOf('}', i + 1);
      if (end < 0) out += '\\{';
      else {
        const options = segment.slice(i + 1, end).split(',').map((option) => segmentToRegex(option, classesSkipSlash));
        out += `(?:${options.join('|')})`;
        i = end;
      }
    } else out += escapeRegex(char);
  }
  return out;
}

export function oracleRegExp(entry: string, classesSkipSlash = true): RegExp {
  const normalized = normalizeScopeEntry(entry);
  if (!GLOB_CHARS.test(normalized)) {
    return new RegExp(`^${escapeRegex(normalized)}(?:/.*)?$`);
  }
  const segments = normalized.split('/');
  const trailingAny = segments.length > 1 && segments[segments.length - 1] === '**';
  if (trailingAny) segments.pop();
  let source = '^';
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === '**') {
      source += last ? '.*' : '(?:[^/]+/)*';
    } else {
      source += segmentToRegex(segment, classesSkipSlash) + (last ? '' : '/');
    }
  });
  if (trailingAny) source += '(?:/.*)?';
  return new RegExp(`${source}$`);
}

export function oracleMatchesScope(path: string, scope: readonly string[], classesSkipSlash = true): boolean {
  const normalized = normalizeScopeEntry(path);
  return scope.some((entry) => oracleRegExp(entry, classesSkipSlash).test(normalized));
}

type CharToken =
  | { kind: 'char'; char: string }
  | { kind: 'any' }
  | { kind: 'star' }
  | { kind: 'class'; negated: boolean; ranges: Array<[number, number]> };

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

/** Every alternative of a segment spelled out (the old code capped this at 256). */
export function oracleExpand(segment: string): CharToken[][] {
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
        const options = segment.slice(i + 1, end).split(',').flatMap(oracleExpand);
        alternatives = alternatives.flatMap((prefix) => options.map((option) => [...prefix, ...option]));
        i = end;
      }
    } else append({ kind: 'char', char });
  }
  return alternatives;
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

/** The old answer to "can two segment globs name a common segment". */
export function oracleSegmentsMeet(a: string, b: string): boolean {
  const left = oracleExpand(a);
  const right = oracleExpand(b);
  return left.some((x) => right.some((y) => tokenSequencesMeet(x, y)));
}
