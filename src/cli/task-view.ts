import type { Task } from '../store/backend.ts';
import { formatDuration } from '../text/duration.ts';
import { printable } from '../text/printable.ts';
import type { WorktreeRecord } from '../git/worktree-registry.ts';

/**
 * Attempts used, for people: the store counts the attempts that ended badly, and the one held or
 * completed is used too (claim says "attempt 1 of 2" of a task whose counter is 0).
 */
export function attemptsUsed(task: Task): number {
  return task.attempts + (task.state === 'claimed' || task.state === 'completed' ? 1 : 0);
}

/** The JSON shape of a task in every command's output (snake_case keys, like the task files). */
export function taskJson(task: Task, now = Date.now(), worktree?: WorktreeRecord): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: task.id,
    title: task.title,
    state: task.state,
    role: task.role,
    plan: task.plan,
    files: task.files,
    reads: task.reads,
    depends_on: task.depends_on,
    attempts: task.attempts,
    max_attempts: task.max_attempts,
    estimate: task.estimate,
    check: task.check,
    commit: task.commit,
    summary: task.summary,
    completed_by: task.completed_by,
    completed_at: task.completed_at,
    last_error: task.last_error,
    file: task.file,
  };
  if (task.claim) {
    view.claim = {
      agent: task.claim.agent,
      lease: task.claim.lease,
      claimed_at: new Date(task.claim.claimedAt).toISOString(),
      claimer_stamp: task.claim.claimerStamp,
      heartbeat_at: new Date(Math.max(task.claim.heartbeatAt, task.claim.claimedAt)).toISOString(),
      age_ms: Math.round(now - task.claim.claimedAt),
      heartbeat_age_ms: Math.round(now - task.claim.heartbeatAt),
      holder: task.claim.holder,
      stale: task.claim.stale,
    };
  }
  if (worktree) view.worktree = { path: worktree.path, branch: worktree.branch, base: worktree.base };
  for (const key of Object.keys(view)) if (view[key] === undefined) delete view[key];
  return view;
}

export function taskText(task: Task, now = Date.now(), worktree?: WorktreeRecord): string {
  const lines = [`${printable(task.id)} [${task.state}] ${printable(task.title)}`];
  if (worktree) lines.push(`worktree: ${worktree.path} (branch ${worktree.branch})`);
  if (task.role) lines.push(`role: ${task.role}`);
  if (task.files.length > 0) lines.push(`files: ${printable(task.files.join(', '))}`);
  if (task.depends_on.length > 0) lines.push(`depends on: ${task.depends_on.join(', ')}`);
  lines.push(`attempts: ${attemptsUsed(task)} of ${task.max_attempts} used`);
  if (task.claim) {
    // On a shared store the time is when this clone first saw the claim (or pushed it): a lower bound.
    const age = formatDuration(now - task.claim.claimedAt);
    lines.push(task.claim.claimerStamp === undefined
      ? `claimed by ${task.claim.agent} ${age} ago (lease ${task.claim.lease})`
      : `claimed by ${task.claim.agent} at least ${age} ago, as this clone saw it (the claimer's clock: ${task.claim.claimerStamp}; lease ${task.claim.lease})`);
    if (task.claim.stale) lines.push(`${task.claim.stale.kind === 'dead' ? 'dead' : 'stale'}: ${task.claim.stale.reason}; parallel-agents recover takes it back`);
  }
  if (task.commit) lines.push(`commit: ${task.commit}`);
  if (task.summary) lines.push(`summary: ${printable(task.summary)}`);
  if (task.last_error) lines.push(`last error: ${printable(task.last_error)}`);
  if (task.body.trim().length > 0) lines.push('', task.body.trimEnd());
  return lines.join('\n');
}
