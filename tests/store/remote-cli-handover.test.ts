// Two clones passing one task back and forth through the CLI, each acting on a cache the other
// has made stale, over file:// and git://: the documented exit codes, one-line errors, and the
// store's history saying exactly what happened.
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { cloneRepo, createBareRepo, gitIn, startGitDaemon } from '../helpers/git-server.ts';
import { runCli } from '../helpers/run-cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';

function cli(cwd: string, ...args: string[]): ReturnType<typeof runCli> {
  return runCli(args, { cwd, env: { PARALLEL_STORE: 'git:origin' } });
}

function oneLine(run: ReturnType<typeof runCli>, code: number): void {
  expect(run.exitCode, run.stdout + run.stderr).toBe(code);
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

describe.each(['file', 'git'])('two clones over %s://, each acting on a stale cache', (scheme) => {
  it('claim, refusals, release, forced recover, fail, reclaim, complete: exit codes and history agree', async () => {
    const base = tempDir('pa-handover-');
    const bare = createBareRepo(base);
    let url = `file://${bare}`;
    if (scheme === 'git') {
      const daemon = await startGitDaemon(base);
      onTestFinished(() => daemon.stop());
      url = daemon.url();
    }
    const a = cloneRepo(url, join(base, 'a'));
    const b = cloneRepo(url, join(base, 'b'));
    expect(cli(a, 'add', '--id', 't', '--title', 'T', '--max-attempts', '5').exitCode).toBe(0);
    expect(cli(b, 'status').exitCode).toBe(0); // b's cache: t available
    const first = cli(a, 'claim', '--agent', 'alice', '--task', 't', '--json');
    expect(first.exitCode, first.stderr).toBe(0);
    // b's cache still says available: the server's advertisement decides.
    oneLine(cli(b, 'claim', '--agent', 'bob', '--task', 't'), 3);
    oneLine(cli(b, 'heartbeat', '--agent', 'bob', '--task', 't', '--token', first.json.token), 5);
    oneLine(cli(b, 'release', '--agent', 'alice', '--task', 't', '--token', 'f'.repeat(32)), 5);
    expect(cli(a, 'release', '--agent', 'alice', '--task', 't', '--token', first.json.token).exitCode).toBe(0);
    // a's cache says released; b claims, a's stale token is refused everywhere.
    const second = cli(b, 'claim', '--agent', 'bob', '--json');
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.json.task.id ?? second.json.id).toBe('t');
    for (const verb of ['heartbeat', 'release']) oneLine(cli(a, verb, '--agent', 'alice', '--task', 't', '--token', first.json.token), 5);
    oneLine(cli(a, 'fail', '--agent', 'alice', '--task', 't', '--token', first.json.token, '--reason', 'x'), 5);
    oneLine(cli(a, 'complete', '--agent', 'alice', '--task', 't', '--token', first.json.token), 5);
    const seen = cli(a, 'status', '--json');
    expect(seen.json.tasks[0]).toMatchObject({ id: 't', state: 'claimed', claim: { agent: 'bob' } });
    // a takes it back by force; b, not having fetched, is refused.
    const taken = cli(a, 'recover', '--task', 't', '--force', '--json');
    expect(taken.exitCode, taken.stderr).toBe(0);
    oneLine(cli(b, 'heartbeat', '--agent', 'bob', '--task', 't', '--token', second.json.token), 5);
    oneLine(cli(b, 'complete', '--agent', 'bob', '--task', 't', '--token', second.json.token), 5);
    const third = cli(b, 'claim', '--agent', 'bob', '--task', 't', '--json');
    expect(third.exitCode, third.stderr).toBe(0);
    expect(cli(b, 'fail', '--agent', 'bob', '--task', 't', '--token', third.json.token, '--reason', 'flaky').exitCode).toBe(0);
    const fourth = cli(a, 'claim', '--agent', 'alice', '--task', 't', '--json');
    expect(fourth.exitCode, fourth.stderr).toBe(0);
    expect(cli(a, 'heartbeat', '--agent', 'alice', '--task', 't', '--token', fourth.json.token).exitCode).toBe(0);
    expect(cli(a, 'complete', '--agent', 'alice', '--task', 't', '--token', fourth.json.token).exitCode).toBe(0);
    oneLine(cli(b, 'claim', '--agent', 'bob'), 4);
    const subjects = gitIn(bare, 'log', '--first-parent', '--reverse', '--format=%s', 'refs/parallel/store/tasks/t').split('\n').map((line) => line.split(' ')[0]);
    // complete proves the claim first with a heartbeat (an exit 5 before any commit is made), then completes.
    expect(subjects).toStrictEqual(['add', 'claim', 'release', 'claim', 'recover', 'claim', 'fail', 'claim', 'heartbeat', 'heartbeat', 'complete']);
    const done = cli(b, 'status', '--json');
    expect(done.json).toMatchObject({ counts: { completed: 1 } });
    expect(done.json.tasks[0]).toMatchObject({ state: 'completed', completed_by: 'alice' });
  });
});

describe('a push URL other than the fetch URL', () => {
  it('a push that fails names the URL it was sent to, in one line with exit 1', () => {
    const base = tempDir('pa-pushurl-');
    const bare = createBareRepo(base);
    const a = cloneRepo(`file://${bare}`, join(base, 'a'));
    expect(cli(a, 'add', '--id', 't', '--title', 'T').exitCode).toBe(0);
    const missing = join(base, 'moved.git');
    gitIn(a, 'remote', 'set-url', '--push', 'origin', `file://${missing}`);
    const claim = runCli(['claim', '--agent', 'alice', '--task', 't'], { cwd: a, env: { PARALLEL_STORE: 'git:origin', PARALLEL_REMOTE_RETRIES: '0' } });
    oneLine(claim, 1);
    expect(claim.stderr).toContain(`the push of git remote origin (file://${missing}) failed`);
  });
});
