import { CliError } from '../errors.ts';
import type { FsPort } from '../fs/fs-port.ts';
import type { TaskBackend } from './backend.ts';
import type { StoreClock } from './git-remote/clock.ts';
import { GitRemoteStore } from './git-remote/git-remote-store.ts';
import { LocalStore } from './local/local-store.ts';
import { locateStore } from './location.ts';

// The store's one door: every caller outside src/store/ opens its backend here and holds only the
// TaskBackend interface.

export interface OpenStoreOptions {
  cwd: string;
  /** --tasks-dir: where the local store (and this machine's records) live. */
  tasksDir?: string | undefined;
  /** --store: "local" (the default) or "git:<remote>". */
  store?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** Fault injection for tests: the filesystem calls of the local store. */
  fs?: FsPort | undefined;
  /** Tests: the git-remote store's clock (a skewed or advanced machine). */
  clock?: StoreClock | undefined;
}

export function openStore(options: OpenStoreOptions): TaskBackend {
  const env = options.env ?? process.env;
  const spec = options.store ?? env.PARALLEL_STORE ?? 'local';
  const location = locateStore({ cwd: options.cwd, tasksDir: options.tasksDir, env });
  if (spec === 'local') return new LocalStore(location, { fs: options.fs });
  // The shared store keeps this machine's records (worktrees, hook bindings, runner files) where
  // the local store would, so hooks and worktrees work the same on either.
  if (spec.startsWith('git:')) return new GitRemoteStore({ cwd: options.cwd, remote: spec.slice(4), localDir: location.dir, env, clock: options.clock });
  throw new CliError('E_USAGE', `--store "${spec}" is not a store; use "local" (the _tasks/ folder) or "git:<remote>" (e.g. git:origin)`);
}
