import type { Task, TaskState } from './backend.ts';

// The protocol's rules, each decided here once: both backends, status, the runner and the hooks
// ask these functions instead of repeating the conditions.

/** How long a claim may go without a sign of life before recover takes it back. */
export const DEFAULT_LEASE_MS = 30 * 60_000;

/**
 * The longest lease a claim or the verify lock may carry (7 days): a longer one would let a record
 * hold a task no run ever takes back. Flags refuse more; a lease read from a record is clamped to it.
 */
export const MAX_LEASE_MS = 7 * 24 * 3_600_000;

/** Where a failed attempt sends a task: back to failed/ while attempts remain, else blocked/ for a person. */
export function stateAfterFailure(attempts: number, maxAttempts: number): 'failed' | 'blocked' {
  return attempts >= maxAttempts ? 'blocked' : 'failed';
}

/** Where a released claim goes: a task keeps its attempt count, so one that failed before stays failed/. */
export function stateAfterRelease(attempts: number): 'available' | 'failed' {
  return attempts > 0 ? 'failed' : 'available';
}

export function isOpen(state: TaskState): boolean {
  return state === 'available' || state === 'failed';
}

/** Claimable now: open, and every dependency completed. */
export function isClaimable(task: Pick<Task, 'state' | 'depends_on'>, stateOf: (id: string) => TaskState | undefined): boolean {
  return isOpen(task.state) && task.depends_on.every((dep) => stateOf(dep) === 'completed');
}

/**
 * The open tasks that can never become claimable: they wait, directly or not, on a blocked or
 * missing task. Linear in tasks and edges (each task is settled once, dependencies first).
 */
export function stuckTasks(open: ReadonlyMap<string, readonly string[]>, stateOf: (id: string) => TaskState | undefined): Set<string> {
  const verdict = new Map<string, boolean>();
  const visit = (id: string, path: Set<string>): boolean => {
    const known = verdict.get(id);
    if (known !== undefined) return known;
    const deps = open.get(id);
    if (deps === undefined) {
      const state = stateOf(id);
      return state === undefined || state === 'blocked';
    }
    if (path.has(id)) return false; // a cycle: reported by plan check, not stuck here
    path.add(id);
    const stuck = deps.some((dep) => visit(dep, path));
    path.delete(id);
    verdict.set(id, stuck);
    return stuck;
  };
  const stuck = new Set<string>();
  for (const id of open.keys()) if (visit(id, new Set())) stuck.add(id);
  return stuck;
}

/**
 * The work an open-task map still holds: the open tasks that can still become claimable, and the
 * stuck ones. With nothing held and none waiting, no work is left (claim's exit 4, status's done).
 */
export function openWork(open: ReadonlyMap<string, readonly string[]>, stateOf: (id: string) => TaskState | undefined): { waiting: string[]; stuck: Set<string> } {
  const stuck = stuckTasks(open, stateOf);
  return { waiting: [...open.keys()].filter((id) => isOpen(stateOf(id)!) && !stuck.has(id)), stuck };
}
