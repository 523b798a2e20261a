import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { fingerprint } from './fingerprint.ts';
import type { HolderProcess } from './types.ts';

// A claim may name the long-lived process that holds it (an agent session, the runner). A pid is
// only meaningful on its own host and only until it is reused, so we keep a host hash and the
// process start time next to it (MEASUREMENTS §2.6).

let cachedHost: string | undefined;

export function hostId(): string {
  cachedHost ??= fingerprint(hostname()).slice(0, 8);
  return cachedHost;
}

/** Start time in clock ticks since boot (Linux /proc), or undefined elsewhere. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // kill(0) reports a zombie as alive; a zombie holds nothing.
  return processState(pid) !== 'Z';
}

export function describeHolder(pid: number): HolderProcess {
  return { pid, host: hostId(), start: processStartTime(pid) };
}

/** 'alive', 'gone', or 'unknown' (another host: we cannot tell from here). */
export function holderLiveness(holder: HolderProcess): 'alive' | 'gone' | 'unknown' {
  if (holder.host !== hostId()) return 'unknown';
  if (!isProcessAlive(holder.pid)) return 'gone';
  if (holder.start !== undefined) {
    const start = processStartTime(holder.pid);
    if (start !== undefined && start !== holder.start) return 'gone';
  }
  return 'alive';
}
