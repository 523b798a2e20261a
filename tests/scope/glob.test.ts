import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../bench/seeded-random.ts';
import { compileGlob, globMatches, matchesScope } from '../../src/scope/glob.ts';
import { compileScopePattern, patternsOverlap } from '../../src/scope/overlap.ts';
import { scopeEntryProblem } from '../../src/scope/scope-entry.ts';
import { compileSegment } from '../../src/scope/segment-glob.ts';
import { segmentsIntersect } from '../../src/scope/segment-meet.ts';
import type { MatchCost } from '../../src/scope/segment-syntax.ts';
import { oracleMatchesScope, oracleSegmentsMeet } from './regex-glob-oracle.ts';

// The matcher walks a path once and keeps the set of live pattern positions instead of
// backtracking. These tests hold it to the old RegExp matcher's answers on generated globs and
// paths, and hold its work, counted in steps, within the bound glob.ts states.

/** glob.ts: at most (path length + 1) × (pattern length + 1) times this, whatever the glob. */
const MATCH_BOUND = 10;
/** overlap.ts: at most (length of a + 1) × (length of b + 1) times this. */
const OVERLAP_BOUND = 64;

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

const SEGMENT_PARTS = ['a', 'b', 'ab', '.', '*', '?', '[ab]', '[!a]', '[a-c]', '[^b]', '{a,b}', '{a,*b,}', '{,.}', '-', ',', '[{]', '[}]', '[,]', '{[a,b]}', '{a,[b-c]}', '{[}]}', '{a[!,]}'];
// Loose characters make the generator try syntax a reader could take two ways; the validation
// must refuse those, and whatever it accepts must match exactly as the old matcher did.
const LOOSE = ['[', ']', '{', '}', ',', '!', '^', '-', 'a', 'b', '*', '?'];

function randomSegment(random: () => number): string {
  const roll = random();
  if (roll < 0.2) return '**';
  if (roll < 0.3) return Array.from({ length: 1 + Math.floor(random() * 5) }, () => pick(random, LOOSE)).join('');
  return Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(random, SEGMENT_PARTS)).join('');
}

function randomGlob(random: () => number): string {
  const segments = Array.from({ length: 1 + Math.floor(random() * 4) }, () => randomSegment(random));
  if (random() < 0.1) segments.unshift('./');
  return segments.join('/') + (random() < 0.05 ? '/' : '');
}

const PATH_CHARS = ['a', 'b', 'c', '.', '-', ',', '!', '^', '[', ']', '{', '}', '*'];

function randomPath(random: () => number): string {
  const depth = 1 + Math.floor(random() * 5);
  const segments = Array.from({ length: depth }, () => Array.from({ length: Math.floor(random() * 4) }, () => pick(random, PATH_CHARS)).join(''));
  return segments.join('/');
}

describe('globMatches agrees with the old RegExp matcher', () => {
  it('on generated globs and paths', () => {
    const random = seededRandom(9);
    let globs = 0;
    let refused = 0;
    let matched = 0;
    const disagreements: string[] = [];
    const shapes = new Map<number, number>();
    while (globs < 1500) {
      const glob = randomGlob(random);
      if (scopeEntryProblem(glob) !== undefined) {
        refused++;
        continue;
      }
      globs++;
      const { shape } = compileGlob(glob);
      shapes.set(shape, (shapes.get(shape) ?? 0) + 1);
      for (let k = 0; k < 40; k++) {
        const path = randomPath(random);
        const expected = oracleMatchesScope(path, [glob]);
        if (expected) matched++;
        if (matchesScope(path, [glob]) !== expected) disagreements.push(`${glob} ${path} (old: ${expected})`);
      }
    }
    expect(disagreements.slice(0, 10)).toStrictEqual([]);
    // The generator reaches both answers and the refusals, or the comparison would prove little.
    expect(matched).toBeGreaterThan(3000);
    expect(refused).toBeGreaterThan(100);
    // Every way globMatches can walk a glob (see the shapes in glob.ts) is exercised.
    expect([...shapes.keys()].sort()).toStrictEqual([0, 1, 2, 3]);
    expect(Math.min(...shapes.values())).toBeGreaterThan(100);
  });

  it('on paths made to match: each glob against strings built from its own parts', () => {
    const random = seededRandom(21);
    let compared = 0;
    let matched = 0;
    for (let n = 0; n < 1500; n++) {
      const glob = randomGlob(random);
      if (scopeEntryProblem(glob) !== undefined) continue;
      // Replace every glob character by something it accepts, so most of these paths match.
      for (let k = 0; k < 10; k++) {
        const path = glob
          .replace(/\*\*/g, () => pick(random, ['a', 'a/b', 'x/y/z']))
          .replace(/\{([^}]*)\}/g, (_, body: string) => pick(random, body.split(',')))
          .replace(/\[!?\^?([^\]]*)\]/g, () => pick(random, ['a', 'b', 'c']))
          .replace(/\*/g, () => pick(random, ['', 'a', 'ba']))
          .replace(/\?/g, () => pick(random, ['a', 'c']));
        const expected = oracleMatchesScope(path, [glob]);
        if (expected) matched++;
        compared++;
        expect([glob, path, matchesScope(path, [glob])]).toStrictEqual([glob, path, expected]);
      }
    }
    expect(compared).toBeGreaterThan(5000);
    expect(matched).toBeGreaterThan(compared / 3);
  });

  it('keeps the documented semantics', () => {
    const cases: Array<[string, string, boolean]> = [
      ['src/api', 'src/api', true],
      ['src/api', 'src/api/deep/x.ts', true],
      ['src/api', 'src/apis/x.ts', false],
      ['src/**', 'src', true],
      ['src/**', 'src/a/b', true],
      ['src/**/*.ts', 'src/a.ts', true],
      ['src/**/*.ts', 'src/a/b/c.ts', true],
      ['src/**/*.ts', 'src/a/b/c.tsx', false],
      ['src/*', 'src/a/b', false],
      ['src/?.ts', 'src/ab.ts', false],
      ['a/**/**', 'a', false],
      ['a/**/**', 'a/b', true],
      ['**', 'anything/at/all', true],
      ['*.{ts,tsx}', 'a.tsx', true],
      ['{a,b}/x', 'c/x', false],
    ];
    expect(cases.map(([glob, path]) => [glob, path, matchesScope(path, [glob])])).toStrictEqual(cases);
  });

  it('keeps a class within one segment, where the old RegExp let "[!x]" match "/"', () => {
    expect(oracleMatchesScope('src/other', ['src[!x]other'], false)).toBe(true);
    expect(matchesScope('src/other', ['src[!x]other'])).toBe(false);
    expect(matchesScope('srcyother', ['src[!x]other'])).toBe(true);
  });
});

describe('segmentsIntersect agrees with the old expanded-alternatives walk', () => {
  it('on generated segment globs', () => {
    const random = seededRandom(5);
    const segments: string[] = [];
    while (segments.length < 250) {
      const segment = randomSegment(random);
      if (segment !== '**' && scopeEntryProblem(segment) === undefined) segments.push(segment);
    }
    const disagreements: string[] = [];
    let meets = 0;
    const cost: MatchCost = { steps: 0 };
    for (let i = 0; i < segments.length; i++) {
      for (let j = i; j < segments.length; j += 3) {
        const expected = oracleSegmentsMeet(segments[i]!, segments[j]!);
        if (expected) meets++;
        if (segmentsIntersect(compileSegment(segments[i]!), compileSegment(segments[j]!), cost) !== expected) disagreements.push(`${segments[i]} ${segments[j]}`);
      }
    }
    expect(disagreements.slice(0, 10)).toStrictEqual([]);
    expect(meets).toBeGreaterThan(1000);
  });
});

function matchCost(glob: string, path: string): { matched: boolean; steps: number; bound: number } {
  const cost: MatchCost = { steps: 0 };
  const matched = globMatches(compileGlob(glob), path, cost);
  return { matched, steps: cost.steps, bound: MATCH_BOUND * (path.length + 1) * (glob.length + 1) };
}

function overlapCost(a: string, b: string): { overlap: boolean; steps: number; bound: number } {
  const cost: MatchCost = { steps: 0 };
  const overlap = patternsOverlap(compileScopePattern(a), compileScopePattern(b), cost);
  return { overlap, steps: cost.steps, bound: OVERLAP_BOUND * (a.length + 1) * (b.length + 1) };
}

describe('matching cost stays within path length × pattern length', () => {
  const deep = (levels: number, name = 'd'): string => Array.from({ length: levels }, (_, i) => `${name}${i}`).join('/');
  const globstars = (count: number, last = 'x'): string => `${'**/'.repeat(count)}${last}`;
  const adversarial: Array<[string, string, string, boolean]> = [
    ['8 globstars, 40 levels, no match', globstars(8), deep(40), false],
    ['12 globstars, 40 levels, no match', globstars(12), deep(40), false],
    ['40 globstars, 200 levels, no match', globstars(40), deep(200), false],
    ['40 globstars, 200 levels, match', globstars(40, 'd199'), deep(200), true],
    ['stars in one segment against a long name', '*a*a*a*a*a*a*a*a*b', 'a'.repeat(2000), false],
    ['stars in every segment of a deep path', `${'*a*a*a*b/'.repeat(30)}x`, Array.from({ length: 31 }, () => 'a'.repeat(60)).join('/'), false],
    ['globstars between star segments', `**/*a*a*b/**/*a*a*b/**/*a*a*b/**/z`, Array.from({ length: 60 }, () => 'aaaaaaab').join('/'), false],
    ['many brace groups in one segment', '{a,b,*}'.repeat(30), 'ab'.repeat(500), true],
    ['brace groups of stars after globstars', `${'**/'.repeat(10)}{*a,*b,*c}{*a,*b,*c}{*a,*b,*c}d`, deep(50, 'abcabc'), false],
    ['classes and questions', `**/${'[a-c]?'.repeat(40)}`, `${deep(20)}/${'ab'.repeat(39)}`, false],
  ];

  it.each(adversarial)('%s', (_name, glob, path, expected) => {
    const { matched, steps, bound } = matchCost(glob, path);
    expect(matched).toBe(expected);
    expect(steps).toBeLessThanOrEqual(bound);
  });

  it('holds the bound on every generated glob and path as well', () => {
    const random = seededRandom(3);
    let worst = 0;
    for (let n = 0; n < 3000; n++) {
      const glob = randomGlob(random);
      if (scopeEntryProblem(glob) !== undefined) continue;
      const { steps, bound } = matchCost(glob, randomPath(random));
      worst = Math.max(worst, steps / bound);
    }
    expect(worst).toBeLessThanOrEqual(1);
  });
});

describe('overlap cost stays within the product of the two entries', () => {
  const adversarial: Array<[string, string, string]> = [
    ['globstars against globstars', `${'**/'.repeat(40)}x`, `${'**/'.repeat(40)}y`],
    ['globstars against star segments', `${'**/'.repeat(30)}*a*a*b`, `${'*a*/'.repeat(30)}*b*b*a`],
    ['star runs in one segment', `**/${'*a'.repeat(200)}*b`, `**/${'*a'.repeat(200)}*c`],
    // 2^20 alternatives if spelled out (the old code gave up above 256 and assumed an overlap).
    ['twenty brace groups each side', `src/${'{a,b}'.repeat(20)}c`, `src/${'{a,c}'.repeat(20)}b`],
    ['negated and positive classes', `**/${'[!a-m]'.repeat(50)}`, `**/${'[a-z0-9]'.repeat(50)}`],
  ];

  it.each(adversarial)('%s', (_name, a, b) => {
    const forward = overlapCost(a, b);
    const backward = overlapCost(b, a);
    expect(forward.overlap).toBe(backward.overlap);
    expect(forward.steps).toBeLessThanOrEqual(forward.bound);
    expect(backward.steps).toBeLessThanOrEqual(backward.bound);
  });

  it('decides twenty brace groups exactly instead of assuming an overlap', () => {
    expect(overlapCost(`src/${'{a,b}'.repeat(20)}c`, `src/${'{a,c}'.repeat(20)}b`).overlap).toBe(false);
    expect(overlapCost(`src/${'{a,b}'.repeat(20)}c`, `src/${'a'.repeat(20)}c`).overlap).toBe(true);
  });
});
