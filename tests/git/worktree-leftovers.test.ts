import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { git, gitRepo, writeFiles } from '../helpers/git-repo.ts';
import { runCli } from '../helpers/run-cli.ts';
import { TEST_BUNDLE } from '../helpers/paths.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();

/** A `git` on PATH that stalls (after touching `marker`) when the shell test `when` holds, so the CLI can be killed right there. */
function stallingGit(when: string, marker: string): string {
  const bin = tempDir('pa-stallgit-');
  writeFileSync(join(bin, 'git'), `#!/bin/sh\nif ${when}; then : > '${marker}'; exec sleep 60; fi\nexec '${realGit}' "$@"\n`);
  chmodSync(join(bin, 'git'), 0o755);
  return `${bin}:${process.env.PATH}`;
}

/** Runs `worktree remove --task api --force` and kill -9s it (and its git) once the stand-in git stalls. */
async function killRemoval(repo: string, when: string): Promise<void> {
  const marker = join(tempDir('pa-marker-'), 'stalled');
  const child = spawn(process.execPath, [TEST_BUNDLE, 'worktree', 'remove', '--task', 'api', '--force'], {
    cwd: repo,
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, PATH: stallingGit(when, marker) },
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  while (!existsSync(marker)) {
    if (child.exitCode !== null) throw new Error('the removal finished before reaching the stalled git call');
    await sleep(20);
  }
  process.kill(-child.pid!, 'SIGKILL');
  await exited;
  // The dead holder's repository lock goes stale after 30 s; age it instead of waiting.
  const old = new Date(Date.now() - 120_000);
  utimesSync(join(repo, '.git', 'parallel-agents.lock'), old, old);
}

/** Task `api`'s worktree with one commit on its branch and a file nobody committed. */
function worktreeWithNotes(): { repo: string; path: string } {
  const repo = gitRepo({ 'src/api/index.ts': 'export const api = 1;\n' });
  const path = runCli(['worktree', 'add', '--task', 'api', '--json'], { cwd: repo }).json.path as string;
  writeFiles(path, { 'src/api/notes.md': 'precious uncommitted notes\n' });
  return { repo, path };
}

function asideFolders(repo: string): string[] {
  return readdirSync(join(repo, '.parallel', 'worktrees')).filter((name) => name.startsWith('.remov'));
}

describe('a removal killed part-way loses no work', () => {
  test('killed while judging: the next remove puts the folder back and judges it, prune deletes nothing', async () => {
    const { repo, path } = worktreeWithNotes();
    await killRemoval(repo, `[ "$1" = status ] && case "$(pwd -P)" in *.removing-*) true;; *) false;; esac`);
    expect(asideFolders(repo)).toEqual([expect.stringMatching(/^\.removing-\d+-[0-9a-f]{6}-api$/)]);
    expect(existsSync(path)).toBe(false);

    // Before the fix this said `uncommitted: []`, deleted branch and record, and prune then deleted the folder.
    const removed = runCli(['worktree', 'remove', '--task', 'api', '--json'], { cwd: repo });
    expect(removed.exitCode, removed.stderr).toBe(1);
    expect(removed.json.error.code).toBe('E_REFUSED');
    expect(removed.json.error.uncommitted).toEqual(['src/api/notes.md']);
    expect(readFileSync(join(path, 'src/api/notes.md'), 'utf8')).toContain('precious');
    expect(git(path, 'status', '--porcelain')).toBe('?? src/api/notes.md');
    expect(asideFolders(repo)).toEqual([]);

    const pruned = runCli(['worktree', 'prune', '--json'], { cwd: repo });
    expect(pruned.exitCode, pruned.stderr).toBe(0);
    expect(pruned.json).toMatchObject({ forgotten: [], removals_finished: [], removals_restored: [] });
    expect(readFileSync(join(path, 'src/api/notes.md'), 'utf8')).toContain('precious');
  }, 30_000);

  test('killed after its backups: prune finishes the deletion, and the backup holds the work', async () => {
    const { repo, path } = worktreeWithNotes();
    await killRemoval(repo, `[ "$1" = worktree ] && [ "$2" = prune ]`);
    expect(asideFolders(repo)).toEqual([expect.stringMatching(/^\.removed-\d+-[0-9a-f]{6}-api$/)]);
    const backups = git(repo, 'for-each-ref', '--format=%(refname)', 'refs/parallel/backup/api/').split('\n');
    expect(backups).toEqual([expect.stringMatching(/-uncommitted$/)]);
    expect(git(repo, 'show', `${backups[0]}:src/api/notes.md`)).toContain('precious');

    const pruned = runCli(['worktree', 'prune', '--json'], { cwd: repo });
    expect(pruned.exitCode, pruned.stderr).toBe(0);
    expect(pruned.json.removals_finished).toEqual([expect.stringMatching(/\.removed-\d+-[0-9a-f]{6}-api$/)]);
    expect(pruned.json.removals_restored).toEqual([]);
    expect(pruned.json.forgotten).toMatchObject([{ task: 'api', path }]);
    expect(asideFolders(repo)).toEqual([]);
  }, 30_000);
});

describe('worktree prune with a worktree folder away', () => {
  test('keeps a commit only its detached HEAD held under a backup ref before git forgets it', () => {
    const repo = gitRepo({ 'src/a.ts': 'a\n' });
    const path = runCli(['worktree', 'add', '--task', 'api', '--json'], { cwd: repo }).json.path as string;
    git(path, 'checkout', '-q', '--detach');
    writeFiles(path, { 'src/a.ts': 'detached work\n' });
    git(path, 'commit', '-qam', 'detached work');
    const work = git(path, 'rev-parse', 'HEAD');
    // The drive it lives on is unmounted: the path is simply not there.
    const away = join(tempDir('pa-away-'), 'api');
    mkdirSync(away);
    renameSync(path, join(away, 'moved'));

    const pruned = runCli(['worktree', 'prune', '--json'], { cwd: repo });
    expect(pruned.exitCode, pruned.stderr).toBe(0);
    expect(pruned.json.head_backups).toEqual([{ path, commit: work, ref: expect.stringMatching(/^refs\/parallel\/backup\/api\/.*-head$/) }]);
    expect(git(repo, 'rev-parse', pruned.json.head_backups[0].ref)).toBe(work);
    expect(git(repo, 'worktree', 'list', '--porcelain')).not.toContain(path);
    const text = runCli(['worktree', 'prune'], { cwd: repo });
    expect(text.stdout).toBe('nothing to prune\n');

    // A HEAD a branch already holds needs no backup.
    const other = runCli(['worktree', 'add', '--task', 'web', '--json'], { cwd: repo }).json.path as string;
    git(other, 'checkout', '-q', '--detach');
    renameSync(other, join(away, 'web'));
    const again = runCli(['worktree', 'prune'], { cwd: repo });
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).not.toContain('kept the detached HEAD');
    expect(git(repo, 'for-each-ref', '--format=%(refname)', 'refs/parallel/backup/web/')).toBe('');
  });
});
