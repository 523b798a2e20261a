import type { ClaimRequest, ClaimResult } from '../backend.ts';
import { nothingClaimable } from '../claimability.ts';
import { claimable, claimSnapshot, openTrees, pickCandidate } from './claim-choice.ts';
import type { Step, StepContext } from './compare-and-swap.ts';
import type { GitRemoteStore } from './git-remote-store.ts';
import { toTask } from './listing.ts';
import type { ClaimRecord } from './records.ts';

// One round of a claim: from the clone's view of the store, a claimable task and the child commit
// that claims it. The cache may be behind: an empty answer from it is checked against a fetch
// before anyone hears "nothing claimable", and a refused push brings a fresh view for the next round.
// Each dependency's ref is pinned in the same atomic push at the completed value the cache judged
// it by (an update to that same value, leased on it): a dependency reopened since refuses the claim.

export interface ClaimAttempt {
  /** The same claim (lease, token hash) for every round of one call. */
  claim: ClaimRecord;
  token: string;
  /** Task id -> the value this call already tried to claim it from. */
  tried: Map<string, string>;
}

export async function claimStep(store: GitRemoteStore, request: ClaimRequest, attempt: ClaimAttempt, context: StepContext): Promise<Step<ClaimResult>> {
  const { snapshot, fresh } = context;
  const { claim, token, tried } = attempt;
  // A claim of this call that landed although its answer was lost: this call holds it.
  const landed = [...snapshot.tasks.values()].find((entry) => entry.record?.state === 'claimed' && entry.record.claim?.lease === claim.lease);
  if (landed) return { done: { task: toTask(landed, await store.parsed(snapshot, landed), store.where(landed.id)), token } };
  if (!snapshot.meta && !fresh) return { refresh: true };
  store.requireStore(snapshot);
  await store.readFiles(snapshot, openTrees(snapshot));
  const candidates = claimable(snapshot, store.files, request);
  const pick = pickCandidate(candidates, new Set(candidates.filter((entry) => tried.get(entry.id) === entry.commit).map((entry) => entry.id)));
  if (!pick) {
    if (!fresh) return { refresh: true };
    throw nothingClaimable(claimSnapshot(snapshot, store.files, store.description), request);
  }
  tried.set(pick.id, pick.commit);
  const parsed = await store.parsed(snapshot, pick);
  const attemptText = `attempt ${parsed.frontmatter.attempts + 1} of ${parsed.frontmatter.max_attempts}`;
  const built = store.writer().build({ from: pick, state: 'claimed', event: 'claim', subject: `claim ${pick.id} by ${request.agent} (${attemptText})`, claim }, parsed);
  const pins = parsed.frontmatter.depends_on.map((dep) => {
    const commit = snapshot.tasks.get(dep)!.commit;
    return { ref: store.layout.remoteRef(store.layout.taskName(dep)), to: commit, was: commit, lease: commit };
  });
  return {
    updates: [{ ref: store.layout.remoteRef(store.layout.taskName(pick.id)), to: built.commit, was: pick.commit }, ...pins],
    atomic: true,
    result: () => ({ task: store.builtTask(pick, built), token }),
  };
}
