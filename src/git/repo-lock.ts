import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliError } from '../errors.ts';

// One lock for every git mutation the runtime makes in a repository (worktree add/remove/prune,
// branch and ref updates, info/exclude edits), so concurrent CLI calls never race on git's own
// index.lock / config.lock. It is a short critical section only: nothing durable depends on
// holding it, so proper-lockfile's stale takeover can at worst let two git commands overlap, which
// git's own locks then refuse loudly instead of corrupting anything.

export const REPO_LOCK_NAME = 'parallel-agents.lock';
const DEFAULT_WAIT_MS = 120_000;
/** A holder's mtime is refreshed every stale/2; only a dead holder's lock gets this old. */
const STALE_MS = 30_000;

export interface RepoLockOptions {
  /** The repository's common git dir: shared by every linked worktree, so every agent sees one lock. */
  gitCommonDir: string;
  /** How long to wait for another holder before giving up. */
  waitMs?: number | undefined;
}

/** Callers in this process, queued per repository: the next one takes the lock as soon as it is free. */
const queues = new Map<string, Promise<void>>();

export async function withRepoLock<T>(options: RepoLockOptions, critical: () => T | Promise<T>): Promise<T> {
  // Polling for a lock another task of the same runner holds leaves it idle between holders (up
  // to the poll interval each time, 30 worktrees in a row: bench/RESULTS.md, run at real size);
  // in-process callers wait their turn on a promise instead, and only the head of the queue polls.
  const previous = queues.get(options.gitCommonDir) ?? Promise.resolve();
  let turnOver!: () => void;
  const turn = new Promise<void>((resolve) => (turnOver = resolve));
  const mine = previous.then(() => turn);
  queues.set(options.gitCommonDir, mine);
  await previous;
  try {
    return await withFileLock(options, critical);
  } finally {
    turnOver();
    if (queues.get(options.gitCommonDir) === mine) queues.delete(options.gitCommonDir);
  }
}

async function withFileLock<T>(options: RepoLockOptions, critical: () => T | Promise<T>): Promise<T> {
  const { lock } = await import('proper-lockfile');
  const lockfilePath = join(options.gitCommonDir, REPO_LOCK_NAME);
  const deadline = Date.now() + (options.waitMs ?? lockWaitFromEnv());
  let compromised: Error | undefined;
  let release: (() => Promise<void>) | undefined;
  let delay = 2;
  while (!release) {
    try {
      release = await lock(options.gitCommonDir, {
        lockfilePath,
        realpath: false,
        retries: 0,
        stale: STALE_MS,
        onCompromised: (error) => {
          compromised = error;
        },
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
      if (Date.now() >= deadline) {
        throw new CliError('E_GIT', `timed out waiting for the repository lock ${lockfilePath}; another parallel-agents git operation is running (remove the folder if no such process exists)`);
      }
      // Jittered, slowly growing polls: 16 waiters must not wake in lockstep, and a short critical
      // section should not leave the lock idle for long.
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 1.5, 20);
    }
  }
  try {
    return await critical();
  } finally {
    try {
      await release();
    } catch {
      // Already released or taken over as stale; the critical section is over either way.
    }
    if (compromised) process.emitWarning(`repository lock was compromised: ${compromised.message}`);
  }
}

function lockWaitFromEnv(): number {
  const raw = process.env.PARALLEL_LOCK_WAIT_MS;
  const value = raw === undefined ? NaN : Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : DEFAULT_WAIT_MS;
}
