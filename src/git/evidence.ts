import { existsSync } from 'node:fs';
import { CliError } from '../errors.ts';
import { validateTaskId } from '../store/task-schema.ts';
import { branchRefName } from './repo-context.ts';
import { gitOutput, gitTest, resolveCommit } from '../repo/run-git.ts';
import { scopeViolations } from './ownership.ts';
import { readWorktreeRecord } from './worktree-registry.ts';

/**
 * A task that works in its own worktree can only complete with a commit that is on its own branch:
 * the commit must exist and be the branch head or one of its ancestors. This stops "done" claims
 * backed by nothing, or by a commit that landed on another agent's branch.
 *
 * Resolves to the full commit id when the task has a worktree record (the check ran), and to the
 * commit as given when it has none (no branch to check against). Rejects with CliError E_EVIDENCE
 * when the check fails.
 */
export async function verifyCommitEvidence(
  store: { dir: string; repoRoot?: string | undefined },
  taskId: string,
  commit: string,
  scope: readonly string[] = [],
): Promise<string> {
  validateTaskId(taskId);
  const record = readWorktreeRecord(store.dir, taskId);
  if (!record) return checkSharedCheckoutCommit(store.repoRoot, taskId, commit, scope);
  const repoRoot = store.repoRoot;
  if (!repoRoot) throw new CliError('E_EVIDENCE', `task ${taskId} has a worktree record but the store is not inside a git repository; run complete from the project`);
  // Relative names (HEAD, HEAD~1) mean the task's own worktree, where the agent made them.
  const resolveIn = existsSync(record.path) ? record.path : repoRoot;
  const full = resolveCommit(commit, resolveIn);
  if (!full) {
    throw new CliError('E_EVIDENCE', `--commit "${commit}" names no commit in the repository; commit your work in ${record.path} and pass its id (git rev-parse HEAD)`);
  }
  const head = resolveCommit(branchRefName(record.branch), repoRoot);
  if (!head) {
    throw new CliError('E_EVIDENCE', `branch ${record.branch} of task ${taskId} no longer exists; the commit cannot be checked against it`);
  }
  if (!gitTest(['merge-base', '--is-ancestor', full, head], { cwd: repoRoot })) {
    throw new CliError('E_EVIDENCE', `commit ${full.slice(0, 12)} is not on branch ${record.branch} of task ${taskId}; commit in ${record.path} and pass that commit`, { commit: full, branch: record.branch });
  }
  // The base itself (or anything older) is on the branch too, but proves no work at all.
  if (gitTest(['merge-base', '--is-ancestor', full, record.base], { cwd: repoRoot })) {
    throw new CliError('E_EVIDENCE', `commit ${full.slice(0, 12)} is the base of task ${taskId} or older: nothing was committed on ${record.branch}; commit your work in ${record.path} (or pass --commit-worktree)`, { commit: full, branch: record.branch });
  }
  return full;
}

/**
 * Without a worktree (agents sharing one checkout), the commit's own changes must stay inside the
 * task's scope: a `git add -A` there also picks up other agents' files, and verify has no branch
 * to check afterwards, since the commit is already in the target.
 */
function checkSharedCheckoutCommit(repoRoot: string | undefined, taskId: string, commit: string, scope: readonly string[]): string {
  if (!repoRoot) return commit;
  const full = resolveCommit(commit, repoRoot);
  if (!full) {
    throw new CliError('E_EVIDENCE', `--commit "${commit}" names no commit in the repository; commit your work and pass its id (git rev-parse HEAD)`);
  }
  if (scope.length === 0) return full;
  const changed = gitOutput(['diff-tree', '--no-commit-id', '--name-only', '-r', '--root', full], { cwd: repoRoot }).split('\n').filter(Boolean);
  const outside = scopeViolations(changed, scope);
  if (outside.length > 0) {
    throw new CliError('E_EVIDENCE', `commit ${full.slice(0, 12)} changes files outside task ${taskId}'s scope (${outside.slice(0, 5).join(', ')}${outside.length > 5 ? ', ...' : ''}); commit only your task's files`, { commit: full, files: outside });
  }
  return full;
}
