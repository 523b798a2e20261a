import { CliError } from '../errors.ts';
import type { TaskBackend, TaskProblem } from '../store/backend.ts';
import { gitTest } from '../repo/run-git.ts';
import { requireBranch } from './branch-target.ts';
import { verifyThroughRemote, type RemotePublication } from './remote-verify.ts';
import { branchRefName, type RepoContext } from './repo-context.ts';
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
  /** On a shared store, the lease the verify lock is held under (a run's --stale-after; default 30m). */
  lockLeaseMs?: number | undefined;
}

export interface StoreVerifyReport extends VerifyReport {
  /** Tasks put back to failed/ (or blocked/) because verify refused their scope. */
  reopened: { task: string; state: string; reason: string }[];
  /** Worktrees and branches removed after the merge; `cleanup` lists those left in place. */
  removed: RemovedWorktree[];
  cleanup_ms: number;
  store_problems: TaskProblem[];
  /** A store shared through a git remote: the merge is published there (remote-verify.ts). */
  remote?: RemotePublication | undefined;
}

export async function verifyStore(context: RepoContext, store: TaskBackend, options: StoreVerifyOptions): Promise<StoreVerifyReport> {
  const report = store.shared
    ? await verifyThroughRemote(context, store.shared, options, (scratch) => verifyHere(context, store, { ...options, target: scratch }))
    : await verifyHere(context, store, options);
  return removeMerged(context, report, options);
}

/**
 * Once merged, the tasks' worktrees and branches go, judged against the local target (the
 * worktree-cleanup rules keep anything it lacks behind a backup ref). On a shared store the merge
 * is on the remote first: while the local target has not come along, they all stay. There, a
 * verify that finds every task's work already on the remote (another machine merged it) cleans
 * up the same way, so a run ends alike on every machine.
 */
async function removeMerged(context: RepoContext, report: StoreVerifyReport, options: StoreVerifyOptions): Promise<StoreVerifyReport> {
  const started = Date.now();
  const mergedElsewhere = report.status === 'nothing-to-merge' && report.remote !== undefined && !options.dryRun;
  if ((report.status !== 'merged' && !mergedElsewhere) || options.keepWorktrees || report.cleanup.length === 0) return report;
  if (!gitTest(['merge-base', '--is-ancestor', report.target.after, branchRefName(options.target)], { cwd: context.repoRoot })) {
    report.cleanup = report.cleanup.map((entry) => ({ ...entry, reason: `the local ${options.target} does not have the merge yet (git pull --ff-only brings it, then remove it)` }));
    return report;
  }
  const cleanup = await removeMergedWorktrees(context, report.cleanup, options.target, { cwd: options.cwd });
  report.removed = cleanup.removed;
  report.cleanup = cleanup.kept.map((entry) => ({ task: entry.task, worktree: entry.worktree, command: entry.command, reason: entry.reason }));
  report.cleanup_ms = Date.now() - started;
  return report;
}

async function verifyHere(context: RepoContext, store: TaskBackend, options: StoreVerifyOptions): Promise<StoreVerifyReport> {
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
  return { ...report, reopened, removed: [], cleanup_ms: 0, store_problems: problems };
}
