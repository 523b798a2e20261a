import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFileAtomic } from '../../fs/atomic-write.ts';
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

function tryLock(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch {
    return false;
  }
  try {
    writeSync(fd, JSON.stringify(describeProcess(process.pid)));
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Removes the lock of a holder that died (a killed fetch must not stop every later one). */
function clearDeadHolder(path: string): void {
  try {
    const holder = JSON.parse(readFileSync(path, 'utf8')) as ProcessIdentity;
    if (processLiveness(holder) === 'gone') unlinkSync(path);
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
