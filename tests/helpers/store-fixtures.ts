import { fork, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fixturePath } from './paths.ts';
import type { FsPort } from '../../src/fs/fs-port.ts';
import { TASK_STATES } from '../../src/store/backend.ts';
import { LocalStore } from '../../src/store/local/local-store.ts';
import { idOfTaskFile, parseClaimFileName } from '../../src/store/local/names.ts';

export async function openTestStore(dir: string, fs?: FsPort): Promise<LocalStore> {
  const store = new LocalStore({ dir, repoRoot: undefined, gitCommonDir: undefined }, { fs });
  await store.init();
  return store;
}

export async function seedTasks(store: LocalStore, count: number, options: { prefix?: string; maxAttempts?: number } = {}): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${options.prefix ?? 't'}${String(i).padStart(4, '0')}`);
  await store.add(ids.map((id) => ({ id, title: `task ${id}`, max_attempts: options.maxAttempts })));
  return ids;
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Forks store workers, waits until every one is ready, then releases them all at once. */
export async function raceWorkers(
  count: number,
  args: (index: number) => string[],
  env: Record<string, string> = {},
): Promise<WorkerExit[]> {
  const children: ChildProcess[] = [];
  const ready: Promise<void>[] = [];
  const exits: Promise<WorkerExit>[] = [];
  for (let i = 0; i < count; i++) {
    const child = fork(fixturePath('store-worker'), args(i), {
      execArgv: [],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    ready.push(new Promise((resolve) => child.once('message', () => resolve())));
    exits.push(new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))));
  }
  await Promise.all(ready);
  for (const child of children) child.send('go');
  return Promise.all(exits);
}

/**
 * The store's invariant, read off the folders through the store's own name grammar: every task id
 * is in exactly one state folder, once. Hidden files (moves in flight, temp files) are leftovers.
 */
export function idsByState(dir: string): { byState: Record<string, string[]>; duplicates: string[]; leftovers: string[] } {
  const byState: Record<string, string[]> = {};
  const seen = new Map<string, number>();
  const leftovers: string[] = [];
  for (const state of TASK_STATES) {
    byState[state] = [];
    for (const name of readdirSync(join(dir, state))) {
      if (name.startsWith('.')) {
        leftovers.push(`${state}/${name}`);
        continue;
      }
      const id = state === 'claimed' ? parseClaimFileName(name)?.id : idOfTaskFile(name);
      if (id === undefined) {
        leftovers.push(`${state}/${name}`);
        continue;
      }
      byState[state]!.push(id);
      seen.set(id, (seen.get(id) ?? 0) + 1);
    }
  }
  const duplicates = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  return { byState, duplicates, leftovers };
}
