// The direct push (receive-pack.ts, direct-push.ts, live-claim.ts) at its edges: each test states
// what git push does (or what the store promises) where the direct path could do something else:
// config git push obeys, servers that fail or stall, locks left behind, URLs git reads its own way.
import { chmodSync, existsSync, utimesSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/errors.ts';
import { GitRemoteStore } from '../../src/store/git-remote/git-remote-store.ts';
import { ObjectWriter } from '../../src/store/git-remote/objects.ts';
import { cloneRepo, createBareRepo, gitIn, startGitDaemon } from '../helpers/git-server.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { codeOf } from '../helpers/outcome.ts';

function shared(): { bare: string; machine(env?: NodeJS.ProcessEnv): GitRemoteStore } {
  const base = tempDir('pa-review-');
  const bare = createBareRepo(base, 'shared');
  let machines = 0;
  return {
    bare,
    machine: (env = {}) => {
      const clone = cloneRepo(`file://${bare}`, join(base, `m${machines++}`));
      return new GitRemoteStore({ cwd: clone, remote: 'origin', localDir: join(clone, '_tasks'), env: { PARALLEL_REMOTE_RETRIES: '0', ...env } });
    },
  };
}

describe('the direct push where git push would act otherwise', () => {
  it('a server that cannot unpack the claim: the claim fails as the remote failing, never "nothing claimable"', async () => {
    const { bare, machine } = shared();
    const store = machine();
    await store.add([{ id: 't1', title: 'one' }]);
    // Any pack is now too big for the server: receive-pack answers "unpack <error>".
    gitIn(bare, 'config', 'receive.maxInputSize', '1');
    const code = await codeOf(store.claim({ agent: 'a' }));
    expect(code).toBe('E_GIT');
    gitIn(bare, 'config', '--unset', 'receive.maxInputSize');
    // The task is still there, and claimable.
    expect((await store.claim({ agent: 'a' })).task.id).toBe('t1');
  });

  it('protocol.file.allow=never is obeyed as git push obeys it: nothing is pushed', async () => {
    const { bare, machine } = shared();
    const store = machine();
    await store.add([{ id: 't1', title: 'one' }]);
    gitIn(store.repoRoot, 'config', 'protocol.file.allow', 'never');
    const fresh = new GitRemoteStore({ cwd: store.repoRoot, remote: 'origin', localDir: join(store.repoRoot, '_tasks'), env: { PARALLEL_REMOTE_RETRIES: '0' } });
    const before = gitIn(bare, 'rev-parse', 'refs/parallel/store/tasks/t1');
    expect(await codeOf(fresh.claim({ agent: 'a' }))).not.toBe('ok');
    expect(gitIn(bare, 'rev-parse', 'refs/parallel/store/tasks/t1')).toBe(before);
  });

  it('core.gitProxy is how git reaches a git:// host: the direct push goes through it too, as git push does', async () => {
    const served = tempDir('pa-review-proxy-');
    const daemon = await startGitDaemon(served);
    try {
      const bare = createBareRepo(served, 'shared');
      // The host name resolves nowhere; only the proxy command reaches the daemon.
      const clone = cloneRepo(daemon.url('shared'), join(served, 'm0'));
      const proxy = join(served, 'proxy.sh');
      writeFileSync(proxy, `#!/bin/sh\nexec node -e 'const s = require("net").connect(${daemon.port}, "127.0.0.1"); process.stdin.pipe(s); s.pipe(process.stdout)'\n`);
      chmodSync(proxy, 0o755);
      gitIn(clone, 'config', 'core.gitProxy', proxy);
      gitIn(clone, 'remote', 'set-url', 'origin', `git://no-such-host.invalid:${daemon.port}/shared.git`);
      const store = new GitRemoteStore({ cwd: clone, remote: 'origin', localDir: join(clone, '_tasks'), env: { PARALLEL_REMOTE_RETRIES: '0' } });
      await store.add([{ id: 't1', title: 'one' }]);
      expect((await store.claim({ agent: 'a' })).task.id).toBe('t1');
      expect(gitIn(bare, 'log', '-1', '--format=%s', 'refs/parallel/store/tasks/t1')).toMatch(/^claim t1 by a/);
    } finally {
      await daemon.stop();
    }
  });

  it('a server-side receive-pack stalled while it holds the ref lock: the timeout stops it without leaving the lock, so the task stays claimable', async () => {
    const { bare, machine } = shared();
    const store = machine({ PARALLEL_REMOTE_TIMEOUT_MS: '1500' });
    await store.add([{ id: 't1', title: 'one' }]);
    // The first transaction stalls once its locks are taken ("prepared"), as a slow disk or a hung hook would.
    const marker = join(bare, 'stalled-once');
    writeFileSync(join(bare, 'hooks', 'reference-transaction'), `#!/bin/sh\ncat >/dev/null\nif [ "$1" = prepared ] && [ ! -e '${marker}' ]; then : > '${marker}'; exec sleep 3600; fi\n`);
    chmodSync(join(bare, 'hooks', 'reference-transaction'), 0o755);
    expect(await codeOf(store.claim({ agent: 'a' }))).toBe('E_GIT');
    expect(existsSync(marker)).toBe(true);
    // Nothing was applied; a second machine can claim the task.
    expect((await machine().claim({ agent: 'b' })).task.id).toBe('t1');
  });

  it('a ref the server cannot lock (a lock file left behind): the claim reports the server\'s reason, not contention, and does not spin 24 rounds', async () => {
    const { bare, machine } = shared();
    const store = machine();
    await store.add([{ id: 't1', title: 'one' }]);
    writeFileSync(join(bare, 'refs', 'parallel', 'store', 'tasks', 't1.lock'), '');
    const before = store.transport.stats.pushes;
    const error = await store.claim({ agent: 'a' }).then(() => undefined, (caught: unknown) => caught as CliError);
    expect(error?.message).toMatch(/lock/);
    expect(store.transport.stats.pushes - before).toBeLessThan(5);
  });

  it('git://host/~user/repo: the direct push asks the daemon for the same path git push asks for', async () => {
    const requests: string[] = [];
    const server = createServer((socket) => {
      // The request is one pkt-line: read all of it, however TCP splits it, then hang up.
      let got = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        got = Buffer.concat([got, chunk]);
        const size = got.length >= 4 ? Number.parseInt(got.subarray(0, 4).toString('latin1'), 16) : Infinity;
        if (got.length < size) return;
        requests.push(got.subarray(4, size).toString('latin1').split('\0')[0]!);
        socket.destroy();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { machine } = shared();
      const store = machine();
      await store.add([{ id: 't1', title: 'one' }]);
      const url = `git://127.0.0.1:${(server.address() as AddressInfo).port}/~someone/shared.git`;
      gitIn(store.repoRoot, 'remote', 'set-url', 'origin', url);
      await new Promise((resolve) => spawn('git', ['push', url, 'HEAD:refs/heads/probe'], { cwd: store.repoRoot, stdio: 'ignore' }).on('close', resolve));
      // git strips the slash before ~ (git daemon's --user-path reads "~user/...").
      expect(requests, 'what git push asked for').toEqual(['git-receive-pack ~someone/shared.git']);
      const fresh = new GitRemoteStore({ cwd: store.repoRoot, remote: 'origin', localDir: join(store.repoRoot, '_tasks'), env: { PARALLEL_REMOTE_RETRIES: '0' } });
      const error = await fresh.claim({ agent: 'a' }).then(() => undefined, (caught: unknown) => caught as CliError);
      expect(error?.code, error?.message).toBe('E_GIT');
      expect(requests.slice(1), 'what the direct push asked for').toEqual(['git-receive-pack ~someone/shared.git']);
    } finally {
      server.close();
    }
  });

  it('a cache ref lock left by a killed writer (a fetch stopped by its timeout, a kill -9): the view is not stuck for ever', async () => {
    const { machine } = shared();
    const a = machine();
    const b = machine();
    await a.add([{ id: 't1', title: 'one' }]);
    const lock = join(a.repoRoot, '.git', 'refs', 'parallel', 'cache', 'origin', 'tasks', 't1.lock');
    writeFileSync(lock, '');
    await b.claim({ agent: 'b' });
    // A lock as recent as a live writer's is left to that writer: the view waits.
    expect((await a.get('t1'))?.state).toBe('available');
    // One older than any git call could hold it (twice the network timeout) was left by a killed writer.
    const old = new Date(Date.now() - 10 * 60_000);
    utimesSync(lock, old, old);
    // "cannot lock ref" is taken for a peer of this clone writing a view as recent: nobody is writing.
    expect((await a.get('t1'))?.state).toBe('claimed');
  });

  it('an update that is not a fast-forward (a parentless commit over the value read) is refused, as git push without force refuses it', async () => {
    const { bare, machine } = shared();
    const store = machine();
    await store.add([{ id: 't1', title: 'one' }]);
    const ref = 'refs/parallel/store/tasks/t1';
    const was = gitIn(bare, 'rev-parse', ref);
    const objects = join(store.transport.target.gitCommonDir, 'objects');
    const root = new ObjectWriter(objects, 'sha1').commit({ tree: gitIn(store.repoRoot, 'rev-parse', `${was}^{tree}`), parents: [], message: 'unrelated\n', time: 1 });
    const outcomes = await store.transport.push([{ ref, to: root, was }], { atomic: true });
    expect(outcomes.get(ref)!.outcome).toBe('rejected');
    expect(gitIn(bare, 'rev-parse', ref)).toBe(was);
  });

  it('a receive-pack killed mid-push: the one-line error says it was killed, not "exited with code null"', async () => {
    const { bare, machine } = shared();
    const store = machine();
    await store.add([{ id: 't1', title: 'one' }]);
    writeFileSync(join(bare, 'hooks', 'pre-receive'), '#!/bin/sh\ncat >/dev/null\nkill -9 $PPID\n');
    chmodSync(join(bare, 'hooks', 'pre-receive'), 0o755);
    const message = await store.claim({ agent: 'a' }).then(() => 'ok', (error: Error) => error.message);
    expect(message.split('\n')).toHaveLength(1);
    expect(message).toMatch(/receive-pack was killed by SIGKILL/);
  });

  it('two pushurl values: the push reaches both, as git push pushes to each', async () => {
    const { bare, machine } = shared();
    const store = machine();
    await store.add([{ id: 't1', title: 'one' }]);
    const mirror = createBareRepo(tempDir('pa-review-mirror-'), 'mirror');
    gitIn(mirror, 'fetch', '-q', bare, '+refs/*:refs/*');
    gitIn(store.repoRoot, 'config', '--add', 'remote.origin.pushurl', `file://${bare}`);
    gitIn(store.repoRoot, 'config', '--add', 'remote.origin.pushurl', `file://${mirror}`);
    const fresh = new GitRemoteStore({ cwd: store.repoRoot, remote: 'origin', localDir: join(store.repoRoot, '_tasks'), env: { PARALLEL_REMOTE_RETRIES: '0' } });
    await fresh.add([{ id: 't2', title: 'two' }]);
    expect(gitIn(mirror, 'rev-parse', '--verify', '-q', 'refs/parallel/store/tasks/t2')).toBe(gitIn(bare, 'rev-parse', 'refs/parallel/store/tasks/t2'));
  });
});
