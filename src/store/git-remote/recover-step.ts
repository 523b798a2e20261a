import type { RecoveredClaim, RecoverOptions, RecoverReport } from '../backend.ts';
import { afterFailure } from '../transitions.ts';
import type { Step, StepContext } from './compare-and-swap.ts';
import type { GitRemoteStore } from './git-remote-store.ts';
import { staleness } from './listing.ts';

// recover: every claim this machine has seen unchanged for longer than the lease (or whose holder
// process on this host is gone) is taken back, each by its own compare-and-swap in one push. Of
// several recoverers, on any number of machines, exactly one wins each claim; a holder that
// heartbeats or finishes first wins instead, and the recoverer leaves it alone.

export async function recoverStep(store: GitRemoteStore, options: RecoverOptions, context: StepContext): Promise<Step<RecoverReport>> {
  const { snapshot } = context;
  store.requireStore(snapshot);
  const seen = store.seen(snapshot);
  const taken: { update: { ref: string; to: string; was: string }; item: RecoveredClaim }[] = [];
  for (const entry of snapshot.tasks.values()) {
    const claim = entry.record?.state === 'claimed' ? entry.record.claim : undefined;
    if (!claim || (options.task !== undefined && entry.id !== options.task)) continue;
    const reason = options.force && options.task !== undefined ? 'taken back by recover --force' : staleness(entry, seen, options.staleAfterMs)?.reason;
    if (!reason) continue;
    let parsed;
    try {
      parsed = await store.parsed(snapshot, entry);
    } catch {
      continue; // unreadable: status names it
    }
    const lastError = `stale claim by ${claim.agent}: ${reason}`;
    const { to, frontmatter } = afterFailure(parsed.frontmatter, { agent: claim.agent, task: entry.id, reason: lastError, recovered: true });
    const attempts = frontmatter.attempts as number;
    const built = store.writer().build({ from: entry, state: to, event: 'recover', subject: `recover ${entry.id} from ${claim.agent}: ${to} (attempt ${attempts} of ${parsed.frontmatter.max_attempts}): ${reason}`, claim, frontmatter }, parsed);
    taken.push({ update: { ref: store.layout.remoteRef(store.layout.taskName(entry.id)), to: built.commit, was: entry.commit }, item: { id: entry.id, agent: claim.agent, reason: lastError, to, attempts } });
  }
  if (taken.length === 0) return { done: { recovered: [], repaired: [], reconciled: [] } };
  return {
    updates: taken.map((item) => item.update),
    atomic: false,
    partial: true,
    result: (outcomes) => ({ recovered: taken.filter((item) => outcomes.get(item.update.ref)?.outcome !== 'rejected').map((item) => item.item), repaired: [], reconciled: [] }),
  };
}
