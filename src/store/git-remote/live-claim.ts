import { CliError } from '../../errors.ts';
import type { ClaimRequest, ClaimResult } from '../backend.ts';
import { nothingClaimable } from '../claimability.ts';
import type { ParsedTask } from '../task-file.ts';
import { claimable, claimSnapshot, openTrees, pickCandidate } from './claim-choice.ts';
import type { ClaimAttempt } from './claim-step.ts';
import type { GitRemoteStore } from './git-remote-store.ts';
import type { Snapshot, TaskEntry } from './snapshot.ts';
import { backoff, RemoteUnreachable, unanswered } from './transport.ts';

// A claim decided inside the push, on a remote spoken to directly (transport.ts pushLive). The
// server's advertisement says which refs still hold the commit this process last read: a task
// whose ref is unchanged is in the state that commit records, so the claim goes for one of those
// and the server's check of the old value almost never refuses it. Contenders on other machines
// cost neither a refused push nor a fetch; a fetch happens only when no known task is left.
// The view is kept between calls of a long-lived process (a runner): the advertisement corrects
// it on every call, and a fetch refreshes it when it runs out.

const ROUNDS = 24;
/** The view a claim left, and the push count then: a push since (this process's own holder writes) makes it stale. */
const views = new WeakMap<GitRemoteStore, { snapshot: Snapshot; pushes: number }>();

/**
 * The candidates whose refs the server advertises as this view has them, and whose dependencies'
 * refs too (one completed in the view but reopened since holds its dependents back), not already
 * tried from that value.
 */
function unchangedCandidates(store: GitRemoteStore, snapshot: Snapshot, candidates: readonly TaskEntry[], advertised: ReadonlyMap<string, string>, tried: ReadonlyMap<string, string>): TaskEntry[] {
  const unchanged = (id: string): boolean => advertised.get(store.layout.remoteRef(store.layout.taskName(id))) === snapshot.tasks.get(id)?.commit;
  return candidates.filter((entry) => unchanged(entry.id) && tried.get(entry.id) !== entry.commit && (store.files.get(entry.tree) as ParsedTask).frontmatter.depends_on.every(unchanged));
}

/** The claim, or undefined when the remote is not spoken to directly (the caller takes the push-and-fetch path). */
export async function liveClaim(store: GitRemoteStore, request: ClaimRequest, attempt: ClaimAttempt): Promise<ClaimResult | undefined> {
  const { claim, token, tried } = attempt;
  const stats = store.transport.stats;
  const kept = views.get(store);
  let current = kept === undefined || kept.pushes !== stats.pushes;
  let snapshot = current ? await store.snapshot() : kept!.snapshot;
  let fresh = false;
  const keep = (): void => { views.set(store, { snapshot, pushes: stats.pushes }); };
  /** Commits this call built (each names its task): one that landed although its answer was lost is this call's claim. */
  const built = new Map<string, { id: string; result: () => ClaimResult }>();
  /** The server's refusals, by task, with the value the claim started from. */
  const refusals = new Map<string, { commit: string; reason: string }>();
  const { retries, backoffMs } = store.transport.options;
  const errors: RemoteUnreachable[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    if (!snapshot.meta && !fresh) {
      snapshot = await store.fresh();
      fresh = true;
      continue;
    }
    store.requireStore(snapshot);
    await store.readFiles(snapshot, openTrees(snapshot));
    const candidates = claimable(snapshot, store.files, request);
    const refOf = (id: string): string => store.layout.remoteRef(store.layout.taskName(id));
    let landed: ClaimResult | undefined;
    let pickedId: string | undefined;
    let pickedCommit: string | undefined;
    let answer;
    try {
      answer = await store.transport.pushLive((advertised) => {
        for (const [commit, mine] of built) if (advertised.get(refOf(mine.id)) === commit) landed = mine.result();
        if (landed) return undefined;
        const live = unchangedCandidates(store, snapshot, candidates, advertised, tried);
        const pick = pickCandidate(live, new Set());
        if (!pick) return undefined;
        const file = store.files.get(pick.tree);
        if (!file || 'problem' in file) return undefined;
        const next = store.writer().build({ from: pick, state: 'claimed', event: 'claim', subject: `claim ${pick.id} by ${request.agent} (attempt ${file.frontmatter.attempts + 1} of ${file.frontmatter.max_attempts})`, claim }, file);
        tried.set(pick.id, pick.commit);
        pickedId = pick.id;
        pickedCommit = next.commit;
        built.set(next.commit, { id: pick.id, result: () => ({ task: store.builtTask(pick, next), token }) });
        return { updates: [{ ref: refOf(pick.id), to: next.commit, was: pick.commit }], atomic: true };
      });
    } catch (error) {
      if (!(error instanceof RemoteUnreachable)) throw error;
      // Applied or not, the next advertisement tells (the commit is in `built`): the task may be tried again.
      if (pickedId !== undefined) tried.delete(pickedId);
      errors.push(error);
      if (errors.length > retries) throw unanswered(`claim by ${request.agent}`, errors.length, errors);
      await backoff(errors.length - 1, backoffMs);
      continue;
    }
    if (!answer) {
      // Nothing was applied: the push-and-fetch path may try the same task.
      if (pickedId !== undefined) tried.delete(pickedId);
      return undefined;
    }
    if (landed) {
      // Its answer was lost, so this clone's cache never moved: the hooks read the claim from there.
      await store.transport.fetch();
      return landed;
    }
    if (answer.outcomes && pickedId !== undefined) {
      const outcome = answer.outcomes.get(refOf(pickedId))!;
      if (outcome.outcome === 'rejected') {
        refusals.set(pickedId, { commit: tried.get(pickedId)!, reason: outcome.reason });
        continue;
      }
      keep();
      return built.get(pickedCommit!)!.result();
    }
    // Nothing this view knows is still claimable: look at this clone's cache, then at the remote.
    if (fresh && candidates.length === 0) throw nothingClaimable(claimSnapshot(snapshot, store.files, store.description), request);
    const stuck = candidates.find((entry) => refusals.get(entry.id)?.commit === entry.commit);
    if (fresh && stuck && candidates.every((entry) => refusals.get(entry.id)?.commit === entry.commit)) {
      // Refused although the ref still holds the value read: not another machine's claim.
      throw new CliError('E_GIT', `claim by ${request.agent}: ${store.layout.remote} refuses to update ${store.where(stuck.id)} although it still holds the value this clone read: ${refusals.get(stuck.id)!.reason}; look at the server (a ref lock left behind, a hook)`);
    }
    if (!current) {
      snapshot = await store.snapshot();
      current = true;
      // The cache knows a task whose ref the server just advertised unchanged: try it before fetching.
      await store.readFiles(snapshot, openTrees(snapshot));
      if (unchangedCandidates(store, snapshot, claimable(snapshot, store.files, request), answer.advertised, tried).length > 0) continue;
    }
    snapshot = await store.fresh();
    fresh = true;
  }
  throw new CliError('E_REFUSED', `claim by ${request.agent}: the remote ${store.layout.remote} kept changing under it (${ROUNDS} tries); nothing was changed; retry`);
}
