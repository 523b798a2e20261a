import type { ClaimRequest, TaskState } from '../backend.ts';
import type { ClaimSnapshot } from '../claimability.ts';
import { isOpen } from '../rules.ts';
import type { ReadTask, Snapshot, TaskEntry } from './snapshot.ts';

// Which task a claim goes for. The order is the local store's (available before failed, then by
// id), but a contender takes one at random among the first CLAIM_WINDOW claimable tasks: machines
// that all went for the first one would lose a round trip each to one winner, over and over, and
// a cache a few rounds of claims old still finds a free task in a wide window (bench/RESULTS.md).

export const CLAIM_WINDOW = 256;

export function stateOf(snapshot: Snapshot): Map<string, TaskState> {
  const states = new Map<string, TaskState>();
  for (const entry of snapshot.tasks.values()) if (entry.record) states.set(entry.id, entry.record.state);
  return states;
}

/** The trees whose task files a claim needs: every open task's. */
export function openTrees(snapshot: Snapshot): string[] {
  return [...snapshot.tasks.values()].filter((entry) => entry.record && isOpen(entry.record.state)).map((entry) => entry.tree);
}

/** Claimable tasks for this request, in claim order. */
export function claimable(snapshot: Snapshot, files: ReadonlyMap<string, ReadTask>, request: Pick<ClaimRequest, 'role' | 'task'>): TaskEntry[] {
  const states = stateOf(snapshot);
  const found: TaskEntry[] = [];
  for (const entry of snapshot.tasks.values()) {
    if (!entry.record || !isOpen(entry.record.state)) continue;
    if (request.task !== undefined && entry.id !== request.task) continue;
    const file = files.get(entry.tree);
    if (!file || 'problem' in file || file.frontmatter.id !== entry.id) continue;
    if (request.role !== undefined && file.frontmatter.role !== request.role) continue;
    if (!file.frontmatter.depends_on.every((dep) => states.get(dep) === 'completed')) continue;
    found.push(entry);
  }
  const rank = (entry: TaskEntry): number => (entry.record!.state === 'available' ? 0 : 1);
  return found.sort((a, b) => rank(a) - rank(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export function pickCandidate(candidates: readonly TaskEntry[], skip: ReadonlySet<string>): TaskEntry | undefined {
  const left = candidates.filter((entry) => !skip.has(entry.id)).slice(0, CLAIM_WINDOW);
  return left[Math.floor(Math.random() * left.length)];
}

/** The picture claimability.ts words "nothing claimable now" or "no work left" from. */
export function claimSnapshot(snapshot: Snapshot, files: ReadonlyMap<string, ReadTask>, where: string): ClaimSnapshot {
  const states = stateOf(snapshot);
  const holders = new Map<string, string>();
  const openDeps = new Map<string, readonly string[] | undefined>();
  for (const entry of snapshot.tasks.values()) {
    if (entry.record?.state === 'claimed') holders.set(entry.id, entry.record.claim!.agent);
    if (entry.record && isOpen(entry.record.state)) {
      const file = files.get(entry.tree);
      openDeps.set(entry.id, file && !('problem' in file) ? file.frontmatter.depends_on : undefined);
    }
  }
  return { stateOf: states, holders, moving: 0, openDeps, where };
}
