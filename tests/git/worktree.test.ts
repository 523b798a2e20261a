import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { git, gitRepo, writeFiles } from '../helpers/git-repo.ts';
import { runCli, runCliAsync } from '../helpers/run-cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { commitOnBranch } from './task-branches.ts';

describe('worktree add', () => {
  test('creates a branch and worktree inside the project, hidden from git, and records it', () => {
    const repo = gitRepo({ 'src/a.ts': 'a\n', 'docs/b.md': 'b\n' });
    const base = git(repo, 'rev-parse', 'HEAD');
    const result = runCli(['worktree', 'add', '--task', 'api-1', '--json'], { cwd: repo });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.json).toMatchObject({ task: 'api-1', branch: 'parallel/api-1', base, path: join(repo, '.parallel', 'worktrees', 'api-1') });
    const path = result.json.path as string;
    expect(readFileSync(join(path, 'src/a.ts'), 'utf8')).toBe('a\n');
    expect(git(path, 'status', '--porcelain')).toBe('');
    expect(git(path, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('parallel/api-1');
    // The main worktree does not see the nested worktree folder.
    expect(git(repo, 'status', '--porcelain', '--untracked-files=all')).not.toContain('.parallel');
    const record = JSON.parse(readFileSync(join(repo, '_tasks', 'worktrees', 'api-1.json'), 'utf8'));
    expect(record).toMatchObject({ task: 'api-1', branch: 'parallel/api-1', base, path });

    const again = runCli(['worktree', 'add', '--task', 'api-1', '--json'], { cwd: repo });
    expect(again.exitCode).toBe(2);
    expect(again.json.error.code).toBe('E_EXISTS');

    const list = runCli(['worktree', 'list', '--json'], { cwd: path });
    expect(list.exitCode).toBe(0);
    expect(list.json.worktrees).toMatchObject([{ task: 'api-1', head: base, registered: true, missing: false }]);
  });

  test('honours --base, PARALLEL_WORKTREES_DIR and --sparse', () => {
    const repo = gitRepo({ 'src/a.ts': 'a\n', 'docs/b.md': 'b\n' });
    git(repo, 'checkout', '-q', '-b', 'feature');
    writeFiles(repo, { 'src/a.ts': 'feature\n' });
    git(repo, 'commit', '-qam', 'feature');
    git(repo, 'checkout', '-q', 'main');
    const result = runCli(['worktree', 'add', '--task', 'ui', '--base', 'feature', '--sparse', 'src', '--json'], {
      cwd: repo,
      env: { PARALLEL_WORKTREES_DIR: 'agents-wt' },
    });
    expect(result.exitCode, result.stderr).toBe(0);
    const path = result.json.path as string;
    expect(path).toBe(join(repo, 'agents-wt', 'ui'));
    expect(result.json.base).toBe(git(repo, 'rev-parse', 'feature'));
    expect(readFileSync(join(path, 'src/a.ts'), 'utf8')).toBe('feature\n');
    expect(existsSync(join(path, 'docs'))).toBe(false);
    // Sparse, yet git sees nothing deleted (the --no-checkout empty-index trap).
    expect(git(path, 'status', '--porcelain')).toBe('');
    expect(git(repo, 'status', '--porcelain', '--untracked-files=all')).not.toContain('agents-wt');

    const bad = runCli(['worktree', 'add', '--task', 'x', '--sparse', '../up', '--json'], { cwd: repo });
    expect(bad.exitCode).toBe(2);
    const badId = runCli(['worktree', 'add', '--task', '../evil', '--json'], { cwd: repo });
    expect(badId.json.error.code).toBe('E_INVALID');
  });

  test.each([
    ['the store', ['init']],
    ['the first worktree', ['worktree', 'add', '--task', 'api']],
  ])('%s hides the whole .parallel/ folder, where the flow writes its plans, and the store, once', (_what, first) => {
    const repo = gitRepo({ 'src/a.ts': 'a\n' });
    writeFiles(repo, { '.parallel/plans/feature.yaml': 'name: feature\ntasks: []\n' });
    expect(git(repo, 'status', '--porcelain', '--untracked-files=all')).toBe('?? .parallel/plans/feature.yaml');
    expect(runCli(first, { cwd: repo }).exitCode).toBe(0);
    expect(git(repo, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    // What comes next (init again, or after a worktree) adds nothing twice.
    expect(runCli(['init'], { cwd: repo }).exitCode).toBe(0);
    const lines = readFileSync(join(repo, '.git', 'info', 'exclude'), 'utf8').split('\n').filter((line) => line.startsWith('/'));
    expect(lines.sort()).toEqual(['/.parallel/', '/_tasks/']);
  });

  test("refuses a parallel/<id> branch it did not keep itself: the user's branch is not adopted", () => {
    const repo = gitRepo({ 'src/a.ts': 'a\n' });
    const userCommit = commitOnBranch(repo, 'parallel/api', { 'src/a.ts': 'half done\n' });
    const refused = runCli(['worktree', 'add', '--task', 'api', '--json'], { cwd: repo });
    expect(refused.exitCode).toBe(2);
    expect(refused.json.error).toMatchObject({ code: 'E_EXISTS', branch: 'parallel/api' });
    expect(refused.json.error.message).toContain('git branch -m parallel/api');
    expect(git(repo, 'rev-parse', 'parallel/api')).toBe(userCommit);
    expect(existsSync(join(repo, '.parallel', 'worktrees', 'api'))).toBe(false);
    git(repo, 'branch', '-m', 'parallel/api', 'mine');
    const fresh = runCli(['worktree', 'add', '--task', 'api', '--json'], { cwd: repo });
    expect(fresh.exitCode, fresh.stderr).toBe(0);
    expect(git(fresh.json.path, 'rev-parse', 'HEAD')).toBe(git(repo, 'rev-parse', 'main'));
  });

  test('16 concurrent worktree add calls all succeed', async () => {
    const repo = gitRepo({ 'src/a.ts': 'a\n', 'docs/b.md': 'b\n' });
    const ids = Array.from({ length: 16 }, (_, i) => `task-${String(i).padStart(2, '0')}`);
    // Half of them sparse: unlocked, concurrent `git sparse-checkout set` calls in fresh worktrees
    // fail (3 of 16 did here with plain git), because they rewrite the shared config.
    const runs = await Promise.all(
      ids.map((id, i) => runCliAsync(['worktree', 'add', '--task', id, ...(i % 2 ? ['--sparse', 'src'] : []), '--json'], { cwd: repo })),
    );
    for (const run of runs) expect(run.exitCode, run.stderr).toBe(0);
    const branches = git(repo, 'branch', '--list', 'parallel/*', '--format=%(refname:short)').split('\n').sort();
    expect(branches).toEqual(ids.map((id) => `parallel/${id}`));
    const worktrees = git(repo, 'worktree', 'list', '--porcelain').split('\n').filter((line) => line.startsWith('worktree ')).length;
    expect(worktrees).toBe(17);
    for (const id of ids) expect(git(join(repo, '.parallel', 'worktrees', id), 'status', '--porcelain')).toBe('');
    // Sixteen writers under the repository lock, one line: the whole runtime folder, worktrees and plans.
    expect(readFileSync(join(repo, '.git', 'info', 'exclude'), 'utf8').split('\n').filter((line) => line.includes('.parallel'))).toEqual(['/.parallel/']);
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });
});

test('waits for the repository lock and gives up with a clear error when it is never released', () => {
  const repo = gitRepo({ 'src/a.ts': 'a\n' });
  // A live holder's lock (fresh mtime): another parallel-agents call is mid-way through a git change.
  mkdirSync(join(repo, '.git', 'parallel-agents.lock'));
  const blocked = runCli(['worktree', 'add', '--task', 'late', '--json'], { cwd: repo, env: { PARALLEL_LOCK_WAIT_MS: '300' } });
  expect(blocked.exitCode).toBe(1);
  expect(blocked.json.error.code).toBe('E_GIT');
  expect(blocked.json.error.message).toContain('timed out waiting for the repository lock');
  expect(git(repo, 'branch', '--list', 'parallel/late')).toBe('');
  rmdirSync(join(repo, '.git', 'parallel-agents.lock'));
  expect(runCli(['worktree', 'add', '--task', 'late'], { cwd: repo }).exitCode).toBe(0);
});

describe('worktree remove', () => {
  test('adopts a worktree that git made but a crash left without its record', () => {
    const repo = gitRepo({ 'src/a.ts': 'a\n' });
    runCli(['add', '--id', 'crashed', '--title', 'Crashed'], { cwd: repo });
    // What a kill -9 between `git worktree add` and the record leaves behind.
    git(repo, 'worktree', 'add', '-q', '--no-checkout', '-b', 'parallel/crashed', join(repo, '.parallel', 'worktrees', 'crashed'));
    const adopted = runCli(['worktree', 'add', '--task', 'crashed', '--json'], { cwd: repo });
    expect(adopted.exitCode, adopted.stderr).toBe(0);
    expect(adopted.json).toMatchObject({ task: 'crashed', branch: 'parallel/crashed' });
    expect(existsSync(join(adopted.json.path, 'src', 'a.ts'))).toBe(true);
    expect(git(adopted.json.path, 'status', '--porcelain')).toBe('');
    expect(runCli(['worktree', 'list', '--json'], { cwd: repo }).json.worktrees.map((w: { task: string }) => w.task)).toEqual(['crashed']);
  });

  test('counts commits made on a detached HEAD in the worktree, and keeps them when forced', () => {
    const repo = gitRepo({ 'src/a.ts': 'a\n' });
    const path = runCli(['worktree', 'add', '--task', 'd1', '--json'], { cwd: repo }).json.path as string;
    git(path, 'checkout', '-q', '--detach');
    writeFiles(path, { 'src/a.ts': 'detached work\n' });
    git(path, 'commit', '-qam', 'detached work');
    const detached = git(path, 'rev-parse', 'HEAD');

    const refused = runCli(['worktree', 'remove', '--task', 'd1', '--json'], { cwd: repo });
    expect(refused.exitCode).toBe(1);
    expect(refused.json.error).toMatchObject({ code: 'E_REFUSED', unmerged_commits: 1 });
    expect(refused.json.error.message).toContain("detached HEAD");

    const forced = runCli(['worktree', 'remove', '--task', 'd1', '--force', '--json'], { cwd: repo });
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect((forced.json.backup_refs as string[]).some((ref) => git(repo, 'rev-parse', ref) === detached)).toBe(true);
  });

  test('refuses unmerged or uncommitted work; --force keeps it behind backup refs', () => {
    const repo = gitRepo({ 'src/a.ts': 'a\n' });
    const add = runCli(['worktree', 'add', '--task', 'w1', '--json'], { cwd: repo });
    const path = add.json.path as string;
    writeFiles(path, { 'src/a.ts': 'changed\n' });
    git(path, 'commit', '-qam', 'work');
    const workCommit = git(path, 'rev-parse', 'HEAD');
    writeFileSync(join(path, 'notes.txt'), 'uncommitted\n');

    const refused = runCli(['worktree', 'remove', '--task', 'w1', '--json'], { cwd: repo });
    expect(refused.exitCode).toBe(1);
    expect(refused.json.error).toMatchObject({ code: 'E_REFUSED', unmerged_commits: 1, uncommitted: ['notes.txt'] });
    expect(existsSync(path)).toBe(true);

    const forced = runCli(['worktree', 'remove', '--task', 'w1', '--force', '--json'], { cwd: repo });
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(forced.json).toMatchObject({ branch_deleted: false, unmerged_commits: 1 });
    expect(existsSync(path)).toBe(false);
    // The branch with unmerged commits is never deleted, and both the commits and the uncommitted
    // file are reachable from backup refs.
    expect(git(repo, 'rev-parse', 'parallel/w1')).toBe(workCommit);
    const refs = forced.json.backup_refs as string[];
    expect(refs).toHaveLength(2);
    for (const ref of refs) expect(ref.startsWith('refs/parallel/backup/w1/')).toBe(true);
    const snapshot = refs.find((ref) => ref.endsWith('-uncommitted'))!;
    expect(git(repo, 'show', `${snapshot}:notes.txt`)).toBe('uncommitted');
    expect(git(repo, 'rev-parse', `${snapshot}^`)).toBe(workCommit);
    expect(refs.some((ref) => git(repo, 'rev-parse', ref) === workCommit)).toBe(true);

    const listed = runCli(['worktree', 'list', '--json'], { cwd: repo }).json;
    expect(listed.backups.map((backup: { ref: string }) => backup.ref).sort()).toEqual([...refs].sort());

    // The kept branch can be resumed in a new worktree.
    const resumed = runCli(['worktree', 'add', '--task', 'w1', '--json'], { cwd: repo });
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(git(resumed.json.path, 'rev-parse', 'HEAD')).toBe(workCommit);
    // Resumed, the branch is in use again: its kept mark is gone.
    expect(git(repo, 'for-each-ref', 'refs/parallel/kept/')).toBe('');
  });

  test('removes a clean, merged worktree and deletes its branch; prune forgets vanished folders', () => {
    const repo = gitRepo({ 'src/a.ts': 'a\n' });
    runCli(['worktree', 'add', '--task', 'm1'], { cwd: repo });
    const removed = runCli(['worktree', 'remove', '--task', 'm1', '--json'], { cwd: repo });
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(removed.json).toMatchObject({ branch_deleted: true, backup_refs: [] });
    expect(git(repo, 'branch', '--list', 'parallel/m1')).toBe('');

    const vanished = runCli(['worktree', 'add', '--task', 'vanished', '--json'], { cwd: repo }).json.path as string;
    rmSync(vanished, { recursive: true, force: true });
    const removedGone = runCli(['worktree', 'remove', '--task', 'vanished', '--json'], { cwd: repo });
    expect(removedGone.exitCode, removedGone.stderr).toBe(0);
    expect(git(repo, 'worktree', 'list', '--porcelain')).not.toContain('vanished');

    const add = runCli(['worktree', 'add', '--task', 'gone', '--json'], { cwd: repo });
    git(repo, 'worktree', 'remove', '--force', add.json.path);
    const pruned = runCli(['worktree', 'prune', '--json'], { cwd: repo });
    expect(pruned.exitCode, pruned.stderr).toBe(0);
    expect(pruned.json.forgotten).toMatchObject([{ task: 'gone', branch: 'parallel/gone' }]);
    expect(git(repo, 'rev-parse', '--verify', 'parallel/gone')).toMatch(/^[0-9a-f]{40}$/);
    expect(runCli(['worktree', 'list', '--json'], { cwd: repo }).json.worktrees).toEqual([]);
    // The branch prune kept is the runtime's own: adding the task again resumes it.
    const keptAt = git(repo, 'rev-parse', 'parallel/gone');
    const again = runCli(['worktree', 'add', '--task', 'gone', '--json'], { cwd: repo });
    expect(again.exitCode).toBe(0);
    // Kept again, then deleted by the user: prune drops the mark, so a branch the user makes later
    // under that name (here from the very commit the mark named, with work of theirs on top) is
    // refused, not resumed.
    git(repo, 'worktree', 'remove', '--force', again.json.path);
    expect(runCli(['worktree', 'prune'], { cwd: repo }).exitCode).toBe(0);
    git(repo, 'branch', '-D', 'parallel/gone');
    expect(runCli(['worktree', 'prune'], { cwd: repo }).exitCode).toBe(0);
    expect(git(repo, 'for-each-ref', 'refs/parallel/kept/')).toBe('');
    git(repo, 'branch', 'parallel/gone', keptAt);
    git(repo, 'worktree', 'add', '-q', join(repo, '..', 'user-wip'), 'parallel/gone');
    writeFiles(join(repo, '..', 'user-wip'), { 'src/a.ts': 'user unfinished\n' });
    git(join(repo, '..', 'user-wip'), 'commit', '-qam', 'user WIP');
    git(repo, 'worktree', 'remove', '--force', join(repo, '..', 'user-wip'));
    const user = runCli(['worktree', 'add', '--task', 'gone', '--json'], { cwd: repo });
    expect(user.exitCode).toBe(2);
    expect(user.json.error.code).toBe('E_EXISTS');
  });

  test('a kept mark vouches only for the very commit it names: a user branch grown from it is refused', () => {
    const repo = gitRepo({ 'src/a.ts': 'a\n' });
    const add = runCli(['worktree', 'add', '--task', 'gone', '--json'], { cwd: repo });
    git(repo, 'worktree', 'remove', '--force', add.json.path);
    expect(runCli(['worktree', 'prune'], { cwd: repo }).exitCode).toBe(0);
    expect(git(repo, 'for-each-ref', '--format=%(refname)', 'refs/parallel/kept/')).toBe('refs/parallel/kept/gone');
    // Deleted and made again by the user from main, with unfinished work, before any prune.
    git(repo, 'branch', '-D', 'parallel/gone');
    git(repo, 'checkout', '-q', '-b', 'parallel/gone');
    writeFiles(repo, { 'src/a.ts': 'user unfinished\n' });
    git(repo, 'commit', '-qam', 'user WIP');
    git(repo, 'checkout', '-q', 'main');
    const again = runCli(['worktree', 'add', '--task', 'gone', '--json'], { cwd: repo });
    expect(again.exitCode).toBe(2);
    expect(again.json.error.code).toBe('E_EXISTS');
  });
});

describe('worktree remove never deletes work the target does not have', () => {
  /** A task whose branch holds one commit that main does not have, and a tag and a side branch to aim at. */
  function unmergedTask(): { repo: string; path: string; work: string } {
    const repo = gitRepo({ 'src/a.ts': 'a\n' });
    git(repo, 'commit', '-q', '--allow-empty', '-m', 'second');
    git(repo, 'tag', 'v1');
    const path = runCli(['worktree', 'add', '--task', 't', '--json'], { cwd: repo }).json.path as string;
    writeFiles(path, { 'src/a.ts': 'work\n' });
    git(path, 'commit', '-qam', 'work');
    return { repo, path, work: git(path, 'rev-parse', 'HEAD') };
  }

  test.each([
    ['its own branch', 'parallel/t'],
    ['a revision', 'main~1'],
    ['a tag', 'v1'],
    ['a commit id', 'HEAD'],
    ['a branch that does not exist', 'no-such-branch'],
    ['a full ref name', 'refs/heads/parallel/t'],
  ])('refuses --into %s with exit 2 and touches nothing', (_what, into) => {
    const { repo, path, work } = unmergedTask();
    const target = into === 'HEAD' ? git(repo, 'rev-parse', 'HEAD') : into;
    for (const force of [[], ['--force']]) {
      const result = runCli(['worktree', 'remove', '--task', 't', '--into', target, ...force, '--json'], { cwd: repo });
      expect(result.exitCode, result.stdout).toBe(2);
      expect(result.json.error.code).toBe('E_USAGE');
      expect(result.json.error.message).toContain(`--into "${target}"`);
    }
    expect(git(repo, 'rev-parse', 'parallel/t')).toBe(work);
    expect(existsSync(join(path, 'src', 'a.ts'))).toBe(true);
    expect(git(repo, 'for-each-ref', 'refs/parallel/backup')).toBe('');
    expect(runCli(['worktree', 'list', '--json'], { cwd: repo }).json.worktrees.map((w: { task: string }) => w.task)).toEqual(['t']);
  });

  test('--into another real branch counts as merged only when that branch has the work', () => {
    const { repo, work } = unmergedTask();
    git(repo, 'branch', 'release', 'main');
    expect(runCli(['worktree', 'remove', '--task', 't', '--into', 'release', '--json'], { cwd: repo }).json.error.code).toBe('E_REFUSED');
    git(repo, 'branch', '-f', 'release', work);
    const removed = runCli(['worktree', 'remove', '--task', 't', '--into', 'release', '--json'], { cwd: repo });
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(removed.json).toMatchObject({ branch_deleted: true, target: 'release', backup_refs: [] });
    expect(git(repo, 'rev-parse', 'release')).toBe(work);
  });
});

describe('scoped worktrees', () => {
  const FILES = {
    'README.md': '# mono\n',
    'package.json': '{}\n',
    'packages/api/src/index.ts': 'api\n',
    'packages/api/src/deep/util.ts': 'util\n',
    'packages/api/package.json': '{}\n',
    'packages/web/src/app.ts': 'web\n',
    'packages/shared/types.ts': 'types\n',
    'docs/guide.md': 'guide\n',
  };

  test('check out the task\'s files and reads plus the top-level files, and say where the rest is', () => {
    const repo = gitRepo(FILES);
    const plan = join(tempDir('pa-plan-'), 'plan.json');
    writeFileSync(plan, JSON.stringify({ name: 'mono', tasks: [{ id: 'api', title: 'API', files: ['packages/api/src/**'], reads: ['packages/shared/types.ts'], prompt: 'x' }] }));
    expect(runCli(['plan', 'publish', plan], { cwd: repo }).exitCode).toBe(0);
    const added = runCli(['worktree', 'add', '--task', 'api', '--checkout', 'scoped', '--json'], { cwd: repo });
    expect(added.exitCode, added.stderr).toBe(0);
    expect(added.json).toMatchObject({ checkout: 'sparse', sparse: ['packages/api/src', 'packages/shared/types.ts'], main_checkout: repo });
    const path = added.json.path as string;
    const present = git(path, 'ls-files', '-t').split('\n').filter((line) => line.startsWith('H ')).map((line) => line.slice(2)).sort();
    // Cone mode also brings the files directly inside each parent folder (packages/api/package.json).
    expect(present).toEqual(['README.md', 'package.json', 'packages/api/package.json', 'packages/api/src/deep/util.ts', 'packages/api/src/index.ts', 'packages/shared/types.ts']);
    expect(existsSync(join(path, 'packages', 'web'))).toBe(false);
    expect(existsSync(join(path, 'docs'))).toBe(false);
    expect(git(path, 'status', '--porcelain')).toBe('');

    const text = runCli(['worktree', 'remove', '--task', 'api'], { cwd: repo });
    expect(text.exitCode, text.stderr).toBe(0);
    const human = runCli(['worktree', 'add', '--task', 'api', '--checkout', 'scoped'], { cwd: repo });
    expect(human.stdout).toContain(`Read the rest of the repository in the main checkout at ${repo}`);

    // The holder's work commits and completes as in a full checkout; nothing outside reads as deleted.
    const token = runCli(['claim', '--agent', 'a', '--json'], { cwd: repo }).json.token as string;
    writeFiles(path, { 'packages/api/src/index.ts': 'api v2\n' });
    const done = runCli(['complete', '--agent', 'a', '--task', 'api', '--token', token, '--commit-worktree', '--json'], { cwd: repo });
    expect(done.exitCode, done.stderr).toBe(0);
    expect(git(repo, 'diff', '--name-status', 'main', 'parallel/api')).toBe('M\tpackages/api/src/index.ts');
  });

  test('auto stays full on a small repository; full is always there on request; a scope that can match anywhere is full', () => {
    const repo = gitRepo(FILES);
    runCli(['add', '--id', 'small', '--title', 'Small', '--files', 'packages/api/src/**'], { cwd: repo });
    runCli(['add', '--id', 'any', '--title', 'Anywhere', '--files', '**/*.ts'], { cwd: repo });
    const auto = runCli(['worktree', 'add', '--task', 'small', '--json'], { cwd: repo });
    expect(auto.json).toMatchObject({ checkout: 'full', sparse: [] });
    expect(auto.json.checkout_reason).toMatch(/8 tracked files/);
    const anywhere = runCli(['worktree', 'add', '--task', 'any', '--checkout', 'scoped', '--json'], { cwd: repo });
    expect(anywhere.json).toMatchObject({ checkout: 'full' });
    expect(existsSync(join(anywhere.json.path, 'docs', 'guide.md'))).toBe(true);
    const bad = runCli(['worktree', 'add', '--task', 'x', '--checkout', 'partly'], { cwd: repo });
    expect(bad.exitCode).toBe(2);
  });

  test('a forced removal of a scoped worktree keeps the uncommitted work, and records no deletion of what was never checked out', () => {
    const repo = gitRepo(FILES);
    runCli(['add', '--id', 'web', '--title', 'Web', '--files', 'packages/web/**'], { cwd: repo });
    const path = runCli(['worktree', 'add', '--task', 'web', '--checkout', 'scoped', '--json'], { cwd: repo }).json.path as string;
    writeFiles(path, { 'packages/web/src/app.ts': 'changed\n', 'packages/web/src/new.ts': 'new\n', 'stray/outside.txt': 'x\n' });
    const forced = runCli(['worktree', 'remove', '--task', 'web', '--force', '--json'], { cwd: repo });
    expect(forced.exitCode, forced.stderr).toBe(0);
    const [snapshot] = forced.json.backup_refs as string[];
    expect(git(repo, 'diff', '--name-status', 'main', snapshot!).split('\n').sort()).toEqual(['A\tpackages/web/src/new.ts', 'A\tstray/outside.txt', 'M\tpackages/web/src/app.ts']);
    expect(existsSync(path)).toBe(false);
  });
});

describe('cleanup after verify', () => {
  function mergedProject(): { repo: string; paths: Record<string, string> } {
    const repo = gitRepo({ 'README.md': '# app\n' });
    const paths: Record<string, string> = {};
    for (const id of ['one', 'two']) {
      runCli(['add', '--id', id, '--title', id, '--files', `${id}/**`], { cwd: repo });
      const token = runCli(['claim', '--agent', id, '--task', id, '--json'], { cwd: repo }).json.token as string;
      paths[id] = runCli(['worktree', 'add', '--task', id, '--json'], { cwd: repo }).json.path as string;
      writeFiles(paths[id]!, { [`${id}/file.txt`]: `${id}\n` });
      expect(runCli(['complete', '--agent', id, '--task', id, '--token', token, '--commit-worktree'], { cwd: repo }).exitCode).toBe(0);
    }
    return { repo, paths };
  }

  test('verify removes the merged worktrees and branches, keeping anything the target lacks behind a backup ref', () => {
    const { repo, paths } = mergedProject();
    // A file left behind after completing: not in the target, so it must survive the cleanup.
    writeFiles(paths.two!, { 'two/late.txt': 'late\n' });
    const result = runCli(['verify', '--json'], { cwd: repo });
    expect(result.exitCode, result.stderr).toBe(0);
    const report = result.json;
    expect(report.status).toBe('merged');
    expect(report.removed.map((entry: { task: string }) => entry.task)).toEqual(['one', 'two']);
    expect(report.removed.every((entry: { branch_deleted: boolean }) => entry.branch_deleted)).toBe(true);
    expect(report.cleanup).toEqual([]);
    for (const path of Object.values(paths)) expect(existsSync(path)).toBe(false);
    expect(git(repo, 'branch', '--list', 'parallel/*')).toBe('');
    expect(git(repo, 'worktree', 'list', '--porcelain')).not.toContain('.parallel');
    expect(readFileSync(join(repo, 'one', 'file.txt'), 'utf8')).toBe('one\n');
    const [backup] = report.removed.find((entry: { task: string }) => entry.task === 'two').backup_refs as string[];
    expect(git(repo, 'show', `${backup}:two/late.txt`)).toBe('late');
    expect(runCli(['worktree', 'list', '--json'], { cwd: repo }).json.worktrees).toEqual([]);
  });

  test('--keep-worktrees keeps them and prints the commands that remove them later', () => {
    const { repo, paths } = mergedProject();
    const result = runCli(['verify', '--keep-worktrees'], { cwd: repo });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain('cleanup: the merged worktrees can go: parallel-agents worktree remove --task one');
    for (const path of Object.values(paths)) expect(existsSync(path)).toBe(true);
  });
});

describe('worktree prune', () => {
  /** A pid that is certainly not running: a process that already exited and was reaped. */
  function deadPid(): number {
    return spawnSync('true').pid!;
  }

  test('removes the scratch refs of a dead verify and keeps a live one\'s', () => {
    const repo = gitRepo({ 'a.txt': 'a\n' });
    const head = git(repo, 'rev-parse', 'HEAD');
    const dead = `refs/parallel/integration/${deadPid()}-2026-11-30T00-00-00.000Z`;
    const legacy = `refs/parallel/integration/2026-11-29T00-00-00.000Z-${deadPid()}`;
    const live = `refs/parallel/integration/${process.pid}-2026-11-30T00-00-00.000Z`;
    for (const ref of [dead, legacy, live]) git(repo, 'update-ref', ref, head);
    const pruned = runCli(['worktree', 'prune', '--json'], { cwd: repo });
    expect(pruned.exitCode, pruned.stderr).toBe(0);
    expect(pruned.json.integration_refs_removed.sort()).toEqual([dead, legacy].sort());
    expect(git(repo, 'for-each-ref', '--format=%(refname)', 'refs/parallel/integration')).toBe(live);
  });

  test('finishes a removal that died after its backups, and puts back one that died before', () => {
    const repo = gitRepo({ 'a.txt': 'a\n' });
    const keep = runCli(['worktree', 'add', '--task', 'undecided', '--json'], { cwd: repo }).json.path as string;
    writeFiles(keep, { 'work.txt': 'uncommitted\n' });
    const worktrees = join(repo, '.parallel', 'worktrees');
    // What a kill -9 leaves: the folder set aside while judged (.removing-), or marked once backed up (.removed-).
    const aside = join(worktrees, `.removing-${deadPid()}-abcdef-undecided`);
    renameSync(keep, aside);
    // Its record already gone (forgotten by an older prune): still not deleted, put back under a new name.
    const orphan = join(worktrees, `.removing-${deadPid()}-654321-orphan`);
    writeFiles(orphan, { 'notes.md': 'only copy\n' });
    const decided = join(worktrees, `.removed-${deadPid()}-123456-gone`);
    mkdirSync(join(decided, 'src'), { recursive: true });
    const pruned = runCli(['worktree', 'prune', '--json'], { cwd: repo });
    expect(pruned.exitCode, pruned.stderr).toBe(0);
    expect(pruned.json.removals_finished).toEqual([decided]);
    expect(pruned.json.removals_restored).toHaveLength(2);
    expect(pruned.json.removals_restored).toContain(keep);
    const recovered = pruned.json.removals_restored.find((path: string) => path !== keep);
    expect(recovered).toMatch(/\/orphan\.recovered-[0-9a-f]{6}$/);
    expect(readFileSync(join(recovered, 'notes.md'), 'utf8')).toBe('only copy\n');
    expect(readFileSync(join(keep, 'work.txt'), 'utf8')).toBe('uncommitted\n');
    expect(git(keep, 'status', '--porcelain')).toBe('?? work.txt');
    expect(existsSync(decided)).toBe(false);
  });
});

describe('coneFolders', () => {
  test('takes the literal folders of every entry, and gives up on entries that can match anywhere', async () => {
    const { coneFolders } = await import('../../src/git/worktree-sparse.ts');
    expect(coneFolders(['packages/api/src/**', 'packages/api/src/deep/**/*.ts', 'docs/guide.md'])).toEqual(['docs/guide.md', 'packages/api/src']);
    expect(coneFolders(['packages/{api,web}/src/**'])).toEqual(['packages/api', 'packages/web']);
    expect(coneFolders(['packages/*/src/**'])).toEqual(['packages']);
    // Top-level files only: the cone's root files cover them, no folder needed.
    expect(coneFolders(['*.md', 'package.json'])).toEqual(['package.json']);
    expect(coneFolders(['*.md'])).toEqual([]);
    expect(coneFolders(['src/**', '**/*.test.ts'])).toBeUndefined();
    expect(coneFolders(['*/index.ts'])).toBeUndefined();
  });
});
