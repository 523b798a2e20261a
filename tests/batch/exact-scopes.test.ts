// Write scopes exactly as wide as the selection, checked file by file against what git lists, on
// a generated monorepo (bench/fixtures/monorepo.ts) whose folders the globs select in part.
import { mkdtempSync, realpathSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fastGlob from 'fast-glob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateMonorepo } from '../../bench/fixtures/monorepo.ts';
import { matchesScope } from '../../src/scope/glob.ts';
import { git, gitRepo, writeFiles } from '../helpers/git-repo.ts';
import { runCli } from '../helpers/run-cli.ts';
import { TASK_ID_PATTERN } from '../../src/store/task-schema.ts';

let repo: string;
let parent: string;
let tracked: string[];

beforeAll(async () => {
  parent = realpathSync(mkdtempSync(join(tmpdir(), 'pa-monorepo-')));
  repo = (await generateMonorepo(join(parent, 'repo'), { files: 1500, megabytes: 3, seed: 3, cache: false })).dir;
  tracked = git(repo, 'ls-files').split('\n');
});
afterAll(() => {
  if (parent && !process.env.KEEP_TEST_DIRS) rmSync(parent, { recursive: true, force: true });
});

function batch(args: string[], cwd = repo): any {
  const run = runCli(['batch', 'units', ...args, '--json'], { cwd });
  expect(run.stderr).toBe('');
  expect(run.exitCode).toBe(0);
  return run.json;
}

function scopesOf(dir: string, args: string[]): string[][] {
  return batch(args, dir).units.map((unit: any) => unit.scope);
}

describe('batch units on a generated monorepo', () => {
  it.each([
    { name: 'part of each folder (.ts, not .tsx, .md or .json)', args: ['--glob', 'packages/**/*.ts'] },
    { name: 'dir:3 with --ignore', args: ['--glob', 'packages/**/*.{ts,tsx,js}', '--ignore', '**/fixtures/*/[a-f]*/**', '--group', 'dir:3', '--max', '12'] },
    { name: 'everything, dotfiles included', args: ['--glob', '**/*', '--max', '30'] },
    { name: 'one unit per file, merged', args: ['--glob', 'packages/*/test/**', '--group', 'file', '--max', '40'] },
  ])('$name: every scope covers its own files and no file another unit holds or the globs left out', ({ args }) => {
    const plan = join(parent, 'plan.yaml');
    const result = batch([...args, '--plan-out', plan, '--instruction', 'Tidy up', '--force']);
    const globs = args.filter((_, i) => args[i - 1] === '--glob');
    const ignore = args.filter((_, i) => args[i - 1] === '--ignore');
    const expected = fastGlob.sync(globs, { cwd: repo, dot: true, ignore: ['**/.git/**', ...ignore] }).filter((file) => tracked.includes(file));
    const owner = new Map<string, string>();
    for (const unit of result.units) for (const file of unit.files) owner.set(file, unit.id);
    expect([...owner.keys()].sort()).toEqual(expected.sort());
    expect(owner.size).toBe(result.files);

    let folderEntries = 0;
    for (const unit of result.units) {
      expect(unit.id).toMatch(TASK_ID_PATTERN);
      folderEntries += unit.scope.filter((entry: string) => entry.endsWith('**')).length;
    }
    for (const file of tracked) {
      const holders = result.units.filter((unit: any) => matchesScope(file, unit.scope)).map((unit: any) => unit.id);
      expect(holders, file).toEqual(owner.has(file) ? [owner.get(file)] : []);
    }
    // Both forms occur: whole folders as dir/**, partly selected ones file by file.
    // File groups always list their files.
    if (args.includes('file')) expect(folderEntries).toBe(0);
    else expect(folderEntries).toBeGreaterThan(0);
    expect(result.units.some((unit: any) => unit.scope.some((entry: string) => !entry.endsWith('**')))).toBe(true);

    const check = runCli(['plan', 'check', plan, '--json'], { cwd: repo });
    expect(check.exitCode).toBe(0);
    expect(check.json.edges).toEqual([]);
    expect(check.json.waves).toEqual([result.units.map((unit: any) => unit.id)]);
  });

  it('selects dotfiles (each package has an .eslintrc.json) and owns whole packages as packages/<name>/**', () => {
    const result = batch(['--glob', 'packages/**', '--group', 'dir:2', '--max', '30']);
    const files = result.units.flatMap((unit: any) => unit.files);
    expect(files.filter((file: string) => file.endsWith('/.eslintrc.json')).length).toBe(tracked.filter((file) => file.endsWith('/.eslintrc.json') && file.startsWith('packages/')).length);
    const packages = result.units.filter((unit: any) => unit.groups.length === 1);
    expect(packages.length).toBeGreaterThan(3);
    for (const unit of packages) expect(unit.scope).toEqual([`${unit.groups[0]}/**`]);
  });
});

describe('batch units: what keeps a folder from being a folder scope', () => {
  it('a file the globs leave out, tracked or untracked, at any depth; not an ignored one', () => {
    const dir = gitRepo({ '.gitignore': '*.log\n', 'src/web/app.ts': 'a\n', 'src/web/view.ts': 'v\n', 'lib/x.ts': 'x\n' });
    const args = ['--glob', 'src/web/**/*.ts', '--min', '1'];
    expect(scopesOf(dir, args)).toEqual([['src/web/**']]);
    writeFiles(dir, { 'src/web/debug.log': 'ignored\n' });
    expect(scopesOf(dir, args)).toEqual([['src/web/**']]);
    writeFiles(dir, { 'src/web/notes.md': 'untracked\n' });
    expect(scopesOf(dir, args)).toEqual([['src/web/app.ts', 'src/web/view.ts']]);
    unlinkSync(join(dir, 'src/web/notes.md'));
    writeFiles(dir, { 'src/web/deep/er/data.json': '{}\n' });
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'data');
    expect(scopesOf(dir, args)).toEqual([['src/web/app.ts', 'src/web/view.ts']]);
    // Selected too, it joins the unit of its own folder: src/web no longer holds only src-web's files.
    expect(scopesOf(dir, ['--glob', 'src/web/**', '--min', '1'])).toEqual([['src/web/app.ts', 'src/web/view.ts'], ['src/web/deep/er/**']]);
    expect(scopesOf(dir, ['--glob', 'src/web/**', '--group', 'dir:2', '--min', '1'])).toEqual([['src/web/**']]);
  });

  it('links, files deleted from or left out of the working tree and an untracked repository are never selected, and keep their folder from a folder scope', () => {
    const dir = gitRepo({ 'a/x.ts': 'x\n', 'b/x.ts': 'x\n', 'c/x.ts': 'x\n', 'c/gone.ts': 'g\n', 'd/x.ts': 'x\n', 'e/x.ts': 'x\n', 'f/sparse/y.ts': 'y\n', 'f/x.ts': 'x\n' });
    // A sparse checkout without f/sparse: git still lists f/sparse/y.ts, marked skip-worktree.
    git(dir, 'sparse-checkout', 'set', '--no-cone', '/*', '!/f/sparse/');
    symlinkSync('x.ts', join(dir, 'a', 'tracked-link.ts'));
    git(dir, 'add', 'a/tracked-link.ts');
    git(dir, 'commit', '-q', '-m', 'link');
    symlinkSync(join(dir, 'e'), join(dir, 'b', 'untracked-link.ts'));
    unlinkSync(join(dir, 'c', 'gone.ts'));
    git(join(dir, 'd'), 'init', '-q', 'inner');
    writeFiles(dir, { 'd/inner/y.ts': 'y\n' });
    const result = batch(['--glob', '**/*.ts', '--min', '1'], dir);
    expect(result.units.map((unit: any) => [unit.id, unit.files, unit.scope])).toEqual([
      ['a', ['a/x.ts'], ['a/x.ts']],
      ['b', ['b/x.ts'], ['b/x.ts']],
      ['c', ['c/x.ts'], ['c/x.ts']],
      ['d', ['d/x.ts'], ['d/x.ts']],
      ['e', ['e/x.ts'], ['e/**']],
      ['f', ['f/x.ts'], ['f/x.ts']],
    ]);
  });

  it('a dotfile is selected like any file, so it does not keep its folder from a folder scope', () => {
    const dir = gitRepo({ 'pkg/a/index.ts': 'i\n', 'pkg/a/.eslintrc.json': '{}\n', 'pkg/b/index.ts': 'i\n' });
    expect(batch(['--glob', 'pkg/**', '--min', '1'], dir).units.map((unit: any) => [unit.id, unit.files, unit.scope])).toEqual([
      ['a', ['pkg/a/.eslintrc.json', 'pkg/a/index.ts'], ['pkg/a/**']],
      ['b', ['pkg/b/index.ts'], ['pkg/b/**']],
    ]);
    expect(scopesOf(dir, ['--glob', 'pkg/**/*.ts', '--min', '1'])).toEqual([['pkg/a/index.ts'], ['pkg/b/**']]);
  });
});

describe('batch units: ids', () => {
  it('stay the same when files are added to the batch, and grow a folder name only on a clash', () => {
    const dir = gitRepo({ 'src/api/a.ts': 'a\n', 'src/web/b.ts': 'b\n', 'lib/tools/c.ts': 'c\n' });
    const ids = (): string[] => batch(['--glob', '**/*.ts', '--min', '1'], dir).units.map((unit: any) => unit.id);
    expect(ids()).toEqual(['tools', 'api', 'web']);
    writeFiles(dir, { 'src/api/more.ts': 'm\n', 'docs/guide/intro.ts': 'i\n', 'src/web/deep/d.ts': 'd\n' });
    expect(ids()).toEqual(['guide', 'tools', 'api', 'web', 'deep']);
    writeFiles(dir, { 'lib/api/e.ts': 'e\n' });
    expect(ids()).toEqual(['guide', 'lib-api', 'tools', 'src-api', 'web', 'deep']);
  });
});
