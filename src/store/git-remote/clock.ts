import { readFileSync } from 'node:fs';
import { uptime } from 'node:os';

// The git-remote store never compares one machine's timestamp with another's. Wall time only goes
// into records for people to read; staleness is measured on this machine's monotonic clock, which
// processes of one boot share (CLOCK_MONOTONIC behind process.hrtime on Linux) and which restarts
// at a reboot, hence the boot id. Injectable, so tests can skew or advance a "machine's" time.

export interface StoreClock {
  /** Wall time, ms since the epoch: written into records for people, never compared across machines. */
  now(): number;
  /** Monotonic ms, comparable between the processes of one boot. */
  monotonic(): number;
  /** Changes at every reboot, when monotonic time starts again. */
  bootId(): string;
}

let cachedBootId: string | undefined;

function systemBootId(): string {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      // No boot id (not Linux): the boot time to the minute; a wall-clock step only resets observations.
      cachedBootId = `boot-${Math.round((Date.now() - uptime() * 1000) / 60_000)}`;
    }
  }
  return cachedBootId;
}

export const SYSTEM_CLOCK: StoreClock = {
  now: () => Date.now(),
  monotonic: () => Number(process.hrtime.bigint() / 1_000_000n),
  bootId: systemBootId,
};
