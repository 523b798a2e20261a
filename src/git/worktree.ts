import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathBelow } from '../fs/path-inside.ts';
import { CliError } from '../errors.ts';
import { isProcessAlive } from '../process/liveness.ts';
import { isGlob, normalizeScopeEntry, scopeEntryProblem } from '../scope/scope-entry.ts';
import { validateTaskId } from '../store/task-schema.ts';
import { createBackupRef } from './backup-ref.ts';
import { withRepoLock } from './repo-lock.ts';
import { branchRefName, currentBranch, ensureWorktreesExcluded, isWorktreesExcluded, type RepoContext } from './repo-context.ts';
import { gitOutput, gitTest, resolveCommit, runGit } from '../repo/run-git.ts';
import { commitsNotIn, listGitWorktrees, snapshotWorkingTree, uncommittedPaths } from './worktree-state.ts';
import { deleteWorktreeRecord, listWorktreeRecords, readWorktreeRecord, writeWorktreeRecord, type WorktreeRecord } from './worktree-registry.ts';
import { prepareWorktree } from './worktree-setup.ts';

export const TASK_BRANCH_PREFIX = 'parallel/';
/** Temporary worktrees verify runs tests in; the pid lets prune tell a crashed run's leftovers. */
export const INTEGRATION_WORKTREE_PREFIX = '.integration-';

export function taskBranch(taskId: string): string {
  return `${TASK_BRANCH_PREFIX}${validateTaskId(taskId)}`;
}

export interface AddWorktreeOptions {
  taskId: string;
  /** Revision to branch from; defaults to the main worktree's HEAD. */
  base?: string | undefined;
  /** Cone-mode directories for a sparse checkout (large repositories). */
  sparse?: readonly string[] | undefined;
}

export async function addWorktree(context: RepoContext, options: AddWorktreeOptions): Promise<WorktreeRecord> {
  const taskId = validateTaskId(options.taskId);
  const sparse = (options.sparse ?? []).map((dir) => validateSparseDir(dir));
  const existing = readWorktreeRecord(context.storeDir, taskId);
  if (existing) {
    throw new CliError('E_EXISTS', `task ${taskId} already has a worktree at ${existing.path} (branch ${existing.branch}); use it, or "parallel-agents worktree remove --task ${taskId}" first`, { path: existing.path, branch: existing.branch });
  }
  const path = join(context.worktreesDir, taskId);
  const baseRef = options.base ?? 'HEAD';
  const baseCommit = resolveCommit(baseRef, context.repoRoot);
  if (!baseCommit) throw new CliError('E_NOT_FOUND', `--base "${baseRef}" names no commit in ${context.repoRoot}; give a branch, tag or commit id`);
  const branch = taskBranch(taskId);
  if (existsSync(path)) {
    // A crash between `git worktree add` and the record leaves git's worktree without ours:
    // adopt it (same folder, same branch) instead of refusing forever.
    const orphan = listGitWorktrees(context.repoRoot).find((worktree) => worktree.path === path && worktree.branch === branchRefName(branch));
    if (!orphan) {
      throw new CliError('E_REFUSED', `${path} already exists but no worktree record names it and git does not know it as ${branch}; move it away or run "parallel-agents worktree prune"`);
    }
    runGit(['read-tree', '-mu', 'HEAD'], { cwd: path });
    const head = resolveCommit(branchRefName(branch), context.repoRoot)!;
    const adopted: WorktreeRecord = {
      task: taskId,
      path,
      branch,
      base: gitOutput(['merge-base', baseCommit, head], { cwd: context.repoRoot }),
      base_ref: baseRef,
      created_at: new Date().toISOString(),
      sparse,
      ...(await prepareWorktree(context, { path, task: taskId })).record,
    };
    writeWorktreeRecord(context.storeDir, adopted);
    return adopted;
  }

  // A branch kept by an earlier forced removal is resumed rather than forked a second time.
  const branchHead = resolveCommit(branchRefName(branch), context.repoRoot);
  let startCommit = baseCommit;
  if (branchHead) {
    const holder = listGitWorktrees(context.repoRoot).find((worktree) => worktree.branch === branchRefName(branch));
    if (holder) throw new CliError('E_EXISTS', `branch ${branch} is already checked out at ${holder.path}; remove that worktree first`);
    startCommit = gitOutput(['merge-base', baseCommit, branchHead], { cwd: context.repoRoot });
  }
  // The critical section holds only the shared bookkeeping (ref, worktree admin dir, config):
  // --no-checkout defers the expensive file checkout to after the lock, in parallel with other
  // agents. Two calls racing for the same task still cannot both win: git creates the branch and
  // the worktree folder atomically and refuses the second.
  await withRepoLock(context, () => {
    if (!isWorktreesExcluded(context)) ensureWorktreesExcluded(context);
    if (branchHead) runGit(['worktree', 'add', '--no-checkout', path, branch], { cwd: context.repoRoot });
    else runGit(['worktree', 'add', '--no-checkout', '-b', branch, path, baseCommit], { cwd: context.repoRoot });
    // sparse-checkout writes the shared config (extensions.worktreeConfig), so it stays under the lock.
    if (sparse.length > 0) runGit(['sparse-checkout', 'set', '--cone', ...sparse], { cwd: path });
  });
  // --no-checkout left an empty index: read HEAD into it and write the (sparse) files.
  runGit(['read-tree', '-mu', 'HEAD'], { cwd: path });

  const record: WorktreeRecord = {
    task: taskId,
    path,
    branch,
    base: startCommit,
    base_ref: baseRef,
    created_at: new Date().toISOString(),
    sparse,
    ...(await prepareWorktree(context, { path, task: taskId })).record,
  };
  writeWorktreeRecord(context.storeDir, record);
  return record;
}

/** A scope entry (the one validation) that is also a plain folder: cone mode takes folders only. */
function validateSparseDir(dir: string): string {
  const problem = scopeEntryProblem(dir) ?? (isGlob(dir) ? 'is a glob: a sparse checkout takes folders; name the folder itself' : undefined);
  if (problem) throw new CliError('E_INVALID', `--sparse ${JSON.stringify(dir)} ${problem}`);
  return normalizeScopeEntry(dir);
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

export interface RemoveWorktreeOptions {
  taskId: string;
  /** Branch whose history counts as "merged"; defaults to the main worktree's branch. */
  target?: string | undefined;
  force?: boolean | undefined;
}

export interface RemoveWorktreeResult {
  task: string;
  path: string;
  branch: string;
  target: string;
  uncommitted: string[];
  unmerged_commits: number;
  backup_refs: string[];
  branch_deleted: boolean;
}

export async function removeWorktree(context: RepoContext, options: RemoveWorktreeOptions): Promise<RemoveWorktreeResult> {
  const taskId = validateTaskId(options.taskId);
  const record = readWorktreeRecord(context.storeDir, taskId);
  if (!record) throw new CliError('E_NOT_FOUND', `task ${taskId} has no worktree record; "parallel-agents worktree list" shows the ones that exist`);
  const target = options.target ?? currentBranch(context.repoRoot);
  if (!target) throw new CliError('E_USAGE', `the main worktree has no branch checked out; name the merge target with --into BRANCH`);
  const targetCommit = resolveCommit(branchRefName(target), context.repoRoot);
  if (!targetCommit) throw new CliError('E_NOT_FOUND', `target branch "${target}" does not exist; name it with --into BRANCH`);

  const present = existsSync(record.path);
  const uncommitted = present ? uncommittedPaths(record.path) : [];
  const branchHead = resolveCommit(branchRefName(record.branch), context.repoRoot);
  // The worktree's own HEAD counts too: commits made on a detached HEAD (or another branch) in
  // it are on no branch of ours and would be lost with the folder.
  const worktreeHead = present ? resolveCommit('HEAD', record.path) : undefined;
  const strayHead = worktreeHead && worktreeHead !== branchHead && commitsNotIn(context.repoRoot, targetCommit, worktreeHead) > 0 && !(branchHead && gitTest(['merge-base', '--is-ancestor', worktreeHead, branchHead], { cwd: context.repoRoot }))
    ? worktreeHead
    : undefined;
  const unmerged = (branchHead ? commitsNotIn(context.repoRoot, targetCommit, branchHead) : 0) + (strayHead ? commitsNotIn(context.repoRoot, targetCommit, strayHead) : 0);
  if (!options.force && (uncommitted.length > 0 || unmerged > 0)) {
    const reasons = [
      ...(uncommitted.length > 0 ? [`${uncommitted.length} uncommitted path(s) in ${record.path} (e.g. ${uncommitted[0]})`] : []),
      ...(unmerged > 0 ? [`${unmerged} commit(s) on ${record.branch}${strayHead ? ' or the worktree\'s detached HEAD' : ''} not in ${target}`] : []),
    ];
    throw new CliError('E_REFUSED', `refusing to remove the worktree of task ${taskId}: ${reasons.join('; ')}; merge or commit the work, or pass --force (the work is then kept under refs/parallel/backup/${taskId}/)`, { uncommitted, unmerged_commits: unmerged });
  }

  const backupRefs: string[] = [];
  if (uncommitted.length > 0) {
    const snapshot = snapshotWorkingTree(record.path, `parallel-agents: uncommitted work of task ${taskId} before forced worktree removal`);
    backupRefs.push(createBackupRef(context.repoRoot, taskId, snapshot, '-uncommitted'));
  }
  if (branchHead && unmerged > 0 && commitsNotIn(context.repoRoot, targetCommit, branchHead) > 0) backupRefs.push(createBackupRef(context.repoRoot, taskId, branchHead));
  if (strayHead) backupRefs.push(createBackupRef(context.repoRoot, taskId, strayHead, '-head'));

  let branchDeleted = false;
  await withRepoLock(context, () => {
    // A folder deleted by hand is only forgotten (prune); git cannot "remove" what is gone.
    if (present && listGitWorktrees(context.repoRoot).some((worktree) => worktree.path === record.path)) {
      // Without --force from the user, git itself refuses a tree that became dirty since we looked.
      runGit(['worktree', 'remove', ...(options.force ? ['--force'] : []), record.path], { cwd: context.repoRoot });
    } else {
      runGit(['worktree', 'prune'], { cwd: context.repoRoot });
    }
    // Only a branch with nothing outside the target goes; the compare-and-delete fails if an agent
    // committed to it since we counted.
    if (branchHead && unmerged === 0) {
      runGit(['update-ref', '-d', branchRefName(record.branch), branchHead], { cwd: context.repoRoot });
      branchDeleted = true;
    }
  });
  deleteWorktreeRecord(context.storeDir, taskId);
  return {
    task: taskId,
    path: record.path,
    branch: record.branch,
    target,
    uncommitted,
    unmerged_commits: unmerged,
    backup_refs: backupRefs,
    branch_deleted: branchDeleted,
  };
}

export interface PruneResult {
  /** Records whose folder was gone; their branches are kept. */
  forgotten: { task: string; path: string; branch: string }[];
  /** Test worktrees left by a verify run that died. */
  integration_worktrees_removed: string[];
}

export async function pruneWorktrees(context: RepoContext): Promise<PruneResult> {
  const forgotten: PruneResult['forgotten'] = [];
  const removed: string[] = [];
  await withRepoLock(context, () => {
    for (const path of deadIntegrationWorktrees(context)) {
      runGit(['worktree', 'remove', '--force', path], { cwd: context.repoRoot, okExitCodes: [128] });
      // A crash between creating the folder and registering it leaves a folder git does not know.
      rmSync(path, { recursive: true, force: true });
      removed.push(path);
    }
    runGit(['worktree', 'prune'], { cwd: context.repoRoot });
  });
  for (const record of listWorktreeRecords(context.storeDir).records) {
    if (existsSync(record.path)) continue;
    deleteWorktreeRecord(context.storeDir, record.task);
    forgotten.push({ task: record.task, path: record.path, branch: record.branch });
  }
  return { forgotten, integration_worktrees_removed: removed };
}

function deadIntegrationWorktrees(context: RepoContext): string[] {
  let names: string[];
  try {
    names = readdirSync(context.worktreesDir);
  } catch {
    return [];
  }
  return names
    .filter((name) => name.startsWith(INTEGRATION_WORKTREE_PREFIX))
    .filter((name) => !isProcessAlive(Number(name.slice(INTEGRATION_WORKTREE_PREFIX.length).split('-')[0])))
    .map((name) => join(context.worktreesDir, name));
}

/** Path relative to the main worktree, for display. */
export function displayPath(context: RepoContext, path: string): string {
  return pathBelow(context.repoRoot, path) ?? path;
}
