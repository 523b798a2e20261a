// The syntax of one path segment's glob: `*` any run of characters, `?` one character, `[abc]` /
// `[a-z]` classes (`[!…]` or `[^…]` negate), `{a,b}` alternatives (not nested). Text is compared
// by UTF-16 code unit, as a JavaScript RegExp without the u flag does. parseSegment refuses what
// it cannot read one way only; scope-entry.ts words those refusals for people. A segment never
// holds "/", so no token needs to exclude it when matching.

/** Work done, in steps of constant cost (a state visited, a character or class range compared). */
export interface MatchCost {
  steps: number;
}

export type CharToken =
  | { kind: 'char'; code: number }
  | { kind: 'any' }
  /** ranges: sorted, disjoint [low, high] pairs, flattened. */
  | { kind: 'class'; negated: boolean; ranges: number[] };

export type Element = CharToken | { kind: 'star' } | { kind: 'group'; alternatives: Element[][] };

export type SegmentSyntaxError =
  | { kind: 'unclosed-class' }
  | { kind: 'stray-close-class' }
  | { kind: 'empty-class' }
  | { kind: 'reversed-range'; range: string }
  | { kind: 'class-cut-by-braces' }
  | { kind: 'nested-braces' }
  | { kind: 'unclosed-braces' }
  | { kind: 'stray-close-brace' };

function parseClass(body: string): Extract<CharToken, { kind: 'class' }> | SegmentSyntaxError {
  const negated = body.startsWith('!') || body.startsWith('^');
  const chars = negated ? body.slice(1) : body;
  if (chars.length === 0) return { kind: 'empty-class' };
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < chars.length; i++) {
    const low = chars.charCodeAt(i);
    if (chars[i + 1] === '-' && i + 2 < chars.length) {
      const high = chars.charCodeAt(i + 2);
      // A RegExp refuses a reversed range outright; so do we rather than guess.
      if (high < low) return { kind: 'reversed-range', range: chars.slice(i, i + 3) };
      pairs.push([low, high]);
      i += 2;
    } else pairs.push([low, low]);
  }
  pairs.sort((a, b) => a[0] - b[0]);
  const ranges: number[] = [];
  for (const [low, high] of pairs) {
    const last = ranges.length - 1;
    if (last > 0 && low <= ranges[last]! + 1) ranges[last] = Math.max(ranges[last]!, high);
    else ranges.push(low, high);
  }
  return { kind: 'class', negated, ranges };
}

/** Reads one segment (no "/"); consecutive stars are one star. */
export function parseSegment(segment: string): Element[] | SegmentSyntaxError {
  const top: Element[] = [];
  let alternatives: Element[][] | undefined;
  let current = top;
  for (let i = 0; i < segment.length; i++) {
    const char = segment[i]!;
    if (char === '*') {
      if (current[current.length - 1]?.kind !== 'star') current.push({ kind: 'star' });
    } else if (char === '?') current.push({ kind: 'any' });
    else if (char === '[') {
      const end = segment.indexOf(']', i + 1);
      if (end < 0) return { kind: 'unclosed-class' };
      const body = segment.slice(i + 1, end);
      if (alternatives && /[,}]/.test(body)) return { kind: 'class-cut-by-braces' };
      const token = parseClass(body);
      if (token.kind !== 'class') return token;
      current.push(token);
      i = end;
    } else if (char === ']') return { kind: 'stray-close-class' };
    else if (char === '{') {
      if (alternatives) return { kind: 'nested-braces' };
      current = [];
      alternatives = [current];
    } else if (char === '}') {
      if (!alternatives) return { kind: 'stray-close-brace' };
      top.push({ kind: 'group', alternatives });
      alternatives = undefined;
      current = top;
    } else if (char === ',' && alternatives) {
      current = [];
      alternatives.push(current);
    } else current.push({ kind: 'char', code: segment.charCodeAt(i) });
  }
  if (alternatives) return { kind: 'unclosed-braces' };
  return top;
}

export function isSyntaxError(parsed: Element[] | SegmentSyntaxError): parsed is SegmentSyntaxError {
  return !Array.isArray(parsed);
}

export function classHas(ranges: number[], code: number, cost: MatchCost): boolean {
  for (let i = 0; i < ranges.length; i += 2) {
    cost.steps++;
    if (code < ranges[i]!) return false;
    if (code <= ranges[i + 1]!) return true;
  }
  return false;
}

export function accepts(token: CharToken, code: number, cost: MatchCost): boolean {
  if (token.kind === 'char') return token.code === code;
  if (token.kind === 'any') return true;
  return classHas(token.ranges, code, cost) !== token.negated;
}
