import { describe, expect, it } from 'vitest';
import { matchesScope } from '../../src/scope/glob.ts';
import { compileScopePattern, describeSharedScope, patternsOverlap, scopeEntriesOverlap } from '../../src/scope/overlap.ts';
import { ScopeIndex } from '../../src/scope/scope-index.ts';

describe('scopeEntriesOverlap', () => {
  // [a, b, overlap]: checked in both directions, since overlap is symmetric.
  const table: Array<[string, string, boolean]> = [
    ['src/api/**', 'src/api/auth.ts', true],
    // Well-known files without an extension are files, not folders that every glob reaches into.
    ['README', '**/*.ts', false],
    ['Makefile', 'src/**', false],
    ['Dockerfile', 'Dockerfile', true],
    ['.gitignore', '**/*.md', false],
    ['src/*.ts', 'src/a/b.ts', false],
    ['src/*.ts', 'src/a.ts', true],
    ['src/**/*.ts', 'src/api/**', true],
    ['src/**/*.ts', 'src/api/*.md', false],
    ['src/**/*.ts', 'docs/**', false],
    ['src/api', 'src/api/auth.ts', true],
    ['src/api', 'src/*/x.ts', true],
    ['src/api', 'src/apis/x.ts', false],
    ['src/api', 'src/*.ts', false],
    ['src/a.ts', 'src/a.ts', true],
    ['src/a.ts', 'src/b.ts', false],
    ['src/{a,b}.ts', 'src/b.ts', true],
    ['src/{a,b}.ts', 'src/c.ts', false],
    ['src/[ab].ts', 'src/[bc].ts', true],
    ['src/[a].ts', 'src/[bc].ts', false],
    ['src/[!a].ts', 'src/a.ts', false],
    ['src/[!a].ts', 'src/[!b].ts', true],
    ['src/?.ts', 'src/ab.ts', false],
    ['src/?.ts', 'src/x.ts', true],
    ['**', 'anything/at/all.txt', true],
    ['a/**/b', 'a/b', true],
    ['a/**/b', 'a/x/y/b', true],
    // A literal entry may be a folder: a/x/c/b lies inside it.
    ['a/**/b', 'a/x/c', true],
    ['a/*/b', 'a/x/c', false],
    // ...but a last segment with an extension is taken as a file, which has nothing beneath it.
    ['src/**/*.test.ts', 'src/a.ts', false],
    ['src/**/*.test.ts', 'src/a.test.ts', true],
    ['docs/**/*.md', 'docs/guide', true],
    ['*.json', 'package.json', true],
    ['*.json', 'src/package.json', false],
    ['**/*.json', 'src/package.json', true],
    ['src/*', 'src/a/b.ts', false],
    ['src/**', 'src', true],
    ['src/*.test.ts', 'src/*.spec.ts', false],
    ['src/*.ts', 'src/*.test.ts', true],
    ['src/**/test/*.ts', 'src/x/y/test/z.ts', true],
    ['packages/*/src/**', 'packages/core/src/index.ts', true],
    ['packages/*/src/**', 'packages/core/test/index.ts', false],
    ['./src//api/', 'src/api/x.ts', true],
  ];

  it.each(table)('%s vs %s -> %s', (a, b, expected) => {
    expect([scopeEntriesOverlap(a, b), scopeEntriesOverlap(b, a)]).toStrictEqual([expected, expected]);
  });

  it('agrees with matchesScope whenever one side is a concrete file path', () => {
    const globs = ['src/**', 'src/*.ts', 'src/**/*.ts', 'src/{api,ui}/*.ts', 'src/[a-c]*/**', '**/index.ts', 'src/api', '*.md', '**/*.md', 'src/**/*.test.ts', 'src/api/**', '**'];
    const files = ['src/a.ts', 'src/api/x.ts', 'src/ui/y.ts', 'src/db/z.ts', 'src/api/v1/index.ts', 'README.md', 'docs/x.md', 'src/b.md', 'src/a.test.ts', 'src/api/deep/x.test.ts', 'srcx/a.ts', 'src.ts'];
    const viaOverlap = globs.map((glob) => files.map((file) => scopeEntriesOverlap(glob, file)));
    const viaMatch = globs.map((glob) => files.map((file) => matchesScope(file, [glob])));
    expect(viaOverlap).toStrictEqual(viaMatch);
  });

  it('names the narrower entry as what two overlapping entries share', () => {
    const shared = (a: string, b: string): string => describeSharedScope(compileScopePattern(a), compileScopePattern(b));
    expect([
      shared('src/api/**', 'src/api/auth.ts'),
      shared('src/api', 'src/api/auth.ts'),
      shared('src/api', 'src/api/*.ts'),
      shared('src/**/*.ts', 'src/api/**'),
      shared('package.json', 'package.json'),
    ]).toStrictEqual(['src/api/auth.ts', 'src/api/auth.ts', 'src/api/*.ts', 'src/**/*.ts & src/api/**', 'package.json']);
  });
});

describe('ScopeIndex', () => {
  function naivePairs(entries: string[]): string[] {
    const patterns = entries.map((entry) => compileScopePattern(entry));
    const pairs: string[] = [];
    for (let i = 0; i < patterns.length; i++) {
      for (let j = i + 1; j < patterns.length; j++) if (patternsOverlap(patterns[i]!, patterns[j]!)) pairs.push(`${i}-${j}`);
    }
    return pairs.sort();
  }

  function indexedPairs(entries: string[]): string[] {
    const index = new ScopeIndex();
    for (const entry of entries) index.add(entry);
    const pairs: string[] = [];
    index.forEachOverlap((a, b) => pairs.push(`${Math.min(a, b)}-${Math.max(a, b)}`));
    return pairs.sort();
  }

  it('finds exactly the pairs a full pairwise comparison finds (seeded random entries)', () => {
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const dirs = ['src', 'src/api', 'src/api/v1', 'src/ui', 'docs', 'packages/a/src', 'packages/b/src'];
    const shapes = [
      (d: string) => `${d}/f${random(4)}.ts`,
      (d: string) => `${d}/**`,
      (d: string) => `${d}/*.ts`,
      (d: string) => `${d}/**/*.md`,
      (d: string) => d,
      () => `**/f${random(4)}.ts`,
      () => 'packages/*/src/**',
      () => '*.json',
      () => 'package.json',
    ];
    const entries = [...new Set(Array.from({ length: 120 }, () => shapes[random(shapes.length)]!(dirs[random(dirs.length)]!)))];
    const expected = naivePairs(entries);
    expect(expected.length).toBeGreaterThan(50);
    expect(indexedPairs(entries)).toStrictEqual(expected);
  });

  it('files equivalent spellings of one entry under one id', () => {
    const index = new ScopeIndex();
    expect([index.add('src/api/'), index.add('./src/api'), index.add('src//api'), index.add('src/ui')]).toStrictEqual([0, 0, 0, 1]);
  });
});
