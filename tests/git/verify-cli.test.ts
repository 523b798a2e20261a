import { spawn } from 'node:child_process';
import { existsSync, readFileSync, watch } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { git, gitRepo, writeFiles } from '../helpers/git-repo.ts';
import { progressEvents, runCli } from '../helpers/run-cli.ts';
import { TEST_BUNDLE } from '../helpers/paths.ts';
import { isAlive } from '../helpers/processes.ts';

/** A store with tasks api -> ui (ui depends on api), each done by an agent in its own worktree. */
function projectWithCompletedTasks(): { repo: string; worktrees: Record<string, string> } {
  const repo = gitRepo({ 'src/api/index.ts': 'export const api = 1;\n', 'src/ui/index.ts': 'export const ui = 1;\n', 'README.md': '# app\n' });
  const cli = (args: string[], cwd = repo) => {
    const result = runCli(args, { cwd });
    expect(result.exitCode, `${args.join(' ')}: ${result.stderr}`).toBe(0);
    return result;
  };
  cli(['init']);
  cli(['add', '--id', 'api', '--title', 'API', '--files', 'src/api/**']);
  cli(['add', '--id', 'ui', '--title', 'UI', '--files', 'src/ui/**', '--depends-on', 'api']);
  const worktrees: Record<string, string> = {};
  for (const [id, file] of [['api', 'src/api/index.ts'], ['ui', 'src/ui/index.ts']] as const) {
    const claimed = cli(['claim', '--agent', `agent-${id}`, '--json']).json;
    expect(claimed.task.id).toBe(id);
    const path = cli(['worktree', 'add', '--task', id, '--json']).json.path as string;
    worktrees[id] = path;
    writeFiles(path, { [file]: `export const ${id} = 2;\n` });
    git(path, 'commit', '-qam', `${id} v2`);
    // Evidence is checked against the task's own branch; HEAD means the agent's worktree HEAD.
    const done = cli(['complete', '--agent', `agent-${id}`, '--task', id, '--token', claimed.token, '--commit', 'HEAD', '--json'], path);
    expect(done.json.task.commit).toBe(git(path, 'rev-parse', 'HEAD'));
  }
  return { repo, worktrees };
}

describe('verify through the CLI', () => {
  test('merges completed task branches behind the test gate and offers cleanup', () => {
    const { repo, worktrees } = projectWithCompletedTasks();
    const before = git(repo, 'rev-parse', 'main');
    const result = runCli(['verify', '--test', 'grep -q "api = 2" src/api/index.ts', '--keep-worktrees', '--json'], { cwd: repo });
    expect(result.exitCode, result.stderr).toBe(0);
    // verify --json: the report is stdout's one document; progress events went to stderr.
    const report = result.json;
    const events = progressEvents(result.stderr);
    expect(events.map((line) => line.event)).toEqual(['ownership', 'precheck', 'merged', 'merged', 'test-start', 'test-end', 'test-start', 'test-end']);
    expect(report).toMatchObject({ status: 'merged', order: ['api', 'ui'], target: { branch: 'main', before } });
    expect(report.merged.map((entry: { task: string }) => entry.task)).toEqual(['api', 'ui']);
    expect(report.target.after).toBe(git(repo, 'rev-parse', 'main'));
    expect(readFileSync(join(repo, 'src/ui/index.ts'), 'utf8')).toBe('export const ui = 2;\n');
    expect(report.test).toMatchObject({ exit_code: 0, command: 'grep -q "api = 2" src/api/index.ts' });
    expect(report.cleanup.map((entry: { task: string }) => entry.task)).toEqual(['api', 'ui']);
    expect(existsSync(worktrees.api!)).toBe(true);

    const again = runCli(['verify', '--json'], { cwd: repo });
    expect(again.exitCode).toBe(0);
    expect(again.json).toMatchObject({ status: 'nothing-to-merge' });
    expect(again.json.skipped).toEqual([{ task: 'api', reason: 'already in the target' }, { task: 'ui', reason: 'already in the target' }]);
    // Merged now, so removal needs no --force and the branch goes.
    expect(runCli(['worktree', 'remove', '--task', 'api', '--json'], { cwd: repo }).json).toMatchObject({ branch_deleted: true });
  });

  test("a dependent task's worktree starts from its completed dependencies, and verify merges both", () => {
    const repo = gitRepo({ 'a.txt': 'a\n' });
    runCli(['add', '--id', 'api', '--title', 'API', '--files', 'src/api/**'], { cwd: repo });
    runCli(['add', '--id', 'client', '--title', 'Client', '--files', 'src/client/**', '--depends-on', 'api'], { cwd: repo });
    const api = runCli(['worktree', 'add', '--task', 'api', '--json'], { cwd: repo }).json.path as string;
    const be = runCli(['claim', '--agent', 'be', '--json'], { cwd: repo }).json.token as string;
    writeFiles(api, { 'src/api/index.js': 'exports.api = 1;\n' });
    expect(runCli(['complete', '--agent', 'be', '--task', 'api', '--token', be, '--commit-worktree'], { cwd: repo }).exitCode).toBe(0);

    const added = runCli(['worktree', 'add', '--task', 'client', '--json'], { cwd: repo }).json;
    expect(added.stacked_on).toEqual(['api']);
    expect(existsSync(join(added.path, 'src', 'api', 'index.js'))).toBe(true);
    const fe = runCli(['claim', '--agent', 'fe', '--json'], { cwd: repo }).json.token as string;
    writeFiles(added.path, { 'src/client/index.js': "require('../api');\n" });
    expect(runCli(['complete', '--agent', 'fe', '--task', 'client', '--token', fe, '--commit-worktree'], { cwd: repo }).exitCode).toBe(0);

    const verified = runCli(['verify', '--test', 'test -f src/api/index.js', '--json'], { cwd: repo });
    expect(verified.exitCode).toBe(0);
    expect(verified.json).toMatchObject({ status: 'merged', violations: [] });
    expect(git(repo, 'ls-files', 'src').split('\n')).toEqual(['src/api/index.js', 'src/client/index.js']);
  });

  test('--test-timeout stops the whole test command, including what it started', () => {
    const { repo } = projectWithCompletedTasks();
    const pidFile = join(repo, '.parallel', 'grandchild.pid');
    const result = runCli(['verify', '--test', `sleep 300 & echo $! > '${pidFile}'; wait`, '--test-timeout', '1s', '--json'], { cwd: repo });
    expect(result.exitCode).toBe(1);
    const report = result.json;
    expect(report.status).toBe('stopped');
    expect(JSON.stringify(report.test)).toContain('timed out after 1 s');
    const grandchild = Number(readFileSync(pidFile, 'utf8').trim());
    expect(isAlive(grandchild)).toBe(false);
  });

  test('complete refuses a commit that is not on the task branch', () => {
    const repo = gitRepo({ 'a.txt': 'a\n' });
    runCli(['init'], { cwd: repo });
    runCli(['add', '--id', 'one', '--title', 'One'], { cwd: repo });
    runCli(['add', '--id', 'two', '--title', 'Two'], { cwd: repo });
    const claimed = runCli(['claim', '--agent', 'x', '--json'], { cwd: repo }).json;
    const mine = claimed.task.id as string;
    const other = mine === 'one' ? 'two' : 'one';
    const own = runCli(['worktree', 'add', '--task', mine, '--json'], { cwd: repo }).json.path as string;
    const theirs = runCli(['worktree', 'add', '--task', other, '--json'], { cwd: repo }).json.path as string;
    writeFiles(theirs, { 'b.txt': 'b\n' });
    git(theirs, 'add', '-A');
    git(theirs, 'commit', '-qm', 'work of the other task');
    const foreign = git(theirs, 'rev-parse', 'HEAD');
    const result = runCli(['complete', '--agent', 'x', '--task', mine, '--token', claimed.token, '--commit', foreign, '--json'], { cwd: own });
    expect(result.exitCode).toBe(1);
    expect(result.json.error.code).toBe('E_EVIDENCE');
    expect(result.json.error.message).toContain(`is not on branch parallel/${mine}`);
    expect(runCli(['show', '--task', mine, '--json'], { cwd: repo }).json.task.state).toBe('claimed');
  });

  test('a verify killed between merges leaves target, branches and worktrees as they were', async () => {
    const { repo, worktrees } = projectWithCompletedTasks();
    const snapshot = () => ({
      main: git(repo, 'rev-parse', 'main'),
      branches: git(repo, 'for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads'),
      api: git(worktrees.api!, 'rev-parse', 'HEAD'),
      ui: git(worktrees.ui!, 'rev-parse', 'HEAD'),
      mainFiles: git(repo, 'status', '--porcelain', '--untracked-files=no'),
    });
    const before = snapshot();
    const ready = join(repo, '.parallel', 'test-started');
    // The test command announces itself, then waits to be killed; that is after the first merge.
    // It writes its pid (atomically, through a rename): the test command runs in a process group of
    // its own, which a kill of verify's group does not reach.
    const child = spawn(process.execPath, [TEST_BUNDLE, 'verify', '--test', `echo $$ > '${ready}.tmp' && mv '${ready}.tmp' '${ready}' && exec sleep 600`, '--json'], {
      cwd: repo,
      detached: true,
      stdio: 'ignore',
    });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    await new Promise<void>((resolve) => {
      const watcher = watch(join(repo, '.parallel'), () => {
        if (existsSync(ready)) {
          watcher.close();
          resolve();
        }
      });
      if (existsSync(ready)) {
        watcher.close();
        resolve();
      }
    });
    process.kill(-child.pid!, 'SIGKILL');
    process.kill(-Number(readFileSync(ready, 'utf8').trim()), 'SIGKILL');
    await exited;

    expect(snapshot()).toEqual(before);
    expect(git(repo, 'for-each-ref', 'refs/parallel/integration')).not.toBe('');
    const prune = runCli(['worktree', 'prune', '--json'], { cwd: repo });
    expect(prune.exitCode, prune.stderr).toBe(0);
    expect(prune.json.integration_worktrees_removed).toHaveLength(1);
    expect(git(repo, 'worktree', 'list', '--porcelain')).not.toContain('.integration-');
    expect(prune.json.integration_refs_removed).toHaveLength(1);
    expect(git(repo, 'for-each-ref', 'refs/parallel/integration')).toBe('');

    const rerun = runCli(['verify', '--json'], { cwd: repo });
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    expect(rerun.json.status).toBe('merged');
  });

  test('refuses a target that is not a branch before doing anything (exit 2)', () => {
    const { repo } = projectWithCompletedTasks();
    git(repo, 'tag', 'v1');
    const before = git(repo, 'rev-parse', 'main');
    for (const target of ['main~1', 'v1', before, 'no-such-branch', 'refs/heads/main', 'main:x']) {
      const result = runCli(['verify', '--into', target, '--json'], { cwd: repo });
      expect([target, result.exitCode, result.json?.error?.code]).toStrictEqual([target, 2, 'E_USAGE']);
      expect(result.stderr).toMatch(/is not a branch of .*; name an existing branch/);
    }
    expect(git(repo, 'rev-parse', 'main')).toBe(before);
    expect(git(repo, 'for-each-ref', 'refs/parallel/integration')).toBe('');
  });

  /** A completed api task whose branch later gained a change outside its scope (complete itself refuses one). */
  function driftedAfterCompletion(): string {
    const repo = gitRepo({ 'src/api/index.ts': 'a\n', 'README.md': '# app\n' });
    runCli(['init'], { cwd: repo });
    runCli(['add', '--id', 'api', '--title', 'API', '--files', 'src/api/**'], { cwd: repo });
    const token = runCli(['claim', '--agent', 'a', '--json'], { cwd: repo }).json.token as string;
    const path = runCli(['worktree', 'add', '--task', 'api', '--json'], { cwd: repo }).json.path as string;
    writeFiles(path, { 'src/api/index.ts': 'b\n' });
    git(path, 'commit', '-qam', 'in scope');
    expect(runCli(['complete', '--agent', 'a', '--task', 'api', '--token', token, '--commit', 'HEAD'], { cwd: path }).exitCode).toBe(0);
    writeFiles(path, { 'README.md': '# hijacked\n' });
    git(path, 'commit', '-qam', 'too much');
    return repo;
  }

  test('stops on a scope violation with exit 1 and a readable report', () => {
    const repo = driftedAfterCompletion();
    const before = git(repo, 'rev-parse', 'main');
    const result = runCli(['verify', '--dry-run'], { cwd: repo });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('STOPPED (scope-violations): main left unchanged');
    expect(result.stdout).toContain('violation: api changed 1 file(s) outside its scope: README.md');
    expect(git(repo, 'rev-parse', 'main')).toBe(before);
    const drift = runCli(['verify', '--allow-scope-drift', '--json'], { cwd: repo });
    expect(drift.exitCode).toBe(0);
    expect(drift.json.violations).toEqual([{ task: 'api', files: ['README.md'] }]);
  });

  test('a task verify refuses for scope goes back to failed, its violation the reason, an attempt counted', () => {
    const repo = driftedAfterCompletion();
    const before = git(repo, 'rev-parse', 'main');
    const result = runCli(['verify', '--json'], { cwd: repo });
    expect(result.exitCode).toBe(1);
    expect(result.json.reopened).toEqual([{ task: 'api', state: 'failed', reason: expect.stringMatching(/outside its scope \(README\.md\)/) }]);
    expect(git(repo, 'rev-parse', 'main')).toBe(before);
    const task = runCli(['show', '--task', 'api', '--json'], { cwd: repo }).json.task;
    expect(task).toMatchObject({ state: 'failed', attempts: 1, last_error: expect.stringContaining('README.md') });
    expect(task.commit).toBeUndefined();
    // Claimable again, on the same branch: the next attempt fixes it.
    expect(runCli(['claim', '--agent', 'b', '--json'], { cwd: repo }).json.task.id).toBe('api');
  });
});
