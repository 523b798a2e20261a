import { isInside } from '../fs/path-inside.ts';
import type { RepoContext } from './repo-context.ts';
import { removeWorktrees } from './worktree-remove.ts';

// After verify merged a set of tasks, their worktrees and branches have done their job: the work
// is in the target. Removing them at once keeps a night of runs from filling the disk; anything
// the target does not have (a commit made after the merge, a stray file) is kept under a backup
// ref first, so nothing is lost.

export interface RemovedWorktree {
  task: string;
  path: string;
  branch: string;
  branch_deleted: boolean;
  backup_refs: string[];
}

export interface WorktreeCleanup {
  removed: RemovedWorktree[];
  /** Left in place, with the reason and the command that removes it later. */
  kept: { task: string; worktree: string; reason: string; command: string }[];
}

export async function removeMergedWorktrees(context: RepoContext, entries: readonly { task: string; worktree: string }[], target: string, options: { cwd?: string | undefined } = {}): Promise<WorktreeCleanup> {
  const cleanup: WorktreeCleanup = { removed: [], kept: [] };
  const command = (task: string): string => `parallel-agents worktree remove --task ${task} --into ${target}`;
  const wanted: string[] = [];
  for (const entry of entries) {
    // The caller's own directory stays: deleting it would leave the shell that ran us nowhere.
    if (options.cwd !== undefined && isInside(options.cwd, entry.worktree)) {
      cleanup.kept.push({ task: entry.task, worktree: entry.worktree, reason: 'the command ran inside it', command: command(entry.task) });
    } else {
      wanted.push(entry.task);
    }
  }
  if (wanted.length === 0) return cleanup;
  const outcomes = await removeWorktrees(context, wanted, { target, unmerged: 'backup-delete-branch' });
  const paths = new Map(entries.map((entry) => [entry.task, entry.worktree]));
  for (const outcome of outcomes) {
    if ('error' in outcome) {
      cleanup.kept.push({ task: outcome.task, worktree: paths.get(outcome.task)!, reason: outcome.error.message, command: command(outcome.task) });
    } else {
      const { task, path, branch, branch_deleted: branchDeleted, backup_refs: backupRefs } = outcome.removed;
      cleanup.removed.push({ task, path, branch, branch_deleted: branchDeleted, backup_refs: backupRefs });
    }
  }
  return cleanup;
}
