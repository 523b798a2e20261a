import type { Task } from '../store/types.ts';
import { formatDuration } from '../text/duration.ts';
import type { WorktreeRecord } from '../git/worktree-registry.ts';

/** The JSON shape of a task in every command's output (no absolute-path noise beyond `file`). */
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
      token: task.claim.token,
      claimed_at: new Date(task.claim.claimedAt).toISOString(),
      heartbeat_at: new Date(Math.max(task.claim.heartbeatAt, task.claim.claimedAt)).toISOString(),
      age_ms: Math.round(now - task.claim.claimedAt),
      heartbeat_age_ms: Math.round(now - task.claim.heartbeatAt),
      holder: task.claim.holder,
    };
  }
  if (worktree) view.worktree = { path: worktree.path, branch: worktree.branch, base: worktree.base };
  for (const key of Object.keys(view)) if (view[key] === undefined) delete view[key];
  return view;
}

export function taskText(task: Task, now = Date.now(), worktree?: WorktreeRecord): string {
  const lines = [`${task.id} [${task.state}] ${task.title}`];
  if (worktree) lines.push(`worktree: ${worktree.path} (branch ${worktree.branch})`);
  if (task.role) lines.push(`role: ${task.role}`);
  if (task.files.length > 0) lines.push(`files: ${task.files.join(', ')}`);
  if (task.depends_on.length > 0) lines.push(`depends on: ${task.depends_on.join(', ')}`);
  lines.push(`attempts: ${task.attempts}/${task.max_attempts}`);
  if (task.claim) {
    lines.push(`claimed by ${task.claim.agent} ${formatDuration(now - task.claim.claimedAt)} ago (token ${task.claim.token})`);
  }
  if (task.commit) lines.push(`commit: ${task.commit}`);
  if (task.summary) lines.push(`summary: ${task.summary}`);
  if (task.last_error) lines.push(`last error: ${task.last_error}`);
  if (task.body.trim().length > 0) lines.push('', task.body.trimEnd());
  return lines.join('\n');
}
