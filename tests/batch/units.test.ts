// The pure steps of `batch units`: .gitignore translation, path order, grouping, merging,
// ids, write scopes, estimates and titles. The CLI test (batch-cli.test.ts) covers them end to
// end on real repos.
import { describe, expect, it } from 'vitest';
import { shortInstruction, unitEstimates } from '../../src/batch/batch-plan.ts';
import { buildUnits, type BatchUnit } from '../../src/batch/batch-unit.ts';
import { groupFiles, parseGroupMode, type FileGroup } from '../../src/batch/file-group.ts';
import { gitignorePatterns } from '../../src/batch/gitignore-patterns.ts';
import { mergeNeighbours } from '../../src/batch/merge-groups.ts';
import { comparePaths, sortPaths } from '../../src/batch/path-order.ts';
import { summarizeScope } from '../../src/batch/scope-summary.ts';
import { slugForPath, unitIds, type UnitPlace } from '../../src/batch/unit-id.ts';
import { exactEntry } from '../../src/batch/write-scope.ts';
import { planTaskSchema } from '../../src/plan/plan-schema.ts';
import { matchesScope } from '../../src/scope/glob.ts';
import { scopeEntriesOverlap } from '../../src/scope/overlap.ts';
import { validateTaskId } from '../../src/store/task-schema.ts';
import { seededRandom } from '../../bench/seeded-random.ts';

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

  it('sortPaths gives the comparePaths order', () => {
    const random = seededRandom(7);
    const names = ['a', 'a-b', 'a.b', 'b', 'A', '_', '0', 'a b', 'é'];
    const paths = Array.from({ length: 500 }, () => Array.from({ length: 1 + Math.floor(random() * 4) }, () => names[Math.floor(random() * names.length)]).join('/'));
    expect(sortPaths(paths)).toEqual([...paths].sort(comparePaths));
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

  it('merges exactly as a scan of every neighbouring pair per merge would, ties to the leftmost', () => {
    // The plain O(n²) rule the heap replaces, kept here as the reference.
    const reference = (groups: FileGroup[], max: number): string[][] => {
      const runs = groups.map((group) => [group.key]);
      const sizes = groups.map((group) => group.files.length);
      while (runs.length > max) {
        let best = 0;
        for (let i = 1; i < runs.length - 1; i++) if (sizes[i]! + sizes[i + 1]! < sizes[best]! + sizes[best + 1]!) best = i;
        runs.splice(best, 2, [...runs[best]!, ...runs[best + 1]!]);
        sizes.splice(best, 2, sizes[best]! + sizes[best + 1]!);
      }
      return runs;
    };
    const random = seededRandom(11);
    for (let round = 0; round < 200; round++) {
      const groups = sized(Array.from({ length: 1 + Math.floor(random() * 60) }, () => 1 + Math.floor(random() * (round % 2 ? 3 : 40))));
      const max = 1 + Math.floor(random() * 30);
      expect(mergeNeighbours(groups, max).map((run) => run.map((group) => group.key))).toEqual(reference(groups, max));
    }
  });
});

describe('ids', () => {
  it('slugs paths into valid task ids', () => {
    expect(slugForPath('src/api/User Profile.ts')).toBe('src-api-user-profile.ts');
    expect(slugForPath('.github/workflows')).toBe('github-workflows');
    expect(slugForPath('')).toBe('root');
    expect(slugForPath('__/..weird--/')).toBe('weird');
  });

  it('takes the shortest tail of the path that no other unit shares', () => {
    const place = (path: string) => ({ path, keys: [path] });
    expect(unitIds(['packages/vite/src/node', 'packages/vite/src/client', 'packages/vite/src/node/__tests__', 'packages/plugin/src/node', 'lib/__tests__', ''].map(place))).toEqual([
      'vite-src-node', 'client', 'node-tests', 'plugin-src-node', 'lib-tests', 'root',
    ]);
  });

  it('names a merged unit by its folder and the first and last group below it', () => {
    expect(unitIds([
      { path: 'pkg', range: ['m00', 'm07'], keys: ['pkg/m00', 'pkg/m07'] },
      { path: 'src/api', range: ['', 'v2'], keys: ['src/api', 'src/api/v2'] },
      { path: '', range: ['lib', 'src'], keys: ['lib', 'src'] },
      { path: 'other/pkg', range: ['m00', 'm07'], keys: ['other/pkg/m00', 'other/pkg/m07'] },
    ])).toEqual(['pkg-m00--m07', 'api--v2', 'lib--src', 'other-pkg-m00--m07']);
  });

  it('does not change when units elsewhere come and go, unless they clash', () => {
    const place = (path: string) => ({ path, keys: [path] });
    const before = unitIds(['src/api', 'src/web', 'lib/tools'].map(place));
    const after = unitIds(['docs/guide', 'src/api', 'src/web', 'lib/tools', 'test/unit'].map(place));
    expect(after.slice(1, 4)).toEqual(before);
  });

  it('keeps ids valid, unique and at most 64 characters for long and clashing paths', () => {
    const long = `${'deep/'.repeat(30)}file.ts`;
    const places: UnitPlace[] = [long, long.toUpperCase(), `a/${'x'.repeat(90)}.ts`, 'a/Foo.ts', 'a/foo.ts', 'a/f o o.ts', 'a/f-o-o.ts', 'ü/x', 'ö/x'].map((path) => ({ path, keys: [path] }));
    places.push({ path: 'deep', range: ['y'.repeat(80), 'z'.repeat(80)], keys: ['deep/y', 'deep/z'] });
    const ids = unitIds(places);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(validateTaskId(id)).toBe(id);
    // Clashes that only a hash can settle get one that depends on the path alone.
    expect(ids[3]).toMatch(/^a-foo\.ts-[0-9a-f]{6}$/);
    expect(ids[5]).toMatch(/^a-f-o-o\.ts-[0-9a-f]{6}$/);
    expect(unitIds([places[4]!, places[3]!])).toEqual([ids[4], ids[3]]);
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
      const units = buildUnits(groupFiles(FILES, parseGroupMode(mode, 'u')), max, FILES);
      for (const [i, a] of units.entries()) {
        for (const b of units.slice(i + 1)) {
          for (const x of a.scope) for (const y of b.scope) expect(scopeEntriesOverlap(x, y), `${mode}/${max}: ${x} vs ${y}`).toBe(false);
        }
      }
      expect(units.flatMap((unit) => unit.files).sort(comparePaths)).toEqual(FILES);
    }
  });

  it('owns dir/** when every file beneath is its own, else lists its files', () => {
    const units = buildUnits(groupFiles(FILES, parseGroupMode('dir', 'u')), 30, FILES);
    expect(Object.fromEntries(units.map((unit) => [unit.id, unit.scope]))).toEqual({
      root: ['README.md'],
      lib: ['lib/**'],
      src: ['src/index.ts'],
      api: ['src/api/orders.ts', 'src/api/users.ts'],
      v2: ['src/api/v2/**'],
      web: ['src/web/**'],
    });
  });

  it('lists files, not the folder, when the tree holds a file the selection left out, at any depth', () => {
    const tree = [...FILES, 'lib/deep/er/notes.md', 'src/web/.eslintrc.json'];
    const units = buildUnits(groupFiles(FILES, parseGroupMode('dir:1', 'u')), 30, tree);
    expect(units.map((unit) => [unit.id, unit.scope])).toEqual([
      ['root', ['README.md']],
      ['lib', ['lib/a.ts']],
      ['src', ['src/api/**', 'src/index.ts', 'src/web/app.ts']],
    ]);
  });

  it('a merged unit owning a folder and its subfolder keeps only the outer entry', () => {
    const files = ['src/api/a.ts', 'src/api/v2/b.ts', 'web/c.ts', 'web/d.ts', 'web/e.ts'];
    const units = buildUnits(groupFiles(files, parseGroupMode('dir', 'u')), 2, files);
    expect(units.map((unit) => [unit.id, unit.groups, unit.scope])).toEqual([
      ['api--v2', ['src/api', 'src/api/v2'], ['src/api/**']],
      ['web', ['web'], ['web/**']],
    ]);
  });

  it('file groups always list their files', () => {
    const units = buildUnits(groupFiles(['web/c.ts', 'web/d.ts'], parseGroupMode('file', 'u')), 1, ['web/c.ts', 'web/d.ts']);
    expect(units.map((unit) => [unit.id, unit.scope])).toEqual([['c.ts--d.ts', ['web/c.ts', 'web/d.ts']]]);
  });

  it('writes names holding glob characters as entries that match that path alone', () => {
    const names = ['a/[x].ts', 'a/x.ts', 'a/y*.ts', 'a/yz.ts', 'a/{b,c}.ts', 'a/b.ts', 'a/q?.ts', 'a/qq.ts', 'a/w].ts', 'a/wx.ts', 'a/ lead.ts', 'a/back\\slash.ts', 'b[1]/c.ts', 'b1/c.ts'];
    for (const name of names) {
      const entry = exactEntry(name);
      // What plan check accepts as a scope entry.
      expect(planTaskSchema.shape.files.safeParse([entry]).success, entry).toBe(true);
      expect(matchesScope(name, [entry]), entry).toBe(true);
      // "?" stands in where the syntax has no exact form ("]"): only there may a neighbour match too.
      const others = names.filter((other) => other !== name && matchesScope(other, [entry]));
      expect(others, entry).toEqual(name === 'a/w].ts' ? ['a/wx.ts'] : []);
    }
    expect(exactEntry('src/plain-name.ts')).toBe('src/plain-name.ts');
  });
});

describe('estimates and titles', () => {
  const unit = (files: number): BatchUnit => ({ id: `u${files}`, label: 'x', groups: ['x'], files: Array.from({ length: files }, (_, i) => `x/${i}`), scope: ['x/**'] });

  it("scales --estimate (a unit of median size) by each unit's file count", () => {
    expect(unitEstimates([1, 2, 4].map(unit), 600_000)).toEqual(['5m', '10m', '20m']);
    expect(unitEstimates([1, 3, 5, 100].map(unit), 600_000)).toEqual(['2.5m', '7.5m', '12.5m', '4.17h']);
    expect(unitEstimates([1, 1000].map(unit), 60_000)).toEqual(['1s', '2m']);
    expect(unitEstimates([1, 999, 1000].map(unit), 60_000)).toEqual(['1s', '1m', '1m']);
    expect(unitEstimates([10, 20, 60].map(unit), 3_600_000)).toEqual(['30m', '60m', '3h']);
    expect(unitEstimates([7].map(unit), 90_000)).toEqual(['1.5m']);
  });

  it('cuts a long instruction at a word boundary, never inside a word', () => {
    expect(shortInstruction('Add unit tests.\nRun npm test.')).toBe('Add unit tests.');
    const long = 'Replace every call to the deprecated logger with the structured logger and update the tests';
    expect(shortInstruction(long)).toBe('Replace every call to the deprecated logger with the…');
    expect(shortInstruction('x'.repeat(80))).toBe(`${'x'.repeat(59)}…`);
  });

  it('summarizes a long scope in one short line', () => {
    expect(summarizeScope(['src/a.ts', 'src/b/**'])).toBe('src/a.ts, src/b/**');
    const scope = ['src/a.ts', ...Array.from({ length: 300 }, (_, i) => `src/m${i}/**`), ...Array.from({ length: 40 }, (_, i) => `lib/f${i}.ts`)];
    expect(summarizeScope(scope)).toBe('src/a.ts + 340 more (300 folders, 41 files)');
  });
});
