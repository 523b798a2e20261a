import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathBelow } from '../fs/path-inside.ts';
import { CliError } from '../errors.ts';
import { validateTaskId } from '../store/task-schema.ts';
import { withRepoLock } from './repo-lock.ts';
import { branchRefName, ensureWorktreesExcluded, isWorktreesExcluded, type RepoContext } from './repo-context.ts';
import { GitError, gitOutput, resolveCommit, resolveCommitAsync, runGitAsync } from '../repo/run-git.ts';
import { listGitWorktrees } from './worktree-state.ts';
import { ensureWorktreeConfig, setSparseCone, validateSparseFolder } from './worktree-sparse.ts';
import { listWorktreeRecords, readWorktreeRecord, writeWorktreeRecord, type WorktreeRecord } from './worktree-registry.ts';
import { prepareWorktree } from './worktree-setup.ts';
import { clearKeptMark, isKeptBranch } from './kept-branch.ts';

export const TASK_BRANCH_PREFIX = 'parallel/';
/** Temporary worktrees verify runs tests in; the pid lets prune tell a crashed run's leftovers. */
export const INTEGRATION_WORKTREE_PREFIX = '.integration-';

const FULL_COMMIT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

export function taskBranch(taskId: string): string {
  return `${TASK_BRANCH_PREFIX}${validateTaskId(taskId)}`;
}

export interface AddWorktreeOptions {
  taskId: string;
  /** Revision to branch from; defaults to the main worktree's HEAD. */
  base?: string | undefined;
  /** Cone folders of a sparse checkout (worktree-sparse.ts chooses them); undefined: full checkout. */
  sparse?: readonly string[] | undefined;
  /** Stops the project's set-up command when it fires (an interrupted run). */
  signal?: AbortSignal | undefined;
}

/**
 * Creates the task's branch and worktree. Only git's shared bookkeeping (the branch, the
 * worktree's admin folder, the shared config) happens under the repository lock; the sparse
 * settings and the file checkout, which touch only this worktree and are most of the cost, run
 * after it as asynchronous git processes, so several tasks check out at once and the caller's
 * event loop stays free.
 */
export async function addWorktree(context: RepoContext, options: AddWorktreeOptions): Promise<WorktreeRecord> {
  const taskId = validateTaskId(options.taskId);
  const sparse = options.sparse?.map((dir) => validateSparseFolder(dir));
  const existing = readWorktreeRecord(context.storeDir, taskId);
  if (existing) {
    throw new CliError('E_EXISTS', `task ${taskId} already has a worktree at ${existing.path} (branch ${existing.branch}); use it, or "parallel-agents worktree remove --task ${taskId}" first`, { path: existing.path, branch: existing.branch });
  }
  const path = join(context.worktreesDir, taskId);
  const branch = taskBranch(taskId);
  const baseRef = options.base ?? 'HEAD';
  // A full commit id (what the runner and taskStart pass) is checked by `git worktree add` itself.
  const baseCommit = FULL_COMMIT_ID.test(baseRef) ? baseRef : await resolveCommitAsync(baseRef, context.repoRoot);
  const noBase = (): CliError => new CliError('E_NOT_FOUND', `--base "${baseRef}" names no commit in ${context.repoRoot}; give a branch, tag or commit id`);
  if (!baseCommit) throw noBase();
  // Once its files are there, the worktree is made ready (.worktreeinclude, ports, set-up command).
  const record = async (base: string): Promise<WorktreeRecord> => ({
    task: taskId, path, branch, base, base_ref: baseRef, created_at: new Date().toISOString(), sparse: sparse ?? [], checkout: sparse ? 'sparse' : 'full',
    ...(await prepareWorktree(context, { path, task: taskId, signal: options.signal })).record,
  });

  if (existsSync(path)) {
    // A crash between `git worktree add` and the record leaves git's worktree without ours:
    // adopt it (same folder, same branch) instead of refusing forever.
    const orphan = listGitWorktrees(context.repoRoot).find((worktree) => worktree.path === path && worktree.branch === branchRefName(branch));
    if (!orphan) {
      throw new CliError('E_REFUSED', `${path} already exists but no worktree record names it and git does not know it as ${branch}; move it away or run "parallel-agents worktree prune"`);
    }
    if (sparse) {
      await withRepoLock(context, () => ensureWorktreeConfig(context));
      await setSparseCone(path, sparse);
    }
    await checkOutFiles(path);
    const adopted = await record(gitOutput(['merge-base', baseCommit, orphan.head!], { cwd: context.repoRoot }));
    writeWorktreeRecord(context.storeDir, adopted);
    return adopted;
  }

  // Two calls racing for the same task still cannot both win: git creates the branch and the
  // worktree folder atomically and refuses the second.
  let startCommit = baseCommit;
  await withRepoLock(context, async () => {
    if (!isWorktreesExcluded(context)) ensureWorktreesExcluded(context);
    const fresh = await runGitAsync(['worktree', 'add', '--no-checkout', '-b', branch, path, baseCommit], { cwd: context.repoRoot, okExitCodes: [128, 255] });
    if (fresh.exitCode !== 0) {
      const branchHead = await resolveCommitAsync(branchRefName(branch), context.repoRoot);
      if (!branchHead) {
        if (!(await resolveCommitAsync(baseCommit, context.repoRoot))) throw noBase();
        throw new GitError(['worktree', 'add', '--no-checkout', '-b', branch, path, baseCommit], fresh.exitCode, fresh.stderr, context.repoRoot);
      }
      const holder = listGitWorktrees(context.repoRoot).find((worktree) => worktree.branch === branchRefName(branch));
      if (holder) throw new CliError('E_EXISTS', `branch ${branch} is already checked out at ${holder.path}; remove that worktree first`);
      // Only a branch the runtime itself kept (kept-branch.ts) is resumed rather than forked a
      // second time; a branch of that name made by anyone else is not ours to merge and delete.
      if (!(await isKeptBranch(context, taskId, branchHead))) {
        throw new CliError('E_EXISTS', `branch ${branch} already exists and was not kept by parallel-agents for task ${taskId}; rename it (git branch -m ${branch} <new-name>) or delete it, then add the worktree again`, { branch });
      }
      startCommit = gitOutput(['merge-base', baseCommit, branchHead], { cwd: context.repoRoot });
      await runGitAsync(['worktree', 'add', '--no-checkout', path, branch], { cwd: context.repoRoot });
    }
    if (sparse) await ensureWorktreeConfig(context);
  });
  const checkout = async (): Promise<void> => {
    if (sparse) await setSparseCone(path, sparse);
    await checkOutFiles(path);
  };
  // The mark of a resumed branch goes, and so does one left from an earlier life of a fresh
  // branch, which must not vouch for a later one: off the lock, beside the checkout.
  await Promise.all([checkout(), clearKeptMark(context, taskId)]);
  const created = await record(startCommit);
  writeWorktreeRecord(context.storeDir, created);
  return created;
}

/** --no-checkout left an empty index: read HEAD into it and write the (sparse) files. Touches only this worktree. */
async function checkOutFiles(path: string): Promise<void> {
  await runGitAsync(['read-tree', '-mu', 'HEAD'], { cwd: path });
}

export interface WorktreeListing extends WorktreeRecord {
  /** Commit the branch points to now. */
  head: string | undefined;
  /** Git still knows the worktree. */
  registered: boolean;
  /** The folder is gone (prune forgets it; the branch stays). */
  missing: boolean;
}

export function listWorktrees(context: RepoContext): { worktrees: WorktreeListing[]; problems: { file: string; message: string }[] } {
  const { records, problems } = listWorktreeRecords(context.storeDir);
  const known = new Map(listGitWorktrees(context.repoRoot).map((worktree) => [worktree.path, worktree]));
  const worktrees = records.map((record) => ({
    ...record,
    head: resolveCommit(branchRefName(record.branch), context.repoRoot),
    registered: known.has(record.path),
    missing: !existsSync(record.path),
  }));
  return { worktrees, problems };
}

/** Path relative to the main worktree, for display. */
export function displayPath(context: RepoContext, path: string): string {
  return pathBelow(context.repoRoot, path) ?? path;
}
