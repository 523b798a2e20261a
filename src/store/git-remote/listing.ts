import { processLiveness } from '../../process/liveness.ts';
import { formatDuration } from '../../text/duration.ts';
import type { StaleClaim, Task, TaskProblem } from '../backend.ts';
import { taskOf, type ParsedTask } from '../task-file.ts';
import type { StoreClock } from './clock.ts';
import type { ClaimRecord } from './records.ts';
import type { ReadTask, Snapshot, TaskEntry } from './snapshot.ts';

// From a snapshot to the Task objects every command shows. Every time is this machine's own
// observation (Observations): the claim time is when it first saw the claim, the latest sign of
// life when it first saw the claim's current commit. The claimer's stamp, on another machine's
// clock, is passed along for people only: no age is computed from it.

/** Observation keys: a claim's latest commit (its last sign of life) and its lease (the claim itself). */
export function observationKeys(snapshot: Snapshot): string[] {
  const keys: string[] = [];
  for (const entry of snapshot.tasks.values()) {
    if (entry.record?.state !== 'claimed') continue;
    keys.push(entry.commit, `lease:${entry.record.claim!.lease}`);
  }
  if (snapshot.verifyLock) keys.push(`lock:${snapshot.verifyLock.commit}`);
  return keys;
}

export interface Seen {
  /** Observation key -> monotonic ms first seen. */
  firstSeen: ReadonlyMap<string, number>;
  clock: StoreClock;
}

/**
 * Why recover would take this claim back now, judged on this machine's clock only. A claim that
 * records the lease its holder heartbeats under is given at least that long, whatever this
 * machine's own limit: a holder heartbeating every third of a longer lease is alive.
 */
export function staleness(entry: TaskEntry, seen: Seen, staleAfterMs: number): StaleClaim | undefined {
  const claim = entry.record?.claim;
  if (!claim) return undefined;
  if (claim.holder && processLiveness(claim.holder) === 'gone') return { kind: 'dead', reason: `holder process ${claim.holder.pid} is gone` };
  const limit = Math.max(staleAfterMs, claim.lease_ms ?? staleAfterMs);
  const first = seen.firstSeen.get(entry.commit);
  const silent = first === undefined ? 0 : seen.clock.monotonic() - first;
  if (silent > limit) {
    const whose = limit > staleAfterMs ? `, the lease its holder heartbeats under` : '';
    return { kind: 'expired', reason: `no sign of life seen for ${formatDuration(silent)} on this machine (limit ${formatDuration(limit)}${whose})` };
  }
  return undefined;
}

function wallTime(seen: Seen | undefined, key: string): number {
  const now = seen?.clock.now() ?? Date.now();
  const first = seen?.firstSeen.get(key);
  return first === undefined ? now : now - (seen!.clock.monotonic() - first);
}

export function toTask(entry: TaskEntry, parsed: ParsedTask, where: string, seen?: Seen): Task {
  const task = taskOf(parsed, entry.record!.state, where);
  const claim: ClaimRecord | undefined = entry.record!.state === 'claimed' ? entry.record!.claim : undefined;
  if (claim) {
    // Ages are this machine's clock minus these, so they come from this machine's observations.
    // Without them (heldBy, from the cache: claims held on this machine) the claim's stamp is
    // this machine's clock.
    const stamped = Date.parse(claim.at);
    const claimerStamp = Number.isFinite(stamped) ? new Date(stamped).toISOString() : undefined;
    const claimedAt = seen || !Number.isFinite(stamped) ? wallTime(seen, `lease:${claim.lease}`) : Math.min(stamped, Date.now());
    task.claim = { agent: claim.agent, lease: claim.lease, claimedAt, heartbeatAt: wallTime(seen, entry.commit), holder: claim.holder, claimerStamp };
  }
  return task;
}

/** Every readable task, sorted by id, and a problem for every ref that cannot be read. */
export function listTasks(snapshot: Snapshot, files: ReadonlyMap<string, ReadTask>, whereOf: (id: string) => string, seen: Seen, staleAfterMs: number): { tasks: Task[]; problems: TaskProblem[] } {
  const tasks: Task[] = [];
  const problems: TaskProblem[] = [];
  for (const entry of snapshot.tasks.values()) {
    const where = whereOf(entry.id);
    const file = files.get(entry.tree);
    if (!entry.record) {
      problems.push({ file: where, message: `${where}: its latest commit holds no task record; it was not written by parallel-agents (see git log ${where.split(' ')[0]})` });
      continue;
    }
    if (!file || 'problem' in file) {
      problems.push({ file: where, message: file && 'problem' in file ? file.problem : `${where}: task.md could not be read` });
      continue;
    }
    if (file.frontmatter.id !== entry.id) {
      problems.push({ file: where, message: `${where}: id: "${file.frontmatter.id}" does not match the ref name` });
      continue;
    }
    const task = toTask(entry, file, where, seen);
    if (task.claim) task.claim.stale = staleness(entry, seen, staleAfterMs);
    tasks.push(task);
  }
  for (const ref of snapshot.foreign) problems.push({ file: ref, message: `${ref}: not a name of the git-remote store (tasks/<id>, meta, locks/verify); ignored` });
  const known = new Set(tasks.map((task) => task.id));
  for (const task of tasks) {
    const unknown = task.depends_on.filter((dep) => !known.has(dep));
    if (unknown.length > 0 && task.state !== 'completed') problems.push({ file: task.file, message: `${task.file}: depends_on: names no task: ${unknown.join(', ')}; add those tasks` });
  }
  tasks.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { tasks, problems };
}
