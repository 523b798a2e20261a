import { CliError } from '../errors.ts';
import type { FsPort } from '../fs/fs-port.ts';
import type { TaskBackend } from './backend.ts';
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
}

export function openStore(options: OpenStoreOptions): TaskBackend {
  const env = options.env ?? process.env;
  const spec = options.store ?? env.PARALLEL_STORE ?? 'local';
  const location = locateStore({ cwd: options.cwd, tasksDir: options.tasksDir, env });
  if (spec === 'local') return new LocalStore(location, { fs: options.fs });
  throw new CliError('E_USAGE', `--store "${spec}" is not a store; use "local" (the _tasks/ folder) or "git:<remote>" (e.g. git:origin)`);
}
