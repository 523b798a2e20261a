import { processLiveness } from '../../process/liveness.ts';
import { formatDuration } from '../../text/duration.ts';
import type { ClaimInfo, StaleClaim } from '../backend.ts';

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
