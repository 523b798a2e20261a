import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { fingerprint } from '../text/fingerprint.ts';

// Whether a process still runs, and whether it is still the same process. A pid means something
// only in its own pid namespace on its own machine, and only until it is reused, so a process is
// named by its pid, its start time (clock ticks since boot, from /proc) and a short hash of where
// its pid is valid (hostId). A process recorded anywhere else is never judged by its pid here.

export interface ProcessIdentity {
  pid: number;
  /** Where the pid means something (hostId): a pid means nothing on another machine or in another pid namespace. */
  host: string;
  /** Start time in clock ticks since boot, so a reused pid is not mistaken for the process. */
  start?: string | undefined;
}

let cachedHost: string | undefined;

function readOr(read: () => string): string {
  try {
    return read().trim();
  } catch {
    return '';
  }
}

/**
 * This machine and pid namespace, as a short hash of the host name, the kernel's boot id and the
 * pid namespace's inode: machines (cloud VMs, containers) often share a host name, and a pid seen
 * from another namespace or boot names another process. The hash of the host name alone (what
 * older records carry) never equals it, so such records are judged by their lease, never by pid.
 */
export function hostId(): string {
  cachedHost ??= fingerprint([
    hostname(),
    readOr(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8')) || readOr(() => readFileSync('/etc/machine-id', 'utf8')),
    readOr(() => readlinkSync('/proc/self/ns/pid')),
  ].join('\n')).slice(0, 8);
  return cachedHost;
}

/** When this machine last booted (ms since the epoch, /proc/stat's btime); undefined without /proc. */
export function bootTimeMs(): number | undefined {
  const match = /^btime (\d+)$/m.exec(readOr(() => readFileSync('/proc/stat', 'utf8')));
  return match ? Number(match[1]) * 1000 : undefined;
}

/** Whether a process was recorded here: in this machine's pid namespace, since its last boot. */
export function isOnThisHost(identity: Pick<ProcessIdentity, 'host'>): boolean {
  return identity.host === hostId();
}

/** Whether two records name the same process (a record without a start time matches on pid and host). */
export function sameProcess(a: ProcessIdentity, b: ProcessIdentity): boolean {
  return a.pid === b.pid && a.host === b.host && (a.start === undefined || b.start === undefined || a.start === b.start);
}

/** Fields of /proc/<pid>/stat after the command name, which may itself hold spaces and ")". */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Start time in clock ticks since boot (Linux /proc), or undefined elsewhere. */
export function processStartTime(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/** The parent pid (Linux /proc), or undefined. */
export function parentPid(pid: number): number | undefined {
  const value = Number(statFields(pid)?.[1]);
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

/** The command name of a process (Linux /proc), or undefined. */
export function processName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** This process's ancestors, nearest first, up to (not including) pid 1. */
export function ancestors(pid: number = process.pid): number[] {
  const chain: number[] = [];
  let current = parentPid(pid);
  while (current !== undefined && current > 1 && chain.length < 64) {
    chain.push(current);
    current = parentPid(current);
  }
  return chain;
}

export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // kill(0) reports a zombie as alive; a zombie holds nothing.
  return statFields(pid)?.[0] !== 'Z';
}

export function describeProcess(pid: number): ProcessIdentity {
  return { pid, host: hostId(), start: processStartTime(pid) };
}

/** 'alive', 'gone', or 'unknown' (another host: we cannot tell from here). */
export function processLiveness(identity: ProcessIdentity): 'alive' | 'gone' | 'unknown' {
  if (!isOnThisHost(identity)) return 'unknown';
  if (!isProcessAlive(identity.pid)) return 'gone';
  if (identity.start !== undefined) {
    const start = processStartTime(identity.pid);
    if (start !== undefined && start !== identity.start) return 'gone';
  }
  return 'alive';
}
