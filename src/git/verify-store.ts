import { CliError } from '../errors.ts';
import { gitTest, resolveCommit, runGit } from '../repo/run-git.ts';
import type { TaskBackend, TaskProblem } from '../store/backend.ts';
import { verifyThroughRemote, type RemotePublication } from './remote-verify.ts';
import { branchRefName, type RepoContext } from './repo-context.ts';
import { selectCandidates } from './verify-candidates.ts';
import { runVerify, type VerifyOptions, type VerifyReport } from './verify-run.ts';

// The verify sequence over a store, in one place for `verify` and for `run`: pick the completed
// tasks' branches, run ownership, pre-check, ordered merge and test gate (verify-run.ts), and put
// any task whose work was refused for scope back to failed/, with the violation as its reason.

export interface StoreVerifyOptions extends Omit<VerifyOptions, 'candidates' | 'skipped'> {
  /** Only these tasks (a run's plan); default every task in the store. */
  taskIds?: readonly string[] | undefined;
}

export interface StoreVerifyReport extends VerifyReport {
  /** Tasks put back to failed/ (or blocked/) because verify refused their scope. */
  reopened: { task: string; state: string; reason: string }[];
  store_problems: TaskProblem[];
  /** A store shared through a git remote: the merge is published there (remote-verify.ts). */
  remote?: RemotePublication | undefined;
}

/** The target must be an existing branch: a revision such as main~1 cannot be moved. Exit 2 otherwise. */
export function requireBranch(context: RepoContext, target: string): string {
  const wellFormed = runGit(['check-ref-format', '--branch', target], { cwd: context.repoRoot, okExitCodes: [1, 128] }).exitCode === 0;
  if (!wellFormed || target.startsWith('refs/') || !gitTest(['show-ref', '--verify', '--quiet', branchRefName(target)], { cwd: context.repoRoot })) {
    throw new CliError('E_USAGE', `--into "${target}" is not a branch of ${context.repoRoot}; name an existing branch (git branch --list) to merge into`);
  }
  return resolveCommit(branchRefName(target), context.repoRoot)!;
}

export async function verifyStore(context: RepoContext, store: TaskBackend, options: StoreVerifyOptions): Promise<StoreVerifyReport> {
  if (store.shared) return verifyThroughRemote(context, store.shared, options, (scratch) => verifyHere(context, store, { ...options, target: scratch }));
  return verifyHere(context, store, options);
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
  return { ...report, reopened, store_problems: problems };
}
