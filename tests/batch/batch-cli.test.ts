// `parallel-agents batch units` as users run it: the bundled CLI in real git repos and folders.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { git, gitRepo, writeFiles } from '../helpers/git-repo.ts';
import { runCli, runCliAsync } from '../helpers/run-cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { TASK_ID_PATTERN } from '../../src/store/task-schema.ts';

// Six folders of sources plus everything a batch must never touch.
const PROJECT: Record<string, string> = {
  'README.md': '# p\n',
  '.gitignore': 'dist/\n*.log\n',
  'src/index.ts': 'export {};\n',
  'src/api/users.ts': 'u\n',
  'src/api/orders.ts': 'o\n',
  'src/api/v2/users.ts': 'u2\n',
  'src/web/app.ts': 'a\n',
  'src/web/view.ts': 'v\n',
  'src/db/schema.ts': 's\n',
  'lib/tools/x.ts': 'x\n',
};

/** Untracked and ignored things on disk, as in a working checkout. */
const IGNORED_ON_DISK: Record<string, string> = {
  'node_modules/pkg/index.ts': 'n\n',
  'src/node_modules/nested/index.ts': 'n\n',
  '_tasks/available/t.md': 't\n',
  '.parallel/worktrees/t/src/api/users.ts': 'copy\n',
  'dist/out.ts': 'built\n',
  'src/debug.log': 'log\n',
};

function gitRepoOutlivingTest(files: Record<string, string>, onCleanup: (fn: () => void) => void): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'pa-batch-')));
  onCleanup(() => {
    if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
  });
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'user.name', 'Test');
  git(dir, 'config', 'user.email', 'test@example.com');
  git(dir, 'config', 'commit.gpgSign', 'false');
  writeFiles(dir, files);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}

function project(): string {
  const dir = gitRepo(PROJECT);
  writeFiles(dir, IGNORED_ON_DISK);
  return dir;
}

// Tests that only read share one repository: a git repo costs several git processes to make, and
// this machine's cores are shared.
let shared: { dir: string; cleanup: () => void } | undefined;
function readOnlyProject(): string {
  if (!shared) {
    let cleanup = (): void => {};
    // tempDir() removes its folder when the test that made it ends; this one must outlive it.
    const dir = gitRepoOutlivingTest(PROJECT, (fn) => (cleanup = fn));
    writeFiles(dir, IGNORED_ON_DISK);
    shared = { dir, cleanup };
  }
  return shared.dir;
}
afterAll(() => shared?.cleanup());

function units(args: string[], cwd: string): any {
  const run = runCli(['batch', 'units', ...args, '--json'], { cwd });
  expect(run.stderr).toBe('');
  expect(run.exitCode).toBe(0);
  return run.json;
}

describe('batch units: finding and grouping', () => {
  it('--json: one document with the units, their files and disjoint write scopes (dir grouping by default)', () => {
    const dir = readOnlyProject();
    const result = units(['--glob', 'src/**/*.ts', '--glob', 'lib/**/*.ts', '--min', '2'], dir);
    expect(result).toEqual({
      schema: 1,
      root: dir,
      group: 'dir',
      globs: ['src/**/*.ts', 'lib/**/*.ts'],
      ignore: [],
      files: 8,
      groups: 6,
      units: [
        { id: 'tools', label: 'lib/tools', groups: ['lib/tools'], files: ['lib/tools/x.ts'], scope: ['lib/tools/**'] },
        { id: 'src', label: 'src', groups: ['src'], files: ['src/index.ts'], scope: ['src/index.ts'] },
        { id: 'api', label: 'src/api', groups: ['src/api'], files: ['src/api/orders.ts', 'src/api/users.ts'], scope: ['src/api/orders.ts', 'src/api/users.ts'] },
        { id: 'v2', label: 'src/api/v2', groups: ['src/api/v2'], files: ['src/api/v2/users.ts'], scope: ['src/api/v2/**'] },
        { id: 'db', label: 'src/db', groups: ['src/db'], files: ['src/db/schema.ts'], scope: ['src/db/**'] },
        { id: 'web', label: 'src/web', groups: ['src/web'], files: ['src/web/app.ts', 'src/web/view.ts'], scope: ['src/web/**'] },
      ],
      warning: null,
      plan: null,
    });
  });

  it('says which files it had to leave out because their name holds a line break', () => {
    const repo = gitRepo({ 'src/a/f.ts': 'f\n', 'src/b/g.ts': 'g\n', 'lib/x\ny.ts': 'x\n' });
    writeFiles(repo, { 'src/c/we\nird.ts': 'w\n' });
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'a name with a line break');
    const result = runCli(['batch', 'units', '--glob', 'src/**', '--min', '1', '--json'], { cwd: repo });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.json.files).toBe(2);
    // Only the one the glob would select is named: lib/ is not part of this batch.
    expect(result.json.warning).toBe('1 file(s) whose name holds a line break were left out (e.g. "src/c/we\\nird.ts"), since no glob or scope can name them; rename them to batch them');
  });

  it('never lists .git, node_modules, _tasks, .parallel, .gitignore-d paths, --ignore matches or symlinks', () => {
    const dir = project();
    const outside = tempDir('pa-outside-');
    writeFiles(outside, { 'secret.ts': 's\n', 'inner/deep.ts': 'd\n' });
    symlinkSync(join(outside, 'secret.ts'), join(dir, 'src', 'linked.ts'));
    symlinkSync(join(outside, 'inner'), join(dir, 'src', 'linked-dir'));
    const all = units(['--glob', '**/*', '--group', 'file', '--max', '100'], dir);
    // Dotfiles are files like any other (.gitignore here).
    expect(all.units.map((unit: any) => unit.files[0])).toEqual([
      '.gitignore', 'README.md', 'lib/tools/x.ts', 'src/api/orders.ts', 'src/api/users.ts', 'src/api/v2/users.ts', 'src/db/schema.ts', 'src/index.ts', 'src/web/app.ts', 'src/web/view.ts',
    ]);
    // A pattern whose folder part runs through a link is read by fast-glob itself: still refused.
    const throughLink = runCli(['batch', 'units', '--glob', 'src/linked-dir/**'], { cwd: dir });
    expect(throughLink.exitCode).toBe(2);
    expect(throughLink.stderr).toMatch(/matched no files/);
    const trimmed = units(['--glob', 'src/**', '--ignore', 'src/api/**', '--ignore', '**/view.ts', '--group', 'file'], dir);
    expect(trimmed.units.map((unit: any) => unit.files[0])).toEqual(['src/db/schema.ts', 'src/index.ts', 'src/web/app.ts']);
  });

  it('honours nested .gitignore files below their folder, and a plain folder name means everything in it', () => {
    const dir = tempDir('pa-nested-');
    writeFiles(dir, {
      'packages/a/.gitignore': 'build/\n/local.ts\n',
      'packages/a/src/x.ts': 'x',
      'packages/a/build/x.js': 'built',
      'packages/a/local.ts': 'mine',
      'packages/b/local.ts': 'kept: the rule is anchored to packages/a',
      'packages/b/build/y.js': 'kept: the rule applies below packages/a only',
    });
    const result = units(['--glob', 'packages', '--group', 'file'], dir);
    expect(result.units.map((unit: any) => unit.files[0])).toEqual(['packages/a/.gitignore', 'packages/a/src/x.ts', 'packages/b/build/y.js', 'packages/b/local.ts']);
  });

  it('in git, ignores what git ignores: nested and negated rules, info/exclude; a tracked file is never ignored', () => {
    const dir = gitRepo({ '.gitignore': '*.log\n!keep.log\n', 'pkg/.gitignore': 'gen/\n', 'pkg/a.ts': 'a\n' });
    writeFiles(dir, { 'pkg/gen/forced.ts': 'tracked\n' });
    git(dir, 'add', '-f', 'pkg/gen/forced.ts');
    git(dir, 'commit', '-q', '-m', 'forced');
    writeFiles(dir, { 'pkg/gen/new.ts': 'ignored\n', 'pkg/keep.log': 'kept\n', 'pkg/drop.log': 'ignored\n', 'scratch/x.ts': 'excluded\n' });
    writeFileSync(join(dir, '.git', 'info', 'exclude'), 'scratch/\n');
    const result = units(['--glob', '**/*.{ts,log}', '--group', 'file'], dir);
    expect(result.units.flatMap((unit: any) => unit.files)).toEqual(['pkg/a.ts', 'pkg/gen/forced.ts', 'pkg/keep.log']);
  });

  it('file: one unit per file, scoped to that file', () => {
    const result = units(['--glob', 'src/web/*.ts', '--group', 'file'], readOnlyProject());
    expect(result.units.map((unit: any) => [unit.id, unit.scope])).toEqual([['app.ts', ['src/web/app.ts']], ['view.ts', ['src/web/view.ts']]]);
    expect(result.warning).toMatch(/^only 2 units \(fewer than --min 5\)/);
  });

  it('dir:N groups by the first N folders and owns the whole subtree', () => {
    const result = units(['--glob', 'src/**/*.ts', '--group', 'dir:2', '--min', '1'], readOnlyProject());
    expect(result.units.map((unit: any) => [unit.id, unit.files.length, unit.scope])).toEqual([
      ['src', 1, ['src/index.ts']],
      ['api', 3, ['src/api/**']],
      ['db', 1, ['src/db/**']],
      ['web', 2, ['src/web/**']],
    ]);
  });

  it('merges the smallest neighbouring groups until within --max, every file kept once', () => {
    const dir = tempDir('pa-many-');
    const files: Record<string, string> = {};
    for (let i = 0; i < 40; i++) files[`pkg/m${String(i).padStart(2, '0')}/index.ts`] = `${i}\n`;
    writeFiles(dir, files);
    const result = units(['--glob', 'pkg/**/*.ts', '--max', '7'], dir);
    expect(result.groups).toBe(40);
    expect(result.units).toHaveLength(7);
    expect(result.units.flatMap((unit: any) => unit.files)).toEqual(Object.keys(files));
    const sizes = result.units.map((unit: any) => unit.files.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(4);
    expect(result.units[0]).toMatchObject({ id: 'm00--m07', label: 'pkg/m00 … pkg/m07', scope: ['pkg/m00/**', 'pkg/m01/**', 'pkg/m02/**', 'pkg/m03/**', 'pkg/m04/**', 'pkg/m05/**', 'pkg/m06/**', 'pkg/m07/**'] });
    expect(result.warning).toBeNull();
  });

  it('ids stay valid and unique when paths differ only in case or punctuation', () => {
    const dir = tempDir('pa-ids-');
    writeFiles(dir, { 'a/Foo.ts': '1', 'a/foo.ts': '2', 'a/f o o.ts': '3', 'a/f-o-o.ts': '4', [`a/${'x'.repeat(90)}.ts`]: '5' });
    const ids: string[] = units(['--glob', 'a/*', '--group', 'file'], dir).units.map((unit: any) => unit.id);
    expect(new Set(ids).size).toBe(5);
    for (const id of ids) expect(id).toMatch(TASK_ID_PATTERN);
  });

  it('lists relative to the repository root from a subfolder, and to the current folder outside git', () => {
    const dir = readOnlyProject();
    expect(units(['--glob', 'src/web/*.ts'], join(dir, 'src', 'api')).units[0].files).toEqual(['src/web/app.ts', 'src/web/view.ts']);
    const plain = tempDir('pa-plain-');
    writeFiles(plain, { 'one/a.md': 'a', 'two/b.md': 'b' });
    const result = units(['--glob', '**/*.md'], plain);
    expect(result.root).toBe(plain);
    expect(result.units.map((unit: any) => unit.id)).toEqual(['one', 'two']);
  });

  it('prints a table without --json', () => {
    const run = runCli(['batch', 'units', '--glob', 'src/**/*.ts', '--group', 'dir:2'], { cwd: readOnlyProject() });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe([
      '4 units from 7 files',
      '',
      '  ID   FILES  WRITE SCOPE',
      '  src      1  src/index.ts',
      '  api      3  src/api/**',
      '  db       1  src/db/**',
      '  web      2  src/web/**',
      '',
      'warning: only 4 units (fewer than --min 5): a fan-out may not pay off; try a finer --group (file, or dir:N with a larger N) or a wider --glob, or do the work in one session',
      '',
    ].join('\n'));
  });

  it('keeps the table short: one line per unit, at most 30 units, long scopes summarized', () => {
    const dir = tempDir('pa-wide-');
    const files: Record<string, string> = {};
    // 40 folders of 5 files; pkg/big holds 200 files in 100 folders plus a README the glob leaves out.
    for (let i = 0; i < 40; i++) for (let f = 0; f < 5; f++) files[`pkg/m${String(i).padStart(2, '0')}/f${f}.ts`] = 'x\n';
    for (let i = 0; i < 100; i++) for (let f = 0; f < 2; f++) files[`big/sub${String(i).padStart(3, '0')}/f${f}.ts`] = 'x\n';
    files['big/README.md'] = '#\n';
    writeFiles(dir, files);
    const run = runCli(['batch', 'units', '--glob', '**/*.ts', '--group', 'file', '--max', '45', '--plan-out', 'p.yaml', '--instruction', 'x'], { cwd: dir });
    expect(run.stderr).toBe('');
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('45 units from 400 files (400 groups merged down to --max)');
    expect(lines.filter((line) => /^  [a-z0-9][a-z0-9._-]*\s+\d+\s+\d+(\.\d+)?[smh]\s+\S/.test(line))).toHaveLength(30);
    expect(run.stdout).toContain('  … 15 more units (every unit, file and scope entry: p.yaml or --json)');
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(160);
    // big/ is not whole (README.md): one entry per subfolder, 100 of them, in one summary.
    const args = ['--glob', 'big/**/*.ts', '--max', '1', '--min', '1'];
    expect(units(args, dir).units[0].scope).toEqual(Array.from({ length: 100 }, (_, i) => `big/sub${String(i).padStart(3, '0')}/**`));
    expect(runCli(['batch', 'units', ...args], { cwd: dir }).stdout).toBe([
      '1 unit from 200 files (100 groups merged down to --max)',
      '',
      '  ID              FILES  WRITE SCOPE',
      '  sub000--sub099    200  big/sub000/** + 99 more (100 folders)',
      '',
      'Every file and scope entry: --json.',
      '',
    ].join('\n'));
  });
});

describe('batch units --plan-out', () => {
  it('writes a plan with one task per unit that plan check accepts as one wave of independent tasks', () => {
    const dir = gitRepo(PROJECT);
    const args = ['--glob', 'src/**/*.ts', '--plan-out', '.parallel/plans/batch-tests.yaml', '--instruction', 'Add unit tests.\nRun "npm test" to check.', '--role', 'qa-engineer', '--estimate', '15m'];
    const result = units(args, dir);
    expect(result.plan).toEqual({ path: '.parallel/plans/batch-tests.yaml', name: 'batch-tests', tasks: 5 });
    const text = readFileSync(join(dir, '.parallel/plans/batch-tests.yaml'), 'utf8');
    expect(text).toContain('name: batch-tests');
    expect(text).toContain('    files:\n      - src/api/v2/**\n');

    const check = runCli(['plan', 'check', '.parallel/plans/batch-tests.yaml', '--json'], { cwd: dir });
    expect(check.stderr).toBe('');
    expect(check.exitCode).toBe(0);
    expect(check.json.edges).toEqual([]);
    expect(check.json.waves).toEqual([result.units.map((unit: any) => unit.id)]);
    // --estimate is for a unit of median size (1 file here): the 2-file units take twice as long.
    expect(check.json.tasks.map((task: any) => [task.id, task.title, task.estimate])).toEqual([
      ['src', 'src (1 file): Add unit tests.', '15m'],
      ['api', 'src/api (2 files): Add unit tests.', '30m'],
      ['v2', 'src/api/v2 (1 file): Add unit tests.', '15m'],
      ['db', 'src/db (1 file): Add unit tests.', '15m'],
      ['web', 'src/web (2 files): Add unit tests.', '30m'],
    ]);
    expect(check.json.critical_path).toMatchObject({ tasks: ['api'], length: { amount: 30 * 60_000, unit: 'ms' }, basis: 'estimate' });
    expect(check.json.total_work).toMatchObject({ amount: 105 * 60_000, unit: 'ms' });

    // What publish turns into task files: the role, the scope and a prompt naming the files.
    const publish = runCli(['plan', 'publish', '.parallel/plans/batch-tests.yaml', '--json'], { cwd: dir });
    expect(publish.exitCode).toBe(0);
    const task = readFileSync(join(dir, '_tasks', 'available', 'api.md'), 'utf8');
    expect(task).toContain('role: "qa-engineer"');
    expect(task).toContain('Add unit tests.\nRun "npm test" to check.');
    expect(task).toContain("Apply it to the 2 files of this task's write scope:\n- src/api/orders.ts\n- src/api/users.ts\n");
  });

  it('writes JSON for a .json file, and --name overrides the name taken from the file', () => {
    const dir = project();
    units(['--glob', 'src/web/*', '--group', 'file', '--plan-out', 'plan.json', '--instruction', 'Lint', '--name', 'web-lint'], dir);
    const plan = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8'));
    expect(plan).toMatchObject({ name: 'web-lint', tasks: [{ id: 'app.ts', files: ['src/web/app.ts'], estimate: '10m' }, { id: 'view.ts', estimate: '10m' }] });
    expect(plan.tasks[0].role).toBeUndefined();
    expect(runCli(['plan', 'check', 'plan.json'], { cwd: dir }).exitCode).toBe(0);
  });

  it('refuses to overwrite an existing plan unless --force', () => {
    const dir = project();
    mkdirSync(join(dir, 'plans'));
    writeFileSync(join(dir, 'plans/batch.yaml'), 'keep me\n');
    const args = ['batch', 'units', '--glob', 'src/**/*.ts', '--plan-out', 'plans/batch.yaml', '--instruction', 'Do it'];
    const refused = runCli(args, { cwd: dir });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toBe('parallel-agents: --plan-out plans/batch.yaml already exists; pass --force to replace it or choose another file\n');
    expect(readFileSync(join(dir, 'plans/batch.yaml'), 'utf8')).toBe('keep me\n');
    expect(runCli([...args, '--force'], { cwd: dir }).exitCode).toBe(0);
    expect(readFileSync(join(dir, 'plans/batch.yaml'), 'utf8')).toContain('name: batch');
  });
});

describe('batch units: bad input is one line, exit 2, naming the flag and the fix', () => {
  // Concurrent: each case is a process that mostly waits on start-up.
  it.concurrent.for([
    { args: [], stderr: /^parallel-agents: missing --glob: name the files the instruction applies to, e\.g\. --glob "src\/\*\*\/\*\.ts"; usage: / },
    { args: ['--glob', '../other/**'], stderr: /^parallel-agents: --glob "\.\.\/other\/\*\*" contains "\.\."; patterns stay inside the repository; usage: / },
    { args: ['--glob', 'src/../../x'], stderr: /^parallel-agents: --glob "src\/\.\.\/\.\.\/x" contains "\.\."/ },
    { args: ['--glob', '/etc/*'], stderr: /^parallel-agents: --glob "\/etc\/\*" is absolute; write it relative to the repository root; usage: / },
    { args: ['--glob', '!src/**'], stderr: /^parallel-agents: --glob "!src\/\*\*" is negated; pass what to leave out as --ignore PATTERN; usage: / },
    { args: ['--glob', 'src/**', '--ignore', '../x'], stderr: /^parallel-agents: --ignore "\.\.\/x" contains "\.\."/ },
    { args: ['--glob', ''], stderr: /^parallel-agents: --glob "" is empty; usage: / },
    { args: ['--glob', 'nothing/**'], stderr: /^parallel-agents: --glob "nothing\/\*\*" matched no files under \S+ \(\*\*\/\.git\/\*\*, \*\*\/node_modules\/\*\*, _tasks\/\*\*, \.parallel\/\*\*, \.gitignore entries and symbolic links are left out\); widen the pattern/ },
    { args: ['--glob', '.git/**'], stderr: /matched no files under/ },
    { args: ['--glob', 'dist/**'], stderr: /matched no files under/ },
    { args: ['--glob', 'src/**', '--group', 'folder'], stderr: /^parallel-agents: --group must be file, dir or dir:N with N >= 1 \(got "folder"\); usage: / },
    { args: ['--glob', 'src/**', '--max', '0'], stderr: /^parallel-agents: --max must be a whole number >= 1 \(got "0"\)\n$/ },
    { args: ['--glob', 'src/**', '--min', '9', '--max', '3'], stderr: /^parallel-agents: --min 9 is larger than --max 3; lower --min or raise --max\n$/ },
    { args: ['--glob', 'src/**', '--plan-out', 'p.yaml'], stderr: /^parallel-agents: --plan-out needs --instruction TEXT \(what every agent must do to its files\); usage: / },
    { args: ['--glob', 'src/**', '--instruction', 'x'], stderr: /^parallel-agents: --instruction only applies with --plan-out FILE; usage: / },
    { args: ['--glob', 'src/**', '--force'], stderr: /^parallel-agents: --force only applies with --plan-out FILE/ },
    { args: ['--glob', 'src/**', '--plan-out', 'p.yaml', '--instruction', 'x', '--role', 'qa engineer'], stderr: /^parallel-agents: --role "qa engineer" is invalid: use a name like backend-developer/ },
    { args: ['--glob', 'src/**', '--plan-out', 'p.yaml', '--instruction', 'x', '--estimate', 'soon'], stderr: /^parallel-agents: --estimate must be a duration such as 90s, 10m or 1\.5h \(got "soon"\)\n$/ },
    { args: ['--glob', 'src/**', '--plan-out', 'p.yaml', '--instruction', 'x', '--name', 'My Plan'], stderr: /^parallel-agents: --name "My Plan" is invalid: use a name like batch-tests/ },
    { args: ['--glob', 'src/**', '--pattern', 'x'], stderr: /^parallel-agents: unknown option --pattern; usage: parallel-agents batch units --glob PATTERN/ },
  ])('$args', async ({ args, stderr }, { expect }) => {
    const dir = readOnlyProject();
    const run = await runCliAsync(['batch', 'units', ...args], { cwd: dir });
    expect(run.exitCode).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(stderr);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(existsSync(join(dir, 'p.yaml'))).toBe(false);
  });

  it('--json reports the error as one JSON document too', () => {
    const run = runCli(['batch', 'units', '--glob', 'nope/*', '--json'], { cwd: readOnlyProject() });
    expect(run.exitCode).toBe(2);
    expect(run.json).toEqual({ error: { code: 'E_USAGE', message: expect.stringMatching(/^--glob "nope\/\*" matched no files/), exit: 2 } });
  });
});
