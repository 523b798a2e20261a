// The git-remote store when the network misbehaves: a remote that is not there, one that stalls,
// a server killed in the middle of a push, an answer lost after the server applied the push, a
// holder cut off until its lease ran out, clocks hours apart, recoverers racing on four machines.
// Real git daemon, a real TCP proxy in front of it, real processes; no mocks of git.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CliError } from '../../src/errors.ts';
import type { StoreClock } from '../../src/store/git-remote/clock.ts';
import { GitRemoteStore } from '../../src/store/git-remote/git-remote-store.ts';
import { DEFAULT_LEASE_MS, MAX_LEASE_MS } from '../../src/store/rules.ts';
import { cloneRepo, createBareRepo, gitIn, startProxy, type Proxy } from '../helpers/git-server.ts';
import { runCli } from '../helpers/run-cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { waitFor } from '../runner/fixtures.ts';
import { countLines, raceRemoteWorkers } from './remote-workers.ts';
import { outcomeOf as codeOf } from '../helpers/outcome.ts';
import { servedByGitDaemon } from '../helpers/served-daemon.ts';

const server = servedByGitDaemon('pa-faults-daemon-');
let repos = 0;

const FAST = { PARALLEL_REMOTE_TIMEOUT_MS: '1500', PARALLEL_REMOTE_RETRIES: '1' };

/** A fresh shared repository and a way to open machines on it (optionally through a URL of their own). */
function sharedRepo(): { name: string; bare: string; machine(options?: { url?: string; clock?: StoreClock; env?: Record<string, string> }): GitRemoteStore } {
  const name = `repo${repos++}`;
  const bare = createBareRepo(server.dir, name);
  const base = tempDir('pa-faults-');
  let machines = 0;
  return {
    name,
    bare,
    machine: (options = {}) => {
      const clone = cloneRepo(server.daemon.url(name), join(base, `machine-${machines++}`));
      if (options.url) gitIn(clone, 'remote', 'set-url', 'origin', options.url);
      return new GitRemoteStore({ cwd: clone, remote: 'origin', localDir: join(clone, '_tasks'), clock: options.clock, env: options.env ?? {} });
    },
  };
}

/** A machine whose monotonic clock a test moves forward, and whose wall clock may be hours off. */
function fakeClock(skewMs = 0): StoreClock & { advance(ms: number): void } {
  let offset = 0;
  const boot = `fake-${Math.random()}`;
  return {
    now: () => Date.now() + skewMs,
    monotonic: () => Number(process.hrtime.bigint() / 1_000_000n) + offset,
    bootId: () => boot,
    advance: (ms) => { offset += ms; },
  };
}

/** The first-parent history of a task's ref on the remote: its journal, oldest first. */
function journal(bare: string, id: string): string[] {
  return gitIn(bare, 'log', '--first-parent', '--reverse', '--format=%s', `refs/parallel/store/tasks/${id}`).split('\n');
}

describe('the git-remote store under faults', () => {
  let proxy: Proxy | undefined;
  afterAll(async () => {
    await proxy?.close();
  });

  it('a remote that is not there: one line naming it, exit 1, after a bounded number of tries', async () => {
    const repo = sharedRepo();
    const clone = tempDir('pa-unreachable-');
    cloneRepo(server.daemon.url(repo.name), clone);
    const closed = await startProxy(1); // forwards to a port nobody listens on
    gitIn(clone, 'remote', 'set-url', 'origin', closed.url(repo.name));
    const started = Date.now();
    const run = runCli(['claim', '--agent', 'a', '--store', 'git:origin'], { cwd: clone, env: FAST });
    await closed.close();
    expect(run.exitCode).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`the fetch of git remote origin \\(git://127\\.0\\.0\\.1:${closed.port}/${repo.name}\\.git\\) failed: .*; tried 2 times, nothing was changed`));
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('a remote that stalls: the push is stopped after the timeout, retried once, and reported in one line; nothing half-done', async () => {
    const repo = sharedRepo();
    const direct = repo.machine();
    await direct.add([{ id: 'slow', title: 'slow' }]);
    proxy = await startProxy(server.daemon.port);
    const holder = repo.machine({ url: proxy.url(repo.name), env: FAST });
    const claim = await holder.claim({ agent: 'h' });
    proxy.pause();
    const started = Date.now();
    const result = await codeOf(holder.heartbeat({ agent: 'h', task: 'slow', token: claim.token }));
    const elapsed = Date.now() - started;
    expect(result.code).toBe('E_GIT');
    expect(result.message).toMatch(/the push of git remote origin \(git:\/\/127\.0\.0\.1:\d+\/repo\d+\.git\) failed: no answer within 1500 ms; tried 2 times: the heartbeat of slow did not reach it: nothing was changed/);
    expect(elapsed).toBeGreaterThanOrEqual(3000);
    expect(elapsed).toBeLessThan(10_000);
    proxy.resume();
    // The claim is whole and still the holder's: it completes.
    expect((await direct.get('slow'))).toMatchObject({ state: 'claimed', claim: { agent: 'h' } });
    expect((await holder.complete({ agent: 'h', task: 'slow', token: claim.token })).state).toBe('completed');
    await proxy.close();
    proxy = undefined;
  });

  it('the server killed while a completion is in flight: neither the record nor the branch moves; the holder completes once it is back', async () => {
    const repo = sharedRepo();
    const seeder = repo.machine();
    await seeder.add([{ id: 'mid', title: 'mid push' }]);
    proxy = await startProxy(server.daemon.port);
    const holder = repo.machine({ url: proxy.url(repo.name), env: FAST });
    const claim = await holder.claim({ agent: 'h' });
    const work = gitIn(holder.repoRoot, 'commit-tree', gitIn(holder.repoRoot, 'mktree'), '-p', 'HEAD', '-m', 'work');
    let killed = false;
    proxy.on('up', 'PACK', () => {
      killed = true;
      server.daemon.kill();
      return false;
    });
    const result = await codeOf(holder.complete({ agent: 'h', task: 'mid', token: claim.token, commit: work, evidence: { branch: 'parallel/mid', base: gitIn(holder.repoRoot, 'rev-parse', 'HEAD') } }));
    expect(killed).toBe(true);
    expect(result.code).toBe('E_GIT');
    expect(result.message).toMatch(/may or may not have reached it, and is whole either way/);
    await server.daemon.restart();
    // All or nothing, on the server itself: still claimed, no branch.
    expect(journal(repo.bare, 'mid')).toStrictEqual(['add mid: mid push', 'claim mid by h (attempt 1 of 2)']);
    expect(gitIn(repo.bare, 'for-each-ref', 'refs/heads/parallel/')).toBe('');
    const done = await holder.complete({ agent: 'h', task: 'mid', token: claim.token, commit: work, evidence: { branch: 'parallel/mid', base: gitIn(holder.repoRoot, 'rev-parse', 'HEAD') } });
    expect(done).toMatchObject({ state: 'completed', commit: work });
    expect(gitIn(repo.bare, 'rev-parse', 'refs/heads/parallel/mid')).toBe(work);
    await proxy.close();
    proxy = undefined;
  });

  it('an answer lost after the server applied the push: the retry finds it applied ("up to date"), the transition happens once', async () => {
    const repo = sharedRepo();
    const seeder = repo.machine();
    await seeder.add([{ id: 'lost', title: 'lost answer' }]);
    proxy = await startProxy(server.daemon.port);
    const holder = repo.machine({ url: proxy.url(repo.name), env: FAST });
    const claim = await holder.claim({ agent: 'h' });
    let dropped = false;
    proxy.on('down', 'unpack ok', () => {
      dropped = true;
      proxy!.cut();
      return false;
    });
    const done = await holder.complete({ agent: 'h', task: 'lost', token: claim.token, summary: 'once' });
    expect(dropped).toBe(true);
    expect(done.state).toBe('completed');
    expect(journal(repo.bare, 'lost').filter((subject) => subject.startsWith('complete'))).toStrictEqual(['complete lost by h: once']);
    await proxy.close();
    proxy = undefined;
  });

  it('a claim whose answer was lost after it landed: the retry sees it in the advertisement, holds it once, and the cache of this clone (what the hooks read) shows it', async () => {
    const repo = sharedRepo();
    await repo.machine().add([{ id: 'c1', title: 'one' }, { id: 'c2', title: 'two' }]);
    proxy = await startProxy(server.daemon.port);
    const claimer = repo.machine({ url: proxy.url(repo.name), env: FAST });
    let dropped = false;
    proxy.on('down', 'unpack ok', () => {
      dropped = true;
      proxy!.cut();
      return false;
    });
    const claim = await claimer.claim({ agent: 'c' });
    expect(dropped).toBe(true);
    expect(journal(repo.bare, claim.task.id).filter((subject) => subject.startsWith('claim'))).toHaveLength(1);
    expect(journal(repo.bare, claim.task.id === 'c1' ? 'c2' : 'c1')).toHaveLength(1);
    expect(gitIn(claimer.repoRoot, 'rev-parse', `refs/parallel/cache/origin/tasks/${claim.task.id}`)).toBe(gitIn(repo.bare, 'rev-parse', `refs/parallel/store/tasks/${claim.task.id}`));
    await claimer.heartbeat({ agent: 'c', task: claim.task.id, token: claim.token });
    await proxy.close();
    proxy = undefined;
  });

  it('a limit below zero takes back a claim this machine has only just seen, whatever its clock (a claim without a recorded lease)', async () => {
    const repo = sharedRepo();
    // A monotonic clock that never moves: the claim is seen unchanged for exactly 0 ms, over -1 ms.
    const recoverer = repo.machine({ clock: { now: () => Date.now(), monotonic: () => 1_000, bootId: () => 'frozen' } });
    await recoverer.add([{ id: 'now', title: 'just claimed' }]);
    await repo.machine().claim({ agent: 'h' });
    expect((await recoverer.recover({ staleAfterMs: -1 })).recovered.map((item) => item.id)).toStrictEqual(['now']);
  });

  it('a holder cut off from the remote loses its lease to a recoverer, and is refused (exit 5) when it comes back', async () => {
    const repo = sharedRepo();
    const clock = fakeClock();
    const recoverer = repo.machine({ clock });
    await recoverer.add([{ id: 'cut', title: 'cut off', max_attempts: 3 }]);
    proxy = await startProxy(server.daemon.port);
    const holder = repo.machine({ url: proxy.url(repo.name), env: FAST });
    const claim = await holder.claim({ agent: 'h' });
    proxy.pause();
    expect((await codeOf(holder.heartbeat({ agent: 'h', task: 'cut', token: claim.token }))).code).toBe('E_GIT');
    // The recoverer sees the claim, then sees it unchanged for a whole lease on its own clock.
    expect((await recoverer.recover({ staleAfterMs: DEFAULT_LEASE_MS })).recovered).toStrictEqual([]);
    clock.advance(DEFAULT_LEASE_MS - 60_000);
    expect((await recoverer.recover({ staleAfterMs: DEFAULT_LEASE_MS })).recovered).toStrictEqual([]);
    clock.advance(2 * 60_000);
    const report = await recoverer.recover({ staleAfterMs: DEFAULT_LEASE_MS });
    expect(report.recovered.map((item) => [item.id, item.to, item.attempts])).toStrictEqual([['cut', 'failed', 1]]);
    expect(report.recovered[0]!.reason).toMatch(/no sign of life seen for 31m on this machine \(limit 30m\)/);
    proxy.resume();
    for (const late of [() => holder.heartbeat({ agent: 'h', task: 'cut', token: claim.token }), () => holder.complete({ agent: 'h', task: 'cut', token: claim.token })]) {
      const refused = await codeOf(late());
      expect(refused.code).toBe('E_NOT_HOLDER');
      expect(refused.message).toMatch(/does not hold task "cut" on origin: it is failed/);
    }
    expect(journal(repo.bare, 'cut')).toStrictEqual(['add cut: cut off', 'claim cut by h (attempt 1 of 3)', expect.stringMatching(/^recover cut from h: failed \(attempt 1 of 3\)/)]);
    await proxy.close();
    proxy = undefined;
  });

  it('clocks hours apart: no claim is taken back early in either direction, and a heartbeat restarts the count', async () => {
    const repo = sharedRepo();
    const ahead = fakeClock(6 * 3_600_000);
    const behind = fakeClock(-9 * 3_600_000);
    const a = repo.machine({ clock: ahead });
    const b = repo.machine({ clock: behind });
    await a.add([{ id: 'on-a', title: 'a' }, { id: 'on-b', title: 'b' }]);
    const claimA = await a.claim({ agent: 'a', task: 'on-a' });
    const claimB = await b.claim({ agent: 'b', task: 'on-b' });
    for (const [machine, clock] of [[a, ahead], [b, behind]] as const) {
      expect((await machine.recover({ staleAfterMs: DEFAULT_LEASE_MS })).recovered).toStrictEqual([]);
      const { tasks } = await machine.list();
      expect(tasks.map((task) => task.claim?.stale)).toStrictEqual([undefined, undefined]);
      // Both claims are seconds old by this machine's clock, whatever the claimer's clock said.
      for (const task of tasks) expect(clock.now() - task.claim!.claimedAt).toBeGreaterThanOrEqual(0);
      for (const task of tasks) expect(clock.now() - task.claim!.claimedAt).toBeLessThan(60_000);
    }
    expect((await b.get('on-a'))!.claim!.claimerStamp).toBe(new Date(Date.parse(recordOf(repo.bare, 'tasks/on-a').claim.at)).toISOString());
    // 20 minutes on b's clock; a heartbeats; 20 more: on-a is 20 minutes silent, on-b 40.
    behind.advance(20 * 60_000);
    await b.list();
    await a.heartbeat({ agent: 'a', task: 'on-a', token: claimA.token });
    behind.advance(20 * 60_000);
    expect((await b.recover({ staleAfterMs: DEFAULT_LEASE_MS })).recovered.map((item) => item.id)).toStrictEqual(['on-b']);
    expect((await codeOf(b.heartbeat({ agent: 'b', task: 'on-b', token: claimB.token }))).code).toBe('E_NOT_HOLDER');
    expect((await a.get('on-a'))?.state).toBe('claimed');
  });

  it('recoverers on four machines racing over the same 20 stale claims: each claim is taken back exactly once', async () => {
    const repo = sharedRepo();
    const owner = repo.machine();
    await owner.add(Array.from({ length: 20 }, (_, i) => ({ id: `s${i}`, title: `stale ${i}` })));
    for (let i = 0; i < 20; i++) await owner.claim({ agent: `holder-${i}` });
    const base = tempDir('pa-recoverers-');
    const jobs = [0, 1, 2, 3].map((i) => ({ clone: cloneRepo(server.daemon.url(repo.name), join(base, `r${i}`)), agent: `r${i}`, log: join(base, `r${i}.log`) }));
    const runs = await raceRemoteWorkers(jobs, { WORKER_MODE: 'recover' });
    expect(runs.map((run) => run.code)).toStrictEqual([0, 0, 0, 0]);
    const recovered = countLines(jobs.map((job) => { try { return readFileSync(job.log, 'utf8'); } catch { return ''; } }), 'recovered');
    expect(recovered.size).toBe(20);
    expect([...recovered.values()].every((n) => n === 1)).toBe(true);
    const { tasks } = await owner.list();
    expect(tasks.every((task) => task.state === 'failed' && task.attempts === 1)).toBe(true);
    for (let i = 0; i < 20; i++) expect(journal(repo.bare, `s${i}`).filter((subject) => subject.startsWith('recover'))).toHaveLength(1);
  });

  it('a verify lock whose holder died is taken over on the same host; a live one is refused', async () => {
    const repo = sharedRepo();
    const first = repo.machine();
    await first.init();
    const base = tempDir('pa-lock-');
    const clone = cloneRepo(server.daemon.url(repo.name), join(base, 'dies'));
    const runs = await raceRemoteWorkers([{ clone, agent: 'v', log: join(base, 'v.log') }], { WORKER_MODE: 'lock' });
    expect(runs[0]!.code).toBe(null); // killed while holding the lock
    expect(gitIn(repo.bare, 'for-each-ref', '--format=%(refname)', 'refs/parallel/store/locks/')).toBe('refs/parallel/store/locks/verify');
    const lock = await first.shared.lockVerify();
    const second = repo.machine();
    const refused = await codeOf(second.shared.lockVerify());
    expect(refused.code).toBe('E_REFUSED');
    expect(refused.message).toMatch(/another verify is merging through origin \(pid \d+ on host [0-9a-f]+, renewed at .*\): refusing to run a second one/);
    await lock.release();
    expect(gitIn(repo.bare, 'for-each-ref', 'refs/parallel/store/locks/')).toBe('');
    await (await second.shared.lockVerify()).release();
  });
});

/** The JSON line of the latest commit on a store ref of the remote. */
function recordOf(bare: string, ref: string): Record<string, any> {
  return JSON.parse(gitIn(bare, 'log', '-1', '--format=%B', `refs/parallel/store/${ref}`).trim().split('\n').pop()!);
}

describe('leases recorded by their holders', () => {
  it('a claim heartbeated under a longer lease than the recoverer\'s is given that lease; one without a recorded lease keeps the recoverer\'s', async () => {
    const repo = sharedRepo();
    const holder = repo.machine();
    const clock = fakeClock();
    const recoverer = repo.machine({ clock });
    await holder.add([{ id: 'long', title: 'long lease' }, { id: 'old', title: 'no recorded lease' }]);
    const long = await holder.claim({ agent: 'h', task: 'long', leaseMs: 60_000 });
    await holder.claim({ agent: 'o', task: 'old' });
    await holder.heartbeat({ agent: 'h', task: 'long', token: long.token });
    expect(recordOf(repo.bare, 'tasks/long').claim.lease_ms).toBe(60_000); // heartbeats keep it
    expect(recordOf(repo.bare, 'tasks/old').claim).not.toHaveProperty('lease_ms');
    expect((await recoverer.recover({ staleAfterMs: 2000 })).recovered).toStrictEqual([]);
    clock.advance(10_000);
    expect((await recoverer.list({ staleAfterMs: 2000 })).tasks.map((task) => [task.id, task.claim?.stale?.kind])).toStrictEqual([['long', undefined], ['old', 'expired']]);
    expect((await recoverer.recover({ staleAfterMs: 2000 })).recovered.map((item) => item.id)).toStrictEqual(['old']);
    clock.advance(51_000);
    const late = await recoverer.recover({ staleAfterMs: 2000 });
    expect(late.recovered.map((item) => item.id)).toStrictEqual(['long']);
    expect(late.recovered[0]!.reason).toMatch(/no sign of life seen for 1m\d+s on this machine \(limit 1m, the lease its holder heartbeats under\)/);
  });

  it('a lease past the longest one counts as the longest: in a record read back, and on the renewal timer of the lock taking it', async () => {
    const repo = sharedRepo();
    const holder = repo.machine();
    await holder.init();
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.name);
    process.on('warning', onWarning);
    const lock = await holder.shared.lockVerify({ leaseMs: 2 ** 40 });
    await new Promise((resolve) => setImmediate(resolve)); // Node emits a timer's overflow warning on the next tick
    process.off('warning', onWarning);
    expect(recordOf(repo.bare, 'locks/verify').lease_ms).toBe(MAX_LEASE_MS);
    expect(warnings).not.toContain('TimeoutOverflowWarning');
    await lock.release();
    expect(gitIn(repo.bare, 'for-each-ref', 'refs/parallel/store/locks/')).toBe('');

    // Written by a writer that did not bound it (on another host: its process cannot be checked here).
    const forever = holder.writer().lock(undefined, { pid: 1, host: 'other-machine' }, 'forever', 2 ** 40);
    await holder.transport.push([{ ref: 'refs/parallel/store/locks/verify', to: forever }], { atomic: true });
    const clock = fakeClock();
    const waiter = repo.machine({ clock });
    expect((await codeOf(waiter.shared.lockVerify())).message).toMatch(/its lease is 168h: left unchanged/);
    clock.advance(MAX_LEASE_MS + 1000);
    await (await waiter.shared.lockVerify()).release();
  });

  it('a verify whose lock was taken over while it merged cannot move the target: the target moves only with a renewal of the lock', async () => {
    const repo = sharedRepo();
    const stalled = repo.machine();
    await stalled.init();
    const lock = await stalled.shared.lockVerify({ leaseMs: 600_000 });
    // Its renewals do not land (a lease of 10 minutes, renewed every 200 s: none in this test); another machine watches the lock for that lease and takes it over.
    const clock = fakeClock();
    const other = repo.machine({ clock });
    expect((await codeOf(other.shared.lockVerify())).code).toBe('E_REFUSED');
    clock.advance(600_001);
    const taken = await other.shared.lockVerify();
    const before = gitIn(repo.bare, 'rev-parse', 'refs/heads/main');
    const merge = (store: GitRemoteStore, message: string): string => gitIn(store.repoRoot, 'commit-tree', '-p', before, '-m', message, `${before}^{tree}`);
    const refused = await codeOf(stalled.shared.publishBranch('main', before, merge(stalled, 'late merge')));
    expect(refused.code).toBe('E_REFUSED');
    expect(refused.message).toMatch(/lost the verify lock on origin while it merged/);
    expect(gitIn(repo.bare, 'rev-parse', 'refs/heads/main')).toBe(before);
    await lock.release();
    // The lock's holder publishes, and its lock moves with the target.
    const held = gitIn(repo.bare, 'rev-parse', 'refs/parallel/store/locks/verify');
    const next = merge(other, 'merge');
    expect(await other.shared.publishBranch('main', before, next)).toBe(true);
    expect(gitIn(repo.bare, 'rev-parse', 'refs/heads/main')).toBe(next);
    expect(gitIn(repo.bare, 'rev-parse', 'refs/parallel/store/locks/verify^')).toBe(held);
    await taken.release();
    expect(gitIn(repo.bare, 'for-each-ref', 'refs/parallel/store/locks/')).toBe('');
  });

  it('a verify lock is renewed every third of its recorded lease, and a silent one is taken over after that lease, saying when', async () => {
    const repo = sharedRepo();
    const holder = repo.machine();
    await holder.init();
    const lock = await holder.shared.lockVerify({ leaseMs: 600 });
    const first = recordOf(repo.bare, 'locks/verify');
    expect(first.lease_ms).toBe(600);
    const renewed = (): string => gitIn(repo.bare, 'rev-parse', 'refs/parallel/store/locks/verify');
    const before = renewed();
    await waitFor(() => renewed() !== before, 'the holder to renew its lock', 10_000);
    await lock.release();
    expect(gitIn(repo.bare, 'for-each-ref', 'refs/parallel/store/locks/')).toBe('');

    // A machine that died holding the lock (on another host: its process cannot be checked here).
    const dead = holder.writer().lock(undefined, { pid: 1, host: 'other-machine' }, 'dead', 3000);
    await holder.transport.push([{ ref: 'refs/parallel/store/locks/verify', to: dead }], { atomic: true });
    const clock = fakeClock();
    const waiter = repo.machine({ clock });
    const refused = await waiter.shared.lockVerify().catch((error: CliError) => error);
    expect(refused).toBeInstanceOf(CliError);
    expect((refused as CliError).details).toMatchObject({ holder: 'pid 1 on host other-machine', lease_ms: 3000, takeover_in_ms: expect.any(Number) });
    expect((refused as CliError).message).toMatch(/its lease is 3s: left unchanged, the lock is taken over in \d+m?s\)/);
    clock.advance(2000);
    expect((await codeOf(waiter.shared.lockVerify())).code).toBe('E_REFUSED');
    clock.advance(1100);
    const taken = await waiter.shared.lockVerify();
    expect(recordOf(repo.bare, 'locks/verify').lease_ms).toBe(30 * 60_000); // `verify` holds it under the default lease
    await taken.release();
  });
});

