import { existsSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../errors.ts';
import { writeFileAtomic } from '../fs/atomic-write.ts';
import { processLiveness, type ProcessIdentity } from '../process/liveness.ts';
import type { PortRange } from '../repo/project-config.ts';
import { withRepoLock, type RepoLockOptions } from './repo-lock.ts';
import { createServer } from 'node:net';

// Which worktree holds which ports, so the dev servers and tests of concurrent worktrees never
// fight over one. One lease file per block under the repository's common git dir (ports belong to
// this machine, not to the task store), written under the repository lock. A lease lasts as long
// as its worktree folder (and, for verify's test worktree, the process that made it): removing
// the worktree frees its ports, and the next allocation reuses them.

export const PORT_LEASES_DIR = join('parallel-agents', 'ports');

export interface PortBlock {
  /** PARALLEL_PORT: the first port. */
  from: number;
  /** PARALLEL_PORT_COUNT: how many consecutive ports from there. */
  count: number;
}

interface Lease extends PortBlock {
  path: string;
  task?: string | undefined;
  /** Set for worktrees that live only as long as a process (verify's test worktree). */
  holder?: ProcessIdentity | undefined;
  created_at: string;
}

export interface LeaseRequest {
  path: string;
  task?: string | undefined;
  range: PortRange;
  holder?: ProcessIdentity | undefined;
}

function leasesDir(gitCommonDir: string): string {
  return join(gitCommonDir, PORT_LEASES_DIR);
}

function readLeases(dir: string): { lease: Lease | undefined; file: string }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((name) => /^\d+\.json$/.test(name)).map((name) => {
    const file = join(dir, name);
    try {
      const lease = JSON.parse(readFileSync(file, 'utf8')) as Lease;
      const valid = Number.isInteger(lease.from) && Number.isInteger(lease.count) && typeof lease.path === 'string';
      return { lease: valid ? lease : undefined, file };
    } catch {
      return { lease: undefined, file };
    }
  });
}

function isLive(lease: Lease): boolean {
  if (!existsSync(lease.path)) return false;
  return lease.holder === undefined || processLiveness(lease.holder) !== 'gone';
}

/** Whether something on this machine already listens on the port (a server of another project). */
async function portBusy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(true));
    server.listen({ port, exclusive: true }, () => server.close(() => resolve(false)));
  });
}

async function firstBusy(block: PortBlock): Promise<number | undefined> {
  for (let port = block.from; port < block.from + block.count; port++) {
    if (await portBusy(port)) return port;
  }
  return undefined;
}

/**
 * The ports of the worktree at `request.path`: its existing lease when it has one of the right
 * size (a retried or adopted worktree keeps its ports), else the lowest free block of the range.
 */
export async function leasePorts(lock: RepoLockOptions, request: LeaseRequest): Promise<PortBlock> {
  const dir = leasesDir(lock.gitCommonDir);
  const { count, from: rangeFrom, to: rangeTo } = request.range;
  return withRepoLock(lock, async () => {
    const live: Lease[] = [];
    for (const { lease, file } of readLeases(dir)) {
      if (lease && isLive(lease)) live.push(lease);
      else unlinkSync(file);
    }
    const own = live.find((lease) => lease.path === request.path);
    if (own && own.count === count && own.from >= rangeFrom && own.from + own.count - 1 <= rangeTo) return { from: own.from, count: own.count };
    if (own) unlinkSync(join(dir, `${own.from}.json`));
    const others = live.filter((lease) => lease !== own);
    let from = rangeFrom;
    while (from + count - 1 <= rangeTo) {
      const clash = others.find((lease) => lease.from < from + count && from < lease.from + lease.count);
      if (clash) {
        from = clash.from + clash.count;
        continue;
      }
      const busy = await firstBusy({ from, count });
      if (busy !== undefined) {
        from = busy + 1;
        continue;
      }
      const lease: Lease = { from, count, path: request.path, task: request.task, holder: request.holder, created_at: new Date().toISOString() };
      writeFileAtomic(join(dir, `${from}.json`), `${JSON.stringify(lease, null, 2)}\n`);
      return { from, count };
    }
    throw new CliError('E_REFUSED', `no ${count} free consecutive port(s) left in ${rangeFrom}-${rangeTo} (${others.length} worktree(s) hold ports, the rest are in use on this machine); raise "ports.to" in .parallel-agents.json or remove finished worktrees with "parallel-agents worktree remove"`, { range: request.range });
  });
}
