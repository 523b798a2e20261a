import type { TaskStore } from '../store/task-store.ts';

/**
 * Placeholder until the git layer lands: accepts the commit as given. The git layer checks that
 * the commit exists on the task's own branch.
 */
export async function verifyCommitEvidence(_store: TaskStore, _taskId: string, commit: string): Promise<string> {
  return commit;
}
