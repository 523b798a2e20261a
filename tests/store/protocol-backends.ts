// The backends the protocol suite runs against, each behind one small interface: a fresh store,
// and "another machine" on it (for the local store another process's view of the same folder;
// for the git-remote store a new clone of the same remote, with its own cache and clock).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { TaskBackend } from '../../src/store/backend.ts';
import type { StoreClock } from '../../src/store/git-remote/clock.ts';
import { GitRemoteStore } from '../../src/store/git-remote/git-remote-store.ts';
import { LocalStore } from '../../src/store/local/local-store.ts';
import { cloneRepo, createBareRepo, gitIn, startGitDaemon, type GitDaemon } from '../helpers/git-server.ts';
import { tempDir } from '../helpers/temp-dir.ts';

export interface Machine {
  store: TaskBackend;
  /** A commit this machine can name as evidence. */
  commit(label: string): string;
}

export interface ProtocolStore {
  machine(options?: { clock?: StoreClock }): Machine;
}

export interface BackendKind {
  name: string;
  /** A fresh, initialised, empty store. */
  create(): Promise<ProtocolStore>;
  /** Called once after the suite (stops servers). */
  close(): Promise<void>;
}

export const localBackend: BackendKind = {
  name: 'local folder',
  async create() {
    const dir = join(tempDir('pa-proto-'), '_tasks');
    const open = (): LocalStore => new LocalStore({ dir, repoRoot: undefined, gitCommonDir: undefined });
    await open().init();
    let n = 0;
    return { machine: () => ({ store: open(), commit: () => `${(++n).toString(16).padStart(7, '0')}abc` }) };
  },
  async close() {},
};

function gitMachine(base: string, url: string, index: number, clock?: StoreClock): Machine {
  const clone = cloneRepo(url, join(base, `machine-${index}`));
  const store = new GitRemoteStore({ cwd: clone, remote: 'origin', localDir: join(clone, '_tasks'), clock, env: { PARALLEL_REMOTE_TIMEOUT_MS: '20000' } });
  return {
    store,
    commit: (label) => {
      const tree = execFileSync('git', ['mktree'], { cwd: clone, input: '', encoding: 'utf8' }).trim();
      return execFileSync('git', ['commit-tree', tree, '-p', 'HEAD', '-m', label], { cwd: clone, encoding: 'utf8' }).trim();
    },
  };
}

async function gitStore(base: string, url: string): Promise<ProtocolStore> {
  let machines = 0;
  let first: Machine | undefined = gitMachine(base, url, machines++);
  await first.store.init();
  return {
    machine: (options = {}) => {
      const reuse = !options.clock ? first : undefined;
      first = undefined;
      return reuse ?? gitMachine(base, url, machines++, options.clock);
    },
  };
}

export const fileBackend: BackendKind = {
  name: 'git:file://',
  async create() {
    const base = tempDir('pa-proto-file-');
    const bare = createBareRepo(base);
    return gitStore(base, `file://${bare}`);
  },
  async close() {},
};

/** One daemon for the whole suite; each store gets its own bare repository under it. */
export function daemonBackend(): BackendKind {
  let daemon: GitDaemon | undefined;
  let servedDir: string | undefined;
  let repos = 0;
  return {
    name: 'git:daemon',
    async create() {
      if (!daemon) {
        servedDir = (await import('node:fs')).mkdtempSync(join((await import('node:os')).tmpdir(), 'pa-daemon-'));
        daemon = await startGitDaemon(servedDir);
      }
      const name = `repo${repos++}`;
      createBareRepo(servedDir!, name);
      return gitStore(tempDir('pa-proto-daemon-'), daemon.url(name));
    },
    async close() {
      await daemon?.stop();
      if (servedDir) (await import('node:fs')).rmSync(servedDir, { recursive: true, force: true });
    },
  };
}

export { gitIn };
