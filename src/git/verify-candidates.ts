import type { Task } from '../store/backend.ts';
import { branchRefName } from './repo-context.ts';
import { gitTest, resolveCommit } from '../repo/run-git.ts';
import type { VerifyCandidate } from './verify-run.ts';
import { listWorktreeRecords } from './worktree-registry.ts';

export interface CandidateSelection {
  candidates: VerifyCandidate[];
  skipped: { task: string; reason: string }[];
  /** Completed tasks already contained in the target whose worktrees can go. */
  cleanup: { task: string; worktree: string; command: string }[];
}

/**
 * The branches verify merges: every completed task's branch (from its worktree record), or its
 * recorded commit when it worked without a task worktree. Everything else is listed with a reason,
 * so a report never silently drops a task.
 */
export function selectCandidates(repoRoot: string, storeDir: string, tasks: readonly Task[], targetCommit: string): CandidateSelection {
  const selection: CandidateSelection = { candidates: [], skipped: [], cleanup: [] };
  const records = new Map(listWorktreeRecords(storeDir).records.map((record) => [record.task, record]));
  const byId = new Map(tasks.map((task) => [task.id, task]));
  for (const task of tasks) {
    const record = records.get(task.id);
    if (task.state !== 'completed') {
      if (record) selection.skipped.push({ task: task.id, reason: `task is ${task.state}, not completed` });
      continue;
    }
    let branch: string;
    let head: string | undefined;
    // A worktree here whose branch lacks the recorded commit did not produce it: the task was
    // finished elsewhere (another machine on a shared store), and its recorded commit is the work.
    const local = record ? resolveCommit(branchRefName(record.branch), repoRoot) : undefined;
    const finishedElsewhere = record !== undefined && local !== undefined && task.commit !== undefined && local !== task.commit
      && !gitTest(['merge-base', '--is-ancestor', task.commit, local], { cwd: repoRoot });
    if (record && !finishedElsewhere) {
      branch = record.branch;
      head = local;
      if (!head) {
        selection.skipped.push({ task: task.id, reason: `branch ${record.branch} no longer exists` });
        continue;
      }
    } else if (task.commit) {
      branch = task.commit;
      head = resolveCommit(task.commit, repoRoot);
      if (!head) {
        selection.skipped.push({ task: task.id, reason: `recorded commit ${task.commit} does not exist in this repository` });
        continue;
      }
    } else {
      selection.skipped.push({ task: task.id, reason: 'completed without a worktree or a commit: nothing to merge' });
      continue;
    }
    if (gitTest(['merge-base', '--is-ancestor', head, targetCommit], { cwd: repoRoot })) {
      selection.skipped.push({ task: task.id, reason: 'already in the target' });
      if (record) selection.cleanup.push({ task: task.id, worktree: record.path, command: `parallel-agents worktree remove --task ${task.id}` });
      continue;
    }
    const base = finishedElsewhere ? task.base : record?.base ?? task.base;
    selection.candidates.push({ task: task.id, title: task.title, branch, head, scope: task.files, depends_on: task.depends_on, worktree: record?.path, base });
  }
  for (const record of records.values()) {
    if (!byId.has(record.task)) selection.skipped.push({ task: record.task, reason: 'has a worktree but no task in the store' });
  }
  return selection;
}
