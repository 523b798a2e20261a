// Adversarial checks of the git-remote store's promises where earlier tests did not look: the
// git-push path's view of dependencies, holders killed mid-transition, and the observations a
// recoverer keeps. Real git, real processes.
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GitRemoteStore } from '../../src/store/git-remote/git-remote-store.ts';
import { cloneRepo, createBareRepo, gitIn } from '../helpers/git-server.ts';
import { TEST_BUNDLE } from '../helpers/paths.ts';
import { runCli } from '../helpers/run-cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const STORE = { PARALLEL_STORE: 'git:origin' };

function shared(): { bare: string; clone(name: string): string } {
  const base = tempDir('pa-remote-review-');
  const bare = createBareRepo(base);
  return { bare, clone: (name) => cloneRepo(`file://${bare}`, join(base, name)) };
}

const open = (clone: string): GitRemoteStore => new GitRemoteStore({ cwd: clone, remote: 'origin', localDir: join(clone, '_tasks'), env: {} });

describe('a claim over git push (ssh, https, a rewritten URL)', () => {
  it('a dependency completed in the clone\'s cache but reopened on another machine since holds its dependents back', async () => {
    const { bare, clone } = shared();
    const other = open(clone('other'));
    const pushed = clone('pushed');
    // insteadOf: git decides how to reach the remote, so every push is git push (as over ssh or https).
    gitIn(pushed, 'config', `url.file://${bare}.insteadOf`, 'shared:');
    gitIn(pushed, 'remote', 'set-url', 'origin', 'shared:');
    const runner = open(pushed);
    await other.add([{ id: 'd', title: 'dependency' }, { id: 'x', title: 'needs d', depends_on: ['d'] }]);
    const dep = await other.claim({ agent: 'o', task: 'd' });
    await other.complete({ agent: 'o', task: 'd', token: dep.token });
    expect((await runner.get('d'))?.state).toBe('completed'); // the cache now says d is done
    await other.reopen({ task: 'd', commit: undefined, reason: 'verify refused it' });
    const claimed = await runner.claim({ agent: 'r' });
    expect(runner.transport.stats.direct).toBe(0);
    // d is failed on the remote: its dependent must not start on work that was refused.
    expect(claimed.task.id).toBe('d');
    expect(gitIn(bare, 'log', '-1', '--format=%s', 'refs/parallel/store/tasks/x')).toMatch(/^add x/);
  });
});

describe('a holder\'s CLI killed (kill -9) after its transition reached the remote, before the answer', () => {
  // The server's post-receive hook kills the CLI once the completion is applied: the answer never
  // comes. The agent retries, as the error of an unanswered push tells it to. Its completion is on
  // the remote under its own claim (the record keeps the claim's proof), and verify will merge it:
  // the retry must say so (exit 0), not "do not merge this work, claim again".
  it('the retried complete is told its own completion stands, not "do not merge this work"', async () => {
    const { bare, clone } = shared();
    const a = clone('a');
    const cli = (...args: string[]) => runCli(args, { cwd: a, env: STORE });
    expect(cli('add', '--id', 't', '--title', 'T', '--files', 'src/t.txt').exitCode).toBe(0);
    const token = cli('claim', '--agent', 'alice', '--task', 't', '--json').json.token;
    expect(cli('worktree', 'add', '--task', 't').exitCode).toBe(0);
    mkdirSync(join(a, '.parallel', 'worktrees', 't', 'src'));
    writeFileSync(join(a, '.parallel', 'worktrees', 't', 'src', 't.txt'), 'work\n');
    const pidFile = join(a, '..', 'pid');
    const hook = join(bare, 'hooks', 'post-receive');
    writeFileSync(hook, `#!/bin/sh\nwhile read old new ref; do git log -1 --format=%s "$new" | grep -q '^complete ' && kill -9 "$(cat '${pidFile}')"; done\nexit 0\n`);
    chmodSync(hook, 0o755);
    const args = ['complete', '--agent', 'alice', '--task', 't', '--token', token, '--commit-worktree', '--summary', 'did t'];
    const child = spawn(process.execPath, [TEST_BUNDLE, ...args], { cwd: a, env: { ...process.env, ...STORE }, stdio: 'ignore' });
    writeFileSync(pidFile, String(child.pid));
    const signal = await new Promise((resolve) => child.once('exit', (_code, sig) => resolve(sig)));
    rmSync(hook);
    expect(signal).toBe('SIGKILL');
    expect(gitIn(bare, 'log', '-1', '--format=%s', 'refs/parallel/store/tasks/t')).toMatch(/^complete t by alice/);
    const retry = cli(...args);
    expect(retry.stderr).not.toMatch(/do not merge this work/);
    expect(retry.exitCode).toBe(0);
  });
});
