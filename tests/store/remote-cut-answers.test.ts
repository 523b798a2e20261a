// Writes whose answer, or whose process, was cut at the worst moment: a verify lock renewal that
// landed unanswered, a claim cut before the server applied it, a git helper that outlives its
// timeout. Real git daemon, a real TCP proxy in front of it, real processes.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GitTimeout, runGitAsync } from '../../src/repo/run-git.ts';
import { GitRemoteStore } from '../../src/store/git-remote/git-remote-store.ts';
import { cloneRepo, createBareRepo, gitIn, startProxy } from '../helpers/git-server.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { waitFor } from '../runner/fixtures.ts';
import { outcomeOf as codeOf } from '../helpers/outcome.ts';
import { servedByGitDaemon } from '../helpers/served-daemon.ts';

const server = servedByGitDaemon('pa-review-two-');
let repos = 0;

const FAST = { PARALLEL_REMOTE_TIMEOUT_MS: '1500', PARALLEL_REMOTE_RETRIES: '1' };

function sharedRepo(): { name: string; bare: string; machine(options?: { url?: string; env?: Record<string, string> }): GitRemoteStore } {
  const name = `repo${repos++}`;
  const bare = createBareRepo(server.dir, name);
  const base = tempDir('pa-review-two-');
  let machines = 0;
  return {
    name,
    bare,
    machine: (options = {}) => {
      const clone = cloneRepo(server.daemon.url(name), join(base, `machine-${machines++}`));
      if (options.url) gitIn(clone, 'remote', 'set-url', 'origin', options.url);
      return new GitRemoteStore({ cwd: clone, remote: 'origin', localDir: join(clone, '_tasks'), env: options.env ?? {} });
    },
  };
}

describe('the verify lock', () => {
  it('a renewal that landed although its answer was lost is still this verify\'s lock: the publish goes through and the release removes it', async () => {
    const repo = sharedRepo();
    await repo.machine().init();
    const proxy = await startProxy(server.daemon.port);
    try {
      const holder = repo.machine({ url: proxy.url(repo.name), env: FAST });
      const lock = await holder.shared.lockVerify({ leaseMs: 600 });
      const taken = gitIn(repo.bare, 'rev-parse', 'refs/parallel/store/locks/verify');
      // The next push through the proxy is the first renewal: the server applies it, its answer is cut.
      let dropped = false;
      proxy.on('down', 'unpack ok', () => {
        dropped = true;
        proxy.cut();
        return false;
      });
      await waitFor(() => dropped, 'a renewal whose answer is lost');
      const renewed = gitIn(repo.bare, 'rev-parse', 'refs/parallel/store/locks/verify');
      expect(gitIn(repo.bare, 'rev-parse', 'refs/parallel/store/locks/verify^')).toBe(taken);
      // Nobody else touched the lock: it is this verify's, renewed by itself.
      const before = gitIn(repo.bare, 'rev-parse', 'refs/heads/main');
      const next = gitIn(holder.repoRoot, 'commit-tree', '-p', before, '-m', 'merge', `${before}^{tree}`);
      const published = await codeOf(holder.shared.publishBranch('main', before, next));
      expect(published).toStrictEqual({ code: 'ok', message: '' });
      expect(gitIn(repo.bare, 'rev-parse', 'refs/heads/main')).toBe(next);
      expect(gitIn(repo.bare, 'rev-list', '--count', `${renewed}..refs/parallel/store/locks/verify`)).not.toBe('0');
      await lock.release();
      expect(gitIn(repo.bare, 'for-each-ref', 'refs/parallel/store/locks/')).toBe('');
    } finally {
      await proxy.close();
    }
  });
});

describe('a git call stopped by its timeout', () => {
  it('a helper in its process group that does not die of SIGTERM (a stopped upload-pack) is still killed', async () => {
    const repo = sharedRepo();
    const clone = repo.machine().repoRoot;
    const dir = tempDir('pa-review-two-stall-');
    const pidFile = join(dir, 'upload-pack.pid');
    const script = join(dir, 'stalled-upload-pack');
    // The server side of a local fetch stops itself before it says anything: a hung server.
    writeFileSync(script, `#!/bin/sh\necho $$ > '${pidFile}'\nkill -STOP $$\nexec git-upload-pack "$@"\n`, { mode: 0o755 });
    gitIn(clone, 'config', 'remote.origin.uploadpack', script);
    gitIn(clone, 'remote', 'set-url', 'origin', repo.bare);
    const stopped = await runGitAsync(['fetch', 'origin'], { cwd: clone, timeoutMs: 300 }).then(() => undefined, (error: unknown) => error);
    expect(stopped).toBeInstanceOf(GitTimeout);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const state = (): string => {
      try {
        return /^\d+ \(.*\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))![1]!;
      } catch {
        return 'gone';
      }
    };
    try {
      // SIGTERM, then SIGKILL 2 s later: well within 8 s the helper is dead (gone, or a zombie nobody reaped yet).
      await waitFor(() => state() === 'gone' || state() === 'Z', 'the stopped upload-pack to be killed', 8000).catch(() => undefined);
      expect(state()).toMatch(/^(gone|Z)$/);
    } finally {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  });
});

describe('the live claim', () => {
  it('a claim whose push was cut before the server applied it tries that task again: the only task, free, is claimed', async () => {
    const repo = sharedRepo();
    await repo.machine().add([{ id: 'solo', title: 'the only task' }]);
    const proxy = await startProxy(server.daemon.port);
    try {
      const claimer = repo.machine({ url: proxy.url(repo.name), env: FAST });
      let cut = false;
      // The claim's commands go up; the connection dies before the server reads them: nothing applied.
      proxy.on('up', 'report-status', () => {
        cut = true;
        proxy.cut();
        return false;
      });
      const claimed = await codeOf(claimer.claim({ agent: 'c' }));
      expect(cut).toBe(true);
      expect(claimed).toStrictEqual({ code: 'ok', message: '' });
      expect(gitIn(repo.bare, 'log', '--format=%s', 'refs/parallel/store/tasks/solo').split('\n')).toHaveLength(2);
    } finally {
      await proxy.close();
    }
  });
});
