// The pure steps of `batch units`: .gitignore translation, path order, grouping, merging,
// ids and write scopes. The CLI test (batch-cli.test.ts) covers them end to end on real repos.
import { describe, expect, it } from 'vitest';
import { buildUnits } from '../../src/batch/batch-unit.ts';
import { groupFiles, parseGroupMode } from '../../src/batch/file-group.ts';
import { gitignorePatterns } from '../../src/batch/gitignore-patterns.ts';
import { mergeNeighbours } from '../../src/batch/merge-groups.ts';
import { comparePaths } from '../../src/batch/path-order.ts';
import { baseIdForKeys, slugForPath, uniqueIds } from '../../src/batch/unit-id.ts';
import { scopeEntriesOverlap } from '../../src/scope/overlap.ts';
import { validateTaskId } from '../../src/store/task-schema.ts';

const FILES = [
  'README.md',
  'src/index.ts',
  'src/api/users.ts',
  'src/api/orders.ts',
  'src/api/v2/users.ts',
  'src/web/app.ts',
  'lib/a.ts',
].sort(comparePaths);

describe('path order', () => {
  it('keeps everything under a folder together ("-" would sort before "/" as plain text)', () => {
    expect(['src/a/x.ts', 'src/a-b/y.ts', 'src/a.ts', 'src/a/b/z.ts'].sort(comparePaths)).toEqual(['src/a/b/z.ts', 'src/a/x.ts', 'src/a-b/y.ts', 'src/a.ts']);
    expect(['src/a/x.ts', 'src/a-b/y.ts', 'src/a/b/z.ts'].sort()).toEqual(['src/a-b/y.ts', 'src/a/b/z.ts', 'src/a/x.ts']);
  });
});

describe('grouping', () => {
  it('file: one group per file', () => {
    expect(groupFiles(FILES, parseGroupMode('file', 'u')).map((group) => group.key)).toEqual(FILES);
  });

  it('dir: one group per parent folder, the root as ""', () => {
    const groups = groupFiles(FILES, parseGroupMode('dir', 'u'));
    expect(groups.map((group) => [group.key, group.files])).toEqual([
      ['', ['README.md']],
      ['lib', ['lib/a.ts']],
      ['src', ['src/index.ts']],
      ['src/api', ['src/api/orders.ts', 'src/api/users.ts']],
      ['src/api/v2', ['src/api/v2/users.ts']],
      ['src/web', ['src/web/app.ts']],
    ]);
  });

  it('dir:N: by the first N folders; shallower files stay with their own folder', () => {
    expect(groupFiles(FILES, parseGroupMode('dir:1', 'u')).map((group) => [group.key, group.files.length])).toEqual([['', 1], ['lib', 1], ['src', 5]]);
    expect(groupFiles(FILES, parseGroupMode('dir:2', 'u')).map((group) => [group.key, group.files.length])).toEqual([['', 1], ['lib', 1], ['src', 1], ['src/api', 3], ['src/web', 1]]);
  });

  it.each(['dirs', 'dir:0', 'dir:x', 'file:2', ''])('rejects --group "%s"', (text) => {
    expect(() => parseGroupMode(text, 'usage')).toThrow(/--group must be file, dir or dir:N/);
  });
});

describe('merging down to --max', () => {
  const sized = (sizes: number[]) => sizes.map((size, index) => ({ key: `g${index}`, kind: 'dir' as const, files: Array.from({ length: size }, (_, n) => `g${index}/${n}`) }));

  it('joins the neighbouring pair with the fewest files first, keeping path order', () => {
    const runs = mergeNeighbours(sized([5, 1, 1, 5, 2, 2]), 4);
    expect(runs.map((run) => run.map((group) => group.key))).toEqual([['g0'], ['g1', 'g2'], ['g3'], ['g4', 'g5']]);
  });

  it('leaves groups alone when already within the limit, and can go down to one', () => {
    expect(mergeNeighbours(sized([1, 2, 3]), 3)).toHaveLength(3);
    expect(mergeNeighbours(sized([1, 2, 3]), 1).map((run) => run.length)).toEqual([3]);
  });
});

describe('ids', () => {
  it('slugs group paths into valid task ids', () => {
    expect(slugForPath('src/api/User Profile.ts')).toBe('src-api-user-profile.ts');
    expect(slugForPath('.github/workflows')).toBe('github-workflows');
    expect(slugForPath('')).toBe('root');
    expect(slugForPath('__/..weird--/')).toBe('weird');
    expect(baseIdForKeys(['src/a', 'src/c'])).toBe('src-a--src-c');
  });

  it('keeps ids unique and at most 64 characters, even for long and clashing paths', () => {
    const long = `${'deep/'.repeat(30)}file.ts`;
    const ids = uniqueIds([baseIdForKeys([long]), baseIdForKeys([long.toUpperCase()]), baseIdForKeys([long, `${long}x`]), 'a', 'a', 'a-2']);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(validateTaskId(id)).toBe(id);
    expect(ids.slice(3)).toEqual(['a', 'a-2', 'a-2-2']);
  });
});

describe('gitignore translation', () => {
  it('anchors entries with a slash, matches bare names at any depth, skips negations and comments', () => {
    expect(gitignorePatterns('# build\n/dist/\ncoverage\n*.log\ndocs/generated\n!keep.log\n\n')).toEqual([
      'dist', 'dist/**', '**/coverage', '**/coverage/**', '**/*.log', '**/*.log/**', 'docs/generated', 'docs/generated/**',
    ]);
  });

  it('a nested .gitignore applies below its own folder', () => {
    expect(gitignorePatterns('/out\ntmp/\n', 'packages/a')).toEqual(['packages/a/out', 'packages/a/out/**', 'packages/a/**/tmp', 'packages/a/**/tmp/**']);
  });
});

describe('write scopes', () => {
  it('gives every unit a scope that overlaps no other unit, so the tasks can all run at once', () => {
    for (const [mode, max] of [['dir', 30], ['dir', 3], ['dir:1', 30], ['dir:2', 2], ['file', 30], ['file', 3]] as const) {
      const units = buildUnits(groupFiles(FILES, parseGroupMode(mode, 'u')), max);
      for (const [i, a] of units.entries()) {
        for (const b of units.slice(i + 1)) {
          for (const x of a.scope) for (const y of b.scope) expect(scopeEntriesOverlap(x, y), `${mode}/${max}: ${x} vs ${y}`).toBe(false);
        }
      }
      expect(units.flatMap((unit) => unit.files).sort(comparePaths)).toEqual(FILES);
    }
  });

  it('owns dir/** when no other unit lives beneath, else lists its files', () => {
    const units = buildUnits(groupFiles(FILES, parseGroupMode('dir', 'u')), 30);
    expect(Object.fromEntries(units.map((unit) => [unit.id, unit.scope]))).toEqual({
      root: ['README.md'],
      lib: ['lib/**'],
      src: ['src/index.ts'],
      'src-api': ['src/api/orders.ts', 'src/api/users.ts'],
      'src-api-v2': ['src/api/v2/**'],
      'src-web': ['src/web/**'],
    });
  });

  it('a merged unit owning a folder and its subfolder keeps only the outer entry', () => {
    const files = ['src/api/a.ts', 'src/api/v2/b.ts', 'web/c.ts', 'web/d.ts', 'web/e.ts'];
    const units = buildUnits(groupFiles(files, parseGroupMode('dir', 'u')), 2);
    expect(units.map((unit) => [unit.id, unit.groups, unit.scope])).toEqual([
      ['src-api--src-api-v2', ['src/api', 'src/api/v2'], ['src/api/**']],
      ['web', ['web'], ['web/**']],
    ]);
  });
});
