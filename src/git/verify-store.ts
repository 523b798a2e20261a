import { CliError } from '../errors.ts';
import type { TaskBackend, TaskProblem } from '../store/backend.ts';
import { requireBranch } from './branch-target.ts';
import type { RepoContext } from './repo-context.ts';
import { selectCandidates } from './verify-candidates.ts';
import { removeMergedWorktrees, type RemovedWorktree } from './worktree-cleanup.ts';
import { runVerify, type VerifyOptions, type VerifyReport } from './verify-run.ts';

// The verify sequence over a store, in one place for `verify` and for `run`: pick the completed
// tasks' branches, run ownership, pre-check, ordered merge and test gate (verify-run.ts), and put
// any task whose work was refused for scope back to failed/, with the violation as its reason.

export interface StoreVerifyOptions extends Omit<VerifyOptions, 'candidates' | 'skipped'> {
  /** Only these tasks (a run's plan); default every task in the store. */
  taskIds?: readonly string[] | undefined;
  /** Leave the merged tasks' worktrees and branches in place (default: removed once merged). */
  keepWorktrees?: boolean | undefined;
  /** The caller's directory: a worktree holding it is kept. */
  cwd?: string | undefined;
}

export interface StoreVerifyReport extends VerifyReport {
  /** Tasks put back to failed/ (or blocked/) because verify refused their scope. */
  reopened: { task: string; state: string; reason: string }[];
  /** Worktrees and branches removed after the merge; `cleanup` lists those left in place. */
  removed: RemovedWorktree[];
  cleanup_ms: number;
  store_problems: TaskProblem[];
}

export async function verifyStore(context: RepoContext, store: TaskBackend, options: StoreVerifyOptions): Promise<StoreVerifyReport> {
  const targetCommit = requireBranch(context, options.target);
  const { tasks, problems } = await store.list();
  const wanted = options.taskIds ? new Set(options.taskIds) : undefined;
  const selection = selectCandidates(context.repoRoot, store.localDir, wanted ? tasks.filter((task) => wanted.has(task.id)) : tasks, targetCommit);
  const report = await runVerify(context, { ...options, candidates: selection.candidates, skipped: selection.skipped });
  if (report.status === 'merged' || report.status === 'nothing-to-merge') report.cleanup.push(...selection.cleanup);
  const reopened: StoreVerifyReport['reopened'] = [];
  if (!options.dryRun && !options.allowScopeDrift) {
    const judged = new Map(tasks.map((task) => [task.id, task.commit]));
    for (const violation of report.violations) {
      const reason = `verify refused its work: it changed ${violation.files.length} file(s) outside its scope (${violation.files.slice(0, 5).join(', ')}${violation.files.length > 5 ? ', ...' : ''})`;
      try {
        const task = await store.reopen({ task: violation.task, commit: judged.get(violation.task), reason });
        reopened.push({ task: task.id, state: task.state, reason });
      } catch (error) {
        // Reopened by a concurrent verify, or completed again since: it is no longer this report's to change.
        if (!(error instanceof CliError) || error.code !== 'E_REFUSED') throw error;
      }
    }
  }
  let removed: RemovedWorktree[] = [];
  const cleanupStarted = Date.now();
  if (report.status === 'merged' && !options.keepWorktrees && report.cleanup.length > 0) {
    const cleanup = await removeMergedWorktrees(context, report.cleanup, options.target, { cwd: options.cwd });
    removed = cleanup.removed;
    report.cleanup = cleanup.kept.map((entry) => ({ task: entry.task, worktree: entry.worktree, command: entry.command, reason: entry.reason }));
  }
  return { ...report, reopened, removed, cleanup_ms: Date.now() - cleanupStarted, store_problems: problems };
}
