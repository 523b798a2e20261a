import { existsSync } from 'node:fs';
import type { Task } from '../store/backend.ts';
import { gatherEvidence } from '../git/evidence.ts';
import type { RepoContext } from '../git/repo-context.ts';
import { taskStart } from '../git/stacked-base.ts';
import { addWorktree } from '../git/worktree.ts';
import { pruneWorktrees } from '../git/worktree-prune.ts';
import { readWorktreeRecord, type WorktreeRecord } from '../git/worktree-registry.ts';
import { chooseCheckout, trackedFileCount, type CheckoutMode } from '../git/worktree-sparse.ts';
import { identityFallback } from '../git/worktree-state.ts';
import { runGitAsync } from '../repo/run-git.ts';
import type { PortBlock } from '../git/port-leases.ts';

// Where an attempt runs and how its result becomes evidence. One worktree per task (not per agent
// slot): a retry, or a resumed run, continues from what the earlier attempt left on the branch.
// Every rule comes from its one home in src/git: where a dependent task starts (taskStart), what
// it checks out (chooseCheckout), and what counts as done (gatherEvidence, as for `complete`).

export interface PreparedWorkspace {
  path: string;
  branch: string;
  /** Commit the task's branch started from. */
  base: string;
  /** Cone folders when the checkout is scoped; undefined for a full checkout. */
  sparse?: readonly string[] | undefined;
  /** Where the rest of the repository can be read. */
  mainCheckout: string;
  /** The worktree's own ports, when the project declares ports (.parallel-agents.json). */
  ports?: PortBlock | undefined;
}

/** A dependency as the store has it: only completed ones with a commit contribute to the start. */
export type DependencyState = Pick<Task, 'id' | 'state' | 'commit'>;

export interface TaskWorkspace {
  /** `signal` stops the project's set-up command (an interrupted run). */
  prepare(task: Task, dependencies: readonly DependencyState[], signal?: AbortSignal): Promise<PreparedWorkspace>;
  /**
   * The commit to complete with: commits what the agent left in its worktree and checks it against
   * the task's branch, base and scope. Throws E_EVIDENCE when there is none or it leaves the scope.
   */
  evidence(task: Task, workspace: PreparedWorkspace): Promise<string | undefined>;
  /** Keeps unfinished work on the branch for the next attempt (a rate-limited one); best effort. */
  saveProgress(workspace: PreparedWorkspace, message: string): Promise<void>;
}

export function gitTaskWorkspace(context: RepoContext, runBase: string, checkout: CheckoutMode = 'auto'): TaskWorkspace {
  let trackedFiles: number | undefined;
  let identity: NodeJS.ProcessEnv | undefined;
  const prepared = (record: WorktreeRecord): PreparedWorkspace => ({
    path: record.path, branch: record.branch, base: record.base, mainCheckout: context.repoRoot, ports: record.ports, ...(record.checkout === 'sparse' ? { sparse: record.sparse } : {}),
  });
  return {
    async prepare(task, dependencies, signal) {
      const existing = readWorktreeRecord(context.storeDir, task.id);
      if (existing && existsSync(existing.path)) return prepared(existing);
      // Its folder is gone (deleted by an agent, or by hand): prune forgets the record and keeps and
      // marks the branch, so the worktree added below resumes it with the earlier attempts' commits.
      if (existing) await pruneWorktrees(context);
      const { base } = taskStart(context.repoRoot, runBase, dependencies);
      trackedFiles ??= trackedFileCount(context);
      // A task without any scope has nothing to scope its checkout to: it gets everything.
      const mode = checkout === 'scoped' && task.files.length + task.reads.length === 0 ? 'full' : checkout;
      const choice = chooseCheckout(context, { mode, files: task.files, reads: task.reads, trackedFiles });
      const record = await addWorktree(context, { taskId: task.id, base, sparse: choice.sparse, signal });
      return prepared(record);
    },
    evidence(task, _workspace) {
      return gatherEvidence({ context, task, commitWorktree: true });
    },
    async saveProgress(workspace, message) {
      identity ??= identityFallback(context.repoRoot);
      await runGitAsync(['add', '--all', '--', '.'], { cwd: workspace.path });
      // Exit 1 = nothing to commit. The agent's own hooks already had their chance on its commits.
      await runGitAsync(['commit', '--quiet', '--no-verify', '-m', message], { cwd: workspace.path, env: identity, okExitCodes: [1] });
    },
  };
}
