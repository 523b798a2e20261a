// One protocol, every backend: the promises of the task store (one holder, fencing after
// recovery, attempts and blocking, release, reopen, dependencies, "nothing claimable now" against
// "no work left") checked in the same words against the local folder, a git remote over file://
// and a git remote served by git daemon on loopback.
import { afterAll, describe, expect, it } from 'vitest';
import { CliError } from '../../src/errors.ts';
import type { TaskBackend } from '../../src/store/backend.ts';
import { describeProcess, processStartTime } from '../../src/process/liveness.ts';
import { daemonBackend, fileBackend, localBackend, type BackendKind } from './protocol-backends.ts';
import { codeOf } from '../helpers/outcome.ts';

async function addTasks(store: TaskBackend, specs: { id: string; depends_on?: string[]; max_attempts?: number; role?: string }[]): Promise<void> {
  await store.add(specs.map((spec) => ({ title: `task ${spec.id}`, ...spec })));
}

const backends: BackendKind[] = [localBackend, fileBackend, daemonBackend()];
afterAll(async () => {
  for (const backend of backends) await backend.close();
});

describe.each(backends)('the task protocol on $name', (backend) => {
  it('gives a task to exactly one of two machines claiming it at once', async () => {
    const shared = await backend.create();
    const [a, b] = [shared.machine(), shared.machine()];
    await addTasks(a.store, [{ id: 'only' }]);
    const results = await Promise.allSettled([a.store.claim({ agent: 'alice' }), b.store.claim({ agent: 'bob' })]);
    const won = results.filter((result) => result.status === 'fulfilled');
    expect(won).toHaveLength(1);
    const lost = results.find((result) => result.status === 'rejected') as PromiseRejectedResult;
    expect((lost.reason as CliError).code).toBe('E_NOTHING_CLAIMABLE');
    const { tasks } = await b.store.list();
    expect(tasks.map((task) => [task.id, task.state, task.claim?.agent])).toStrictEqual([['only', 'claimed', (won[0] as PromiseFulfilledResult<{ task: { claim?: { agent: string } } }>).value.task.claim!.agent]]);
  });

  it('fences the old holder after a recovery: heartbeat, complete and fail are refused (exit 5)', async () => {
    const shared = await backend.create();
    const [holder, recoverer, next] = [shared.machine(), shared.machine(), shared.machine()];
    await addTasks(holder.store, [{ id: 'fenced', max_attempts: 3 }]);
    const { token } = await holder.store.claim({ agent: 'old' });
    const report = await recoverer.store.recover({ staleAfterMs: -1 });
    expect(report.recovered.map((item) => [item.id, item.agent, item.to, item.attempts])).toStrictEqual([['fenced', 'old', 'failed', 1]]);
    const proof = { agent: 'old', task: 'fenced', token };
    expect(await codeOf(holder.store.heartbeat(proof))).toBe('E_NOT_HOLDER');
    expect(await codeOf(holder.store.complete({ ...proof, summary: 'late' }))).toBe('E_NOT_HOLDER');
    expect(await codeOf(holder.store.fail({ ...proof, reason: 'late' }))).toBe('E_NOT_HOLDER');
    // Claimed again by someone else: the old token still proves nothing.
    const again = await next.store.claim({ agent: 'new' });
    expect(again.task).toMatchObject({ id: 'fenced', attempts: 1 });
    expect(await codeOf(holder.store.complete({ ...proof }))).toBe('E_NOT_HOLDER');
    expect(await codeOf(next.store.complete({ agent: 'new', task: 'fenced', token: again.token }))).toBe('ok');
    expect((await holder.store.get('fenced'))).toMatchObject({ state: 'completed', completed_by: 'new' });
  });

  it('counts attempts and blocks a task after max_attempts failures; then there is no work left (exit 4)', async () => {
    const shared = await backend.create();
    const [a, b] = [shared.machine(), shared.machine()];
    await addTasks(a.store, [{ id: 'flaky', max_attempts: 2 }]);
    const first = await a.store.claim({ agent: 'a' });
    expect((await a.store.fail({ agent: 'a', task: 'flaky', token: first.token, reason: 'tests fail' })).state).toBe('failed');
    const second = await b.store.claim({ agent: 'b' });
    expect(second.task).toMatchObject({ id: 'flaky', attempts: 1, last_error: 'tests fail' });
    const blocked = await b.store.fail({ agent: 'b', task: 'flaky', token: second.token, reason: 'still failing' });
    expect(blocked).toMatchObject({ state: 'blocked', attempts: 2, last_error: 'still failing' });
    expect(await codeOf(a.store.claim({ agent: 'a' }))).toBe('E_NO_WORK');
  });

  it('release gives a task back without counting an attempt (to failed once it has failed before)', async () => {
    const shared = await backend.create();
    const [a, b] = [shared.machine(), shared.machine()];
    await addTasks(a.store, [{ id: 'back', max_attempts: 3 }]);
    const one = await a.store.claim({ agent: 'a' });
    expect(await a.store.release({ agent: 'a', task: 'back', token: one.token })).toMatchObject({ state: 'available', attempts: 0 });
    const two = await b.store.claim({ agent: 'b' });
    await b.store.fail({ agent: 'b', task: 'back', token: two.token, reason: 'no' });
    const three = await a.store.claim({ agent: 'a' });
    expect(await a.store.release({ agent: 'a', task: 'back', token: three.token })).toMatchObject({ state: 'failed', attempts: 1 });
    expect(await codeOf(a.store.release({ agent: 'a', task: 'back', token: three.token }))).toBe('E_NOT_HOLDER');
  });

  it('reopens a completed task verify refused, only while it is still the completion that was judged', async () => {
    const shared = await backend.create();
    const [a, verifier] = [shared.machine(), shared.machine()];
    await addTasks(a.store, [{ id: 'judged', max_attempts: 3 }]);
    const claim = await a.store.claim({ agent: 'a' });
    const commit = a.commit('work');
    await a.store.complete({ agent: 'a', task: 'judged', token: claim.token, commit, summary: 'done' });
    expect(await codeOf(verifier.store.reopen({ task: 'judged', commit: 'deadbeef00', reason: 'judged another commit' }))).toBe('E_REFUSED');
    const reopened = await verifier.store.reopen({ task: 'judged', commit, reason: 'out of scope' });
    expect(reopened).toMatchObject({ state: 'failed', attempts: 1, last_error: 'out of scope', commit: undefined });
    expect(await codeOf(verifier.store.reopen({ task: 'judged', commit, reason: 'twice' }))).toBe('E_REFUSED');
  });

  it('waits on depends_on until another machine completes the dependency', async () => {
    const shared = await backend.create();
    const [a, b] = [shared.machine(), shared.machine()];
    await addTasks(a.store, [{ id: 'base' }, { id: 'upper', depends_on: ['base'] }]);
    const base = await a.store.claim({ agent: 'a' });
    expect(base.task.id).toBe('base');
    expect(await codeOf(b.store.claim({ agent: 'b' }))).toBe('E_NOTHING_CLAIMABLE');
    expect(await codeOf(b.store.claim({ agent: 'b', task: 'upper' }))).toBe('E_NOTHING_CLAIMABLE');
    await a.store.complete({ agent: 'a', task: 'base', token: base.token });
    expect((await b.store.claim({ agent: 'b' })).task.id).toBe('upper');
  });

  it('tells "nothing claimable now" (exit 3) from "no work left" (exit 4), and "not found" for an unknown task', async () => {
    const shared = await backend.create();
    const [a, b] = [shared.machine(), shared.machine()];
    await addTasks(a.store, [{ id: 'x' }, { id: 'y', role: 'qa' }]);
    expect(await codeOf(b.store.claim({ agent: 'b', role: 'docs' }))).toBe('E_NOTHING_CLAIMABLE');
    expect(await codeOf(b.store.claim({ agent: 'b', task: 'nope' }))).toBe('E_NOT_FOUND');
    const x = await a.store.claim({ agent: 'a', task: 'x' });
    const y = await b.store.claim({ agent: 'b', role: 'qa' });
    expect(await codeOf(a.store.claim({ agent: 'c' }))).toBe('E_NOTHING_CLAIMABLE');
    await a.store.complete({ agent: 'a', task: 'x', token: x.token });
    await b.store.complete({ agent: 'b', task: 'y', token: y.token });
    expect(await codeOf(a.store.claim({ agent: 'c' }))).toBe('E_NO_WORK');
  });

  it('holder operations need the token or a verified identity; a wrong token is refused', async () => {
    const shared = await backend.create();
    const [a] = [shared.machine()];
    await addTasks(a.store, [{ id: 'proof' }]);
    const session = describeProcess(process.pid);
    const claim = await a.store.claim({ agent: 'a', holder: session });
    expect(await codeOf(a.store.heartbeat({ agent: 'a', task: 'proof' }))).toBe('E_NOT_HOLDER');
    expect(await codeOf(a.store.heartbeat({ agent: 'a', task: 'proof', token: '0'.repeat(32) }))).toBe('E_NOT_HOLDER');
    expect(await codeOf(a.store.heartbeat({ agent: 'a', task: 'proof', token: 'short' }))).toBe('E_INVALID');
    expect(await codeOf(a.store.heartbeat({ agent: 'a', task: 'proof', identityVerified: true, caller: session }))).toBe('ok');
    expect((await a.store.heldBy('a', session)).map((task) => task.id)).toStrictEqual(['proof']);
    expect(await codeOf(a.store.complete({ agent: 'a', task: 'proof', token: claim.token }))).toBe('ok');
    expect(await a.store.heldBy('a')).toStrictEqual([]);
  });

  it('adds each id once across machines, and refuses a dependency on a task that does not exist', async () => {
    const shared = await backend.create();
    const [a, b] = [shared.machine(), shared.machine()];
    await addTasks(a.store, [{ id: 'one' }]);
    expect(await codeOf(addTasks(b.store, [{ id: 'one' }]))).toBe('E_EXISTS');
    expect(await codeOf(addTasks(b.store, [{ id: 'two', depends_on: ['ghost'] }]))).toBe('E_UNKNOWN_DEP');
    await addTasks(b.store, [{ id: 'two', depends_on: ['one'] }, { id: 'three', depends_on: ['two'] }]);
    expect((await a.store.list()).tasks.map((task) => task.id)).toStrictEqual(['one', 'three', 'two']);
  });

  it('keeps every field a task was added with, as another machine reads it', async () => {
    const shared = await backend.create();
    const [a, b] = [shared.machine(), shared.machine()];
    const spec = {
      id: 'full', title: 'every field', role: 'backend', files: ['src/api/**'], reads: ['docs/**'], max_attempts: 5,
      estimate: '20m', check: 'npm test -- api', plan: 'release', body: 'Do the **thing**.\n',
    };
    await a.store.add([{ id: 'dep', title: 'dependency' }, { ...spec, depends_on: ['dep'] }]);
    const read = await b.store.get('full');
    expect(read).toMatchObject({ ...spec, depends_on: ['dep'], attempts: 0, state: 'available' });
  });
});

describe('a store shared across machines', () => {
  it('lets a verified identity act only for a claim its own session holds on this machine: every machine names its agents alike', async () => {
    const a = (await fileBackend.create()).machine();
    const ids = ['mine', 'unheld', 'far', 'sibling'];
    await addTasks(a.store, ids.map((id) => ({ id })));
    const session = describeProcess(process.pid);
    const holders = {
      mine: session,
      unheld: undefined, // a claim made without a holder: by hand, or on a machine that records none
      far: { ...session, host: 'f0f0f0f0' }, // the same pid on another machine
      sibling: { pid: process.ppid, start: processStartTime(process.ppid), host: session.host }, // another session here
    };
    const tokens = new Map<string, string>();
    for (const id of ids) tokens.set(id, (await a.store.claim({ agent: 'dev-1', task: id, holder: holders[id as keyof typeof holders] })).token);
    expect((await a.store.heldBy('dev-1', session)).map((task) => task.id)).toStrictEqual(['mine']);
    expect((await a.store.heldBy('dev-1')).map((task) => task.id)).toStrictEqual(['mine', 'sibling']);
    for (const id of ['unheld', 'far', 'sibling']) {
      expect(await codeOf(a.store.fail({ agent: 'dev-1', task: id, reason: 'stopped', identityVerified: true, caller: session })), id).toBe('E_NOT_HOLDER');
      expect(await codeOf(a.store.heartbeat({ agent: 'dev-1', task: id, token: tokens.get(id) })), id).toBe('ok');
    }
    expect(await codeOf(a.store.fail({ agent: 'dev-1', task: 'mine', reason: 'stopped', identityVerified: true, caller: session }))).toBe('ok');
    expect(await codeOf(a.store.heartbeat({ agent: 'dev-1', task: 'sibling', identityVerified: true }))).toBe('E_NOT_HOLDER');
  });
});
