import { CliError } from '../errors.ts';
import type { Task, TaskEvent, TaskState } from './backend.ts';
import { proofOf, validateToken } from './holder-proof.ts';
import { stateAfterFailure, stateAfterRelease } from './rules.ts';
import type { TaskFrontmatter } from './task-schema.ts';

// What a task becomes after each holder transition, and the journal event that says so: the same
// for every backend, which only decides how the change is made atomic.

export type NewEvent = Omit<TaskEvent, 'ts'>;

export interface NextTask {
  to: TaskState;
  frontmatter: Record<string, unknown>;
  event: NewEvent;
}

export function afterComplete(fm: TaskFrontmatter, who: { agent: string; task: string; proof: string; commit?: string | undefined; summary?: string | undefined }, now = new Date()): NextTask {
  const frontmatter: Record<string, unknown> = { ...fm, commit: who.commit, summary: who.summary, completed_by: who.agent, completed_at: now.toISOString(), completed_proof: who.proof };
  delete frontmatter.last_error;
  return { to: 'completed', frontmatter, event: { event: 'complete', task: who.task, agent: who.agent, attempt: fm.attempts + 1, commit: who.commit, to: 'completed', attempts: fm.attempts } };
}

/**
 * Whether a completed task was completed under the claim this token proves, by this agent: a
 * complete retried after the first one landed and its answer was lost (a kill, a timeout).
 */
export function completedByClaim(task: Pick<Task, 'state' | 'completed_by' | 'completed_proof'>, who: { agent: string; token?: string | undefined }): boolean {
  return task.state === 'completed' && who.token !== undefined && task.completed_by === who.agent && task.completed_proof === proofOf(validateToken(who.token));
}

/** A failed attempt, by the holder (`fail`) or by recovery (`recover`): one more attempt counted. */
export function afterFailure(fm: TaskFrontmatter, who: { agent: string; task: string; reason: string; recovered?: boolean }): NextTask & { to: 'failed' | 'blocked' } {
  const attempts = fm.attempts + 1;
  const to = stateAfterFailure(attempts, fm.max_attempts);
  const kind = who.recovered ? 'recover' : to === 'blocked' ? 'block' : 'fail';
  return { to, frontmatter: { ...fm, attempts, last_error: who.reason }, event: { event: kind, task: who.task, agent: who.agent, attempt: attempts, reason: who.reason, to, attempts } };
}

export function afterRelease(fm: TaskFrontmatter, who: { agent: string; task: string }): NextTask {
  const to = stateAfterRelease(fm.attempts);
  return { to, frontmatter: { ...fm }, event: { event: 'release', task: who.task, agent: who.agent, attempt: fm.attempts + 1, to, attempts: fm.attempts } };
}

/** A completed task whose work verify refused: back to failed (or blocked), its evidence cleared. */
export function afterReopen(fm: TaskFrontmatter, request: { task: string; commit: string | undefined; reason: string }): NextTask {
  if (request.commit !== undefined && fm.commit !== undefined && !fm.commit.startsWith(request.commit) && !request.commit.startsWith(fm.commit)) {
    throw new CliError('E_REFUSED', `task "${request.task}" was completed again (commit ${fm.commit}) since it was checked; nothing reopened`);
  }
  const attempts = fm.attempts + 1;
  const to = stateAfterFailure(attempts, fm.max_attempts);
  const frontmatter: Record<string, unknown> = { ...fm, attempts, last_error: request.reason };
  // The evidence of the refused completion goes (base and branch are where a shared store keeps it).
  for (const key of ['commit', 'summary', 'completed_by', 'completed_at', 'completed_proof', 'base', 'branch']) delete frontmatter[key];
  return { to, frontmatter, event: { event: 'reopen', task: request.task, reason: request.reason, commit: fm.commit, attempt: attempts, to, attempts } };
}
