import { processLiveness } from '../../process/liveness.ts';
import { formatDuration } from '../../text/duration.ts';
import { CliError } from '../../errors.ts';
import type { ClaimInfo, RecoverOptions, RecoveredClaim, StaleClaim, Task } from '../backend.ts';
import type { StoreFolder, TaskLocation } from './folder.ts';

// When the local store takes a claim back. A claim names the process that holds it when it can (the
// runner, the Claude Code session of a plugin agent): once that process is gone on this host, the
// claim is dead at once. Otherwise the lease decides: no heartbeat (mtime or ctime of the claim file,
// this machine's clock) for longer than the lease.

export function staleClaim(claim: Pick<ClaimInfo, 'holder' | 'heartbeatAt'>, now: number, staleAfterMs: number): StaleClaim | undefined {
  if (claim.holder && processLiveness(claim.holder) === 'gone') return { kind: 'dead', reason: `holder process ${claim.holder.pid} is gone` };
  const silent = now - claim.heartbeatAt;
  if (silent > staleAfterMs) return { kind: 'expired', reason: `no heartbeat for ${formatDuration(silent)} (limit ${formatDuration(staleAfterMs)})` };
  return undefined;
}

/**
 * Takes back every claim recover should: stale or dead ones, or the one named with `force`.
 * `takeBack` moves one claim to failed/ (or blocked/); a holder finishing first, or another
 * recoverer, wins that move, and the claim is simply skipped.
 */
export function takeBackStaleClaims(folder: StoreFolder, options: RecoverOptions, report: (message: string) => void, takeBack: (where: TaskLocation, lastError: string) => Task): RecoveredClaim[] {
  const recovered: RecoveredClaim[] = [];
  const now = options.now ?? Date.now();
  for (const entry of folder.names('claimed')) {
    const where = folder.locationOf('claimed', entry.name);
    if (!where?.claim || (options.task !== undefined && where.claim.id !== options.task)) continue;
    let task: Task;
    try {
      task = folder.toTask(folder.read(where.path), where);
    } catch {
      continue; // moved on, or unreadable (status names it)
    }
    const reason = options.force && options.task !== undefined ? 'taken back by recover --force' : staleClaim(task.claim!, now, options.staleAfterMs)?.reason;
    if (!reason) continue;
    const lastError = `stale claim by ${where.claim.agent}: ${reason}`;
    try {
      const moved = takeBack(where, lastError);
      recovered.push({ id: moved.id, agent: where.claim.agent, reason: lastError, to: moved.state as 'failed' | 'blocked', attempts: moved.attempts });
    } catch (error) {
      // The holder finishing, or another recoverer, won the rename: nothing to do.
      if (error instanceof CliError && error.code === 'E_NOT_HOLDER') continue;
      // A copy filed by hand where the claim would go: both stay for a person; recover the rest.
      if (error instanceof CliError && error.code === 'E_REFUSED') {
        report(`${where.path}: not taken back: ${error.message}`);
        continue;
      }
      throw error;
    }
  }
  return recovered;
}
