// Pushes spoken directly to receive-pack (file:// and git://), and every way back to git push:
// what the server ends up with is checked with git on the server (fsck, the refs), never by
// trusting the client's answer. Real git daemon, real receive-pack processes.
import { execFileSync } from 'node:child_process';
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GitRemoteStore } from '../../src/store/git-remote/git-remote-store.ts';
import { ObjectWriter } from '../../src/store/git-remote/objects.ts';
import { cloneRepo, createBareRepo, gitIn } from '../helpers/git-server.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { codeOf } from '../helpers/outcome.ts';
import { servedByGitDaemon } from '../helpers/served-daemon.ts';

const server = servedByGitDaemon('pa-direct-daemon-');
let repos = 0;

type Via = 'file://' | 'git daemon';

function shared(via: Via): { bare: string; machine(): GitRemoteStore } {
  const name = `direct${repos++}`;
  const bare = createBareRepo(server.dir, name);
  const base = tempDir('pa-direct-');
  let machines = 0;
  return {
    bare,
    machine: () => {
      const clone = cloneRepo(via === 'file://' ? `file://${bare}` : server.daemon.url(name), join(base, `m${machines++}`));
      return new GitRemoteStore({ cwd: clone, remote: 'origin', localDir: join(clone, '_tasks'), env: {} });
    },
  };
}

const TASK_REF = (id: string): string => `refs/parallel/store/tasks/${id}`;
const serverRef = (bare: string, ref: string): string => gitIn(bare, 'rev-parse', '--verify', '-q', ref);
const cacheRef = (store: GitRemoteStore, id: string): string => gitIn(store.repoRoot, 'rev-parse', '--verify', '-q', `refs/parallel/cache/origin/tasks/${id}`);

describe.each<Via>(['file://', 'git daemon'])('direct pushes over %s', (via) => {
  it('every holder transition is one direct connection; the server holds whole, connected objects and the cache follows', async () => {
    const { bare, machine } = shared(via);
    const store = machine();
    await store.add([{ id: 't1', title: 'one' }, { id: 't2', title: 'two' }]);
    const before = { ...store.transport.stats };
    const held = await store.claim({ agent: 'a' });
    await store.heartbeat({ agent: 'a', task: held.task.id, token: held.token });
    await store.fail({ agent: 'a', task: held.task.id, token: held.token, reason: 'broke' });
    const again = await store.claim({ agent: 'a', task: held.task.id });
    await store.release({ agent: 'a', task: held.task.id, token: again.token });
    expect(store.transport.stats.pushes - before.pushes).toBe(5);
    expect(store.transport.stats.direct - before.direct).toBe(5);
    expect(store.transport.stats.fetches).toBe(before.fetches);
    execFileSync('git', ['fsck', '--strict', '--no-dangling'], { cwd: bare, stdio: 'pipe' });
    expect(gitIn(bare, 'log', '--first-parent', '--reverse', '--format=%s', TASK_REF(held.task.id)).split('\n').map((line) => line.split(' ')[0])).toEqual(['add', 'claim', 'heartbeat', 'fail', 'claim', 'release']);
    expect(cacheRef(store, held.task.id)).toBe(serverRef(bare, TASK_REF(held.task.id)));
    // Another machine reads exactly what was pushed.
    expect((await machine().get(held.task.id))?.state).toBe('failed');
  });

  it('a transition that keeps the task file sends its commit alone, even from the clone that wrote the file', async () => {
    const { bare, machine } = shared(via);
    // Every push is kept as the pack it came in, so the server's packed objects count what was sent.
    gitIn(bare, 'config', 'receive.unpackLimit', '1');
    const store = machine();
    await store.add([{ id: 't1', title: 'one' }]);
    const inPack = (): number => Number(/^in-pack: (\d+)$/m.exec(gitIn(bare, 'count-objects', '-v'))![1]);
    const before = inPack();
    const held = await store.claim({ agent: 'a' });
    expect(inPack() - before).toBe(1);
    await store.heartbeat({ agent: 'a', task: held.task.id, token: held.token });
    expect(inPack() - before).toBe(2);
    execFileSync('git', ['fsck', '--strict', '--no-dangling'], { cwd: bare, stdio: 'pipe' });
  });

  it('the server checks every old value: a stale read, an existing ref created, a deletion without its lease are refused and change nothing', async () => {
    const { bare, machine } = shared(via);
    const store = machine();
    await store.add([{ id: 't1', title: 'one' }]);
    const first = serverRef(bare, TASK_REF('t1'));
    const held = await store.claim({ agent: 'a' });
    const now = serverRef(bare, TASK_REF('t1'));
    const tree = gitIn(bare, 'rev-parse', `${first}^{tree}`);
    const stale = new ObjectWriter(join(gitIn(store.repoRoot, 'rev-parse', '--path-format=absolute', '--git-common-dir'), 'objects'), 'sha1').commit({ tree, parents: [first], message: 'stale\n', time: 1 });
    const outcomes = await store.transport.push([{ ref: TASK_REF('t1'), to: stale, was: first }], { atomic: true });
    expect(outcomes.get(TASK_REF('t1'))!.outcome).toBe('rejected');
    const created = await store.transport.push([{ ref: TASK_REF('t1'), to: stale, was: null }], { atomic: true });
    expect(created.get(TASK_REF('t1'))!.outcome).toBe('rejected');
    const deleted = await store.transport.push([{ ref: TASK_REF('t1'), to: null, lease: first }], { atomic: true });
    expect(deleted.get(TASK_REF('t1'))!.outcome).toBe('rejected');
    expect(serverRef(bare, TASK_REF('t1'))).toBe(now);
    // And the holder is untouched by all that.
    await store.heartbeat({ agent: 'a', task: 't1', token: held.token });
  });

  it('an atomic push with one stale update sends none of them', async () => {
    const { bare, machine } = shared(via);
    const store = machine();
    await store.add([{ id: 't1', title: 'one' }, { id: 't2', title: 't' }]);
    const [one, two] = [serverRef(bare, TASK_REF('t1')), serverRef(bare, TASK_REF('t2'))];
    const objects = join(gitIn(store.repoRoot, 'rev-parse', '--path-format=absolute', '--git-common-dir'), 'objects');
    const writer = new ObjectWriter(objects, 'sha1');
    const tree = gitIn(bare, 'rev-parse', `${one}^{tree}`);
    const next1 = writer.commit({ tree, parents: [one], message: 'x\n', time: 1 });
    const next2 = writer.commit({ tree, parents: [one], message: 'y\n', time: 1 });
    const outcomes = await store.transport.push([{ ref: TASK_REF('t1'), to: next1, was: one }, { ref: TASK_REF('t2'), to: next2, was: one }], { atomic: true });
    expect([...outcomes.values()].map((value) => value.outcome)).toEqual(['rejected', 'rejected']);
    expect([serverRef(bare, TASK_REF('t1')), serverRef(bare, TASK_REF('t2'))]).toEqual([one, two]);
  });

  it('a tree this clone holds only packed, which the server lacks: the server refuses the commit, nothing lands, and git push sends the tree', async () => {
    const { bare, machine } = shared(via);
    const store = machine();
    await store.add([{ id: 't1', title: 'one' }]);
    const was = serverRef(bare, TASK_REF('t1'));
    const clone = store.repoRoot;
    const blob = execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: clone, input: '---\nid: t1\ntitle: packed\n---\n' }).toString().trim();
    const tree = execFileSync('git', ['mktree'], { cwd: clone, input: `100644 blob ${blob}\ttask.md\n` }).toString().trim();
    const objects = join(gitIn(clone, 'rev-parse', '--path-format=absolute', '--git-common-dir'), 'objects');
    execFileSync('git', ['pack-objects', '-q', join(objects, 'pack', 'pack')], { cwd: clone, input: `${blob}\n${tree}\n` });
    for (const id of [blob, tree]) unlinkSync(join(objects, id.slice(0, 2), id.slice(2)));
    const commit = new ObjectWriter(objects, 'sha1').commit({ tree, parents: [was], message: 'packed tree\n', time: 1 });
    const before = { ...store.transport.stats };
    const outcomes = await store.transport.push([{ ref: TASK_REF('t1'), to: commit, was }], { atomic: true });
    expect(outcomes.get(TASK_REF('t1'))!.outcome).toBe('ok');
    expect(serverRef(bare, TASK_REF('t1'))).toBe(commit);
    expect(store.transport.stats.pushes - before.pushes).toBe(2);
    expect(store.transport.stats.direct - before.direct).toBe(1);
    execFileSync('git', ['fsck', '--strict', '--no-dangling'], { cwd: bare, stdio: 'pipe' });
  });

  it('a completion that publishes work goes through git push, with its history', async () => {
    const { bare, machine } = shared(via);
    const store = machine();
    await store.add([{ id: 't1', title: 'one' }]);
    const held = await store.claim({ agent: 'a' });
    const clone = store.repoRoot;
    execFileSync('git', ['checkout', '-q', '-b', 'work/t1'], { cwd: clone });
    for (const n of [1, 2]) execFileSync('git', ['commit', '-q', '--allow-empty', '-m', `work ${n}`], { cwd: clone });
    const before = { ...store.transport.stats };
    await store.complete({ agent: 'a', task: 't1', token: held.token, commit: 'HEAD', evidence: { branch: 'work/t1', base: gitIn(clone, 'rev-parse', 'HEAD~2') } });
    expect(store.transport.stats.direct).toBe(before.direct);
    expect(serverRef(bare, 'refs/heads/work/t1')).toBe(gitIn(clone, 'rev-parse', 'HEAD'));
    execFileSync('git', ['fsck', '--strict', '--no-dangling'], { cwd: bare, stdio: 'pipe' });
  });
});

describe('what is never spoken directly', () => {
  it('a push URL that git rewrites (insteadOf) or another receive-pack: git push does it, and it works', async () => {
    for (const setup of ['insteadOf', 'receivepack'] as const) {
      const { bare, machine } = shared('file://');
      const store = machine();
      const clone = store.repoRoot;
      if (setup === 'insteadOf') {
        gitIn(clone, 'config', `url.file://${bare}.insteadOf`, 'shared:');
        gitIn(clone, 'remote', 'set-url', 'origin', 'shared:');
      } else gitIn(clone, 'config', 'remote.origin.receivepack', 'git-receive-pack');
      const fresh = new GitRemoteStore({ cwd: clone, remote: 'origin', localDir: join(clone, '_tasks'), env: {} });
      await fresh.add([{ id: 't1', title: 'one' }]);
      await fresh.claim({ agent: 'a' });
      expect(fresh.transport.stats.direct, setup).toBe(0);
      expect(gitIn(bare, 'log', '-1', '--format=%s', TASK_REF('t1')), setup).toMatch(/^claim t1 by a/);
    }
  });
});

describe('a long-lived claimer', () => {
  it('claims from what it knows without fetching, and fetches only when that runs out: tasks added or released elsewhere are found', async () => {
    const { machine } = shared('git daemon');
    const runner = machine();
    const other = machine();
    await other.add([{ id: 't1', title: 'one' }, { id: 't2', title: 'two' }]);
    const first = await runner.claim({ agent: 'r' });
    const fetchesAfterFirst = runner.transport.stats.fetches;
    await other.add([{ id: 't3', title: 'three' }]);
    const second = await runner.claim({ agent: 'r' });
    expect(runner.transport.stats.fetches).toBe(fetchesAfterFirst);
    expect(new Set([first.task.id, second.task.id])).toEqual(new Set(['t1', 't2']));
    const third = await runner.claim({ agent: 'r' });
    expect(third.task.id).toBe('t3');
    expect(runner.transport.stats.fetches).toBeGreaterThan(fetchesAfterFirst);
    // Everything is held now: "nothing claimable" is said only after a look at the remote.
    expect(await codeOf(runner.claim({ agent: 'r' }))).toBe('E_NOTHING_CLAIMABLE');
    // A task released on another machine becomes claimable for the long-lived one.
    const taken = await other.claim({ agent: 'o', task: 't1' }).catch(() => undefined);
    expect(taken).toBeUndefined();
    await runner.release({ agent: 'r', task: 't3', token: third.token });
    const back = await other.claim({ agent: 'o' });
    expect(back.task.id).toBe('t3');
    await other.release({ agent: 'o', task: 't3', token: back.token });
    expect((await runner.claim({ agent: 'r' })).task.id).toBe('t3');
  });

  it('a dependency completed in its view but reopened on another machine since holds its dependents back', async () => {
    const { machine } = shared('git daemon');
    const runner = machine();
    const other = machine();
    await other.add([{ id: 'd', title: 'dependency' }, { id: 'x', title: 'needs d', depends_on: ['d'] }, { id: 'z', title: 'free' }]);
    const dep = await other.claim({ agent: 'o', task: 'd' });
    await other.complete({ agent: 'o', task: 'd', token: dep.token });
    // The runner's view: d completed, so x is claimable in it.
    await runner.claim({ agent: 'r', task: 'z' });
    await other.reopen({ task: 'd', commit: undefined, reason: 'verify refused it' });
    // d is back to failed: d is what can be claimed, never x.
    expect((await runner.claim({ agent: 'r' })).task.id).toBe('d');
    expect((await other.get('x'))?.state).toBe('available');
  });

  it('a task another machine claimed and released since: one connection sees it moved, one fetch, one connection claims it', async () => {
    const { machine } = shared('git daemon');
    const runner = machine();
    const other = machine();
    await other.add([{ id: 't1', title: 'one' }, { id: 't2', title: 'two' }]);
    const first = await runner.claim({ agent: 'r' });
    const left = first.task.id === 't1' ? 't2' : 't1';
    const taken = await other.claim({ agent: 'o', task: left });
    await other.release({ agent: 'o', task: left, token: taken.token });
    const before = { ...runner.transport.stats };
    expect((await runner.claim({ agent: 'r' })).task.id).toBe(left);
    expect([runner.transport.stats.pushes - before.pushes, runner.transport.stats.fetches - before.fetches]).toEqual([2, 1]);
  });
});
