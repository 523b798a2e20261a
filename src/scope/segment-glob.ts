// One path segment's glob (`*`, `?`, `[...]`, `{a,b}`) as token sequences, and whether two such
// segments can match a common name. Same syntax as segmentToRegex in glob.ts.

export type CharToken =
  | { kind: 'char'; char: string }
  | { kind: 'any' }
  | { kind: 'star' }
  | { kind: 'class'; negated: boolean; ranges: Array<[number, number]> };

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

export function parseSegment(segment: string): CharToken[][] {
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
export function tokenSequencesMeet(a: CharToken[], b: CharToken[]): boolean {
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

export function literalTokens(text: string): CharToken[] {
  return Array.from(text, (char) => ({ kind: 'char' as const, char }));
}
