import { existsSync, mkdirSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { git, gitRepo, writeFiles } from '../helpers/git-repo.ts';
import { runCli, runCliAsync } from '../helpers/run-cli.ts';

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
    expect(readFileSync(join(repo, '.git', 'info', 'exclude'), 'utf8').match(/\/\.parallel\/worktrees\//g)).toHaveLength(1);
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
  });
});
