import { closeSync, linkSync, openSync, readFileSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempName, writeFileAtomic } from '../../fs/atomic-write.ts';
import { processLiveness, describeProcess, type ProcessIdentity } from '../../process/liveness.ts';
import { SYSTEM_CLOCK } from './clock.ts';

// Processes of one clone share its cache, so they can share fetches: a fetch that started after a
// process asked for one is as fresh as its own would be. One process fetches at a time (a lock
// file naming it); a waiter whose request predates the start of a finished fetch uses that one.
// Times are this machine's monotonic clock, tagged with the boot id.

export interface FetchGateFiles {
  lock: string;
  stamp: string;
}

function readStamp(path: string): number {
  try {
    const [boot, started] = readFileSync(path, 'utf8').trim().split(' ');
    return boot === SYSTEM_CLOCK.bootId() ? Number(started) : -1;
  } catch {
    return -1;
  }
}

/**
 * Takes the lock whole: its holder's identity is written to a temp file first, then linked to the
 * lock's name (which fails if it exists). A lock opened and then written could be left empty by a
 * holder killed in between, naming nobody, and every later fetch of this clone would wait for it.
 */
function tryLock(path: string): boolean {
  const identity = JSON.stringify(describeProcess(process.pid));
  const temp = join(dirname(path), tempName(`${path}-new`));
  try {
    writeFileSync(temp, identity, { flag: 'wx' });
  } catch {
    return openLock(path, identity);
  }
  try {
    linkSync(temp, path);
    return true;
  } catch (error) {
    // A file system without hard links: the lock is opened and written in place.
    return (error as NodeJS.ErrnoException).code === 'EEXIST' ? false : openLock(path, identity);
  } finally {
    try { unlinkSync(temp); } catch { /* gone */ }
  }
}

function openLock(path: string, identity: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch {
    return false;
  }
  try {
    writeSync(fd, identity);
  } finally {
    closeSync(fd);
  }
  return true;
}

const TORN_LOCK_MS = 5_000;

/** Removes the lock of a holder that died (a killed fetch must not stop every later one). */
function clearDeadHolder(path: string): void {
  try {
    const text = readFileSync(path, 'utf8');
    let holder: ProcessIdentity | undefined;
    try { holder = JSON.parse(text) as ProcessIdentity; } catch { /* torn: written in place by a holder killed mid-write */ }
    // A lock naming nobody is a holder's that died between creating and writing it, once older than that instant.
    if (holder ? processLiveness(holder) === 'gone' : Date.now() - statSync(path).mtimeMs > TORN_LOCK_MS) unlinkSync(path);
  } catch {
    // Gone already, or being written this instant: look again on the next round.
  }
}

/** Runs `fetch` unless another process of this clone finished one that started after this call. */
export async function gatedFetch(files: FetchGateFiles, fetch: () => Promise<void>): Promise<void> {
  const asked = SYSTEM_CLOCK.monotonic();
  for (let round = 0; ; round++) {
    if (readStamp(files.stamp) >= asked) return;
    if (tryLock(files.lock)) {
      const started = SYSTEM_CLOCK.monotonic();
      try {
        await fetch();
        try { writeFileAtomic(files.stamp, `${SYSTEM_CLOCK.bootId()} ${started}\n`); } catch { /* peers just fetch themselves */ }
      } finally {
        try { unlinkSync(files.lock); } catch { /* removed as stale: ours finished anyway */ }
      }
      return;
    }
    if (round % 20 === 19) clearDeadHolder(files.lock);
    await sleep(Math.min(2 + round, 15));
  }
}
