import { existsSync, renameSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { CliError } from '../errors.ts';
import { gitTest, resolveCommit, resolveCommitAsync, runGit, runGitAsync } from '../repo/run-git.ts';
import { validateTaskId } from '../store/task-schema.ts';
import { createBackupRef } from './backup-ref.ts';
import { markKeptBranches } from './kept-branch.ts';
import { requireBranch } from './branch-target.ts';
import { asidePath, asideTag, pruneGitWorktrees, REMOVED_PREFIX, REMOVING_PREFIX, restoreDeadRemovals } from './removal-leftovers.ts';
import { withRepoLock } from './repo-lock.ts';
import { branchRefName, currentBranch, type RepoContext } from './repo-context.ts';
import { commitsNotIn, listGitWorktrees, snapshotWorkingTree, uncommittedPathsAsync } from './worktree-state.ts';
import { deleteWorktreeRecord, readWorktreeRecord, type WorktreeRecord } from './worktree-registry.ts';

// Removing a task's worktree and branch never loses a commit: a branch goes only when everything
// on it is reachable from the target (a real branch other than its own) or from a backup ref
// under refs/parallel/backup/. The folder is first renamed aside, so the judgement is made on a
// tree nobody can reach by its path any more, renamed again once its backups exist (the mark that
// it may go; removal-leftovers.ts), and deleted after the repository lock is released:
// `git worktree remove` re-reads every file (status) and deletes them under the lock, which cost
// seconds per worktree on a large repository (bench/RESULTS.md).

/**
 * What happens to work the target does not have: `refuse` it (worktree remove), keep it under
 * backup refs and keep the branch (worktree remove --force), or keep it under backup refs and
 * delete the branch too (cleanup after verify merged the task).
 */
export type UnmergedPolicy = 'refuse' | 'backup-keep-branch' | 'backup-delete-branch';

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

export type RemovalOutcome = { task: string; removed: RemoveWorktreeResult } | { task: string; error: CliError };

interface Removal {
  task: string;
  record: WorktreeRecord;
  /** Where the folder is while it is judged: renamed aside, or undefined when git does not know it (or it is gone). */
  aside?: string | undefined;
  result?: RemoveWorktreeResult | undefined;
  error?: CliError | undefined;
  deleteBranchAt?: string | undefined;
}

/** Removes one worktree; refusals and bad input are thrown (exit codes 1 and 2). */
export async function removeWorktree(context: RepoContext, options: { taskId: string; target?: string | undefined; force?: boolean | undefined }): Promise<RemoveWorktreeResult> {
  const [outcome] = await removeWorktrees(context, [options.taskId], { target: options.target, unmerged: options.force ? 'backup-keep-branch' : 'refuse' });
  if ('error' in outcome!) throw outcome.error;
  return outcome!.removed;
}

/** Removes several worktrees under one lock, judged side by side; one task's refusal does not stop the others. */
export async function removeWorktrees(context: RepoContext, taskIds: readonly string[], options: { target?: string | undefined; unmerged: UnmergedPolicy }): Promise<RemovalOutcome[]> {
  const target = options.target ?? currentBranch(context.repoRoot);
  if (!target) throw new CliError('E_USAGE', 'the main worktree has no branch checked out; name the merge target with --into BRANCH');
  requireBranch(context, target);
  const removals: Removal[] = taskIds.map((id) => {
    const task = validateTaskId(id);
    const record = readWorktreeRecord(context.storeDir, task);
    if (!record) return { task, error: new CliError('E_NOT_FOUND', `task ${task} has no worktree record; "parallel-agents worktree list" shows the ones that exist`) } as Removal;
    if (branchRefName(record.branch) === branchRefName(target)) {
      return { task, record, error: new CliError('E_USAGE', `--into "${target}" is task ${task}'s own branch; name the branch its work was merged into (e.g. main)`) };
    }
    return { task, record };
  });
  const live = (): Removal[] => removals.filter((removal) => removal.error === undefined);

  await withRepoLock(context, async () => {
    // A removal that died mid-judgement left its folder aside with work maybe nowhere else: it
    // comes back first, so it is judged below and the prune further down keeps its registration.
    restoreDeadRemovals(context);
    const targetCommit = resolveCommit(branchRefName(target), context.repoRoot)!;
    const known = new Set(listGitWorktrees(context.repoRoot).map((worktree) => worktree.path));
    const branches = await branchHeads(context, live().map((removal) => removal.record.branch), targetCommit);
    for (const removal of live()) {
      // A folder git does not know is not judged as a worktree (git would answer for the
      // repository around it) and is left where it is; only its record goes.
      if (!existsSync(removal.record.path) || !known.has(removal.record.path)) continue;
      removal.aside = asidePath(context, REMOVING_PREFIX, removal.task);
      renameSync(removal.record.path, removal.aside);
    }
    await Promise.all(live().map((removal) => judge(context, removal, target, targetCommit, branches, options.unmerged).catch((error: unknown) => {
      // Not judged, so not removed: the folder goes back where it was.
      removal.error = error instanceof CliError ? error : new CliError('E_GIT', `could not check the worktree of task ${removal.task}: ${(error as Error).message}`);
    })));
    for (const removal of removals) {
      if (!removal.aside) continue;
      const decided = removal.error ? removal.record.path : asidePath(context, REMOVED_PREFIX, removal.task, asideTag(removal.aside, REMOVING_PREFIX));
      renameSync(removal.aside, decided);
      removal.aside = removal.error ? undefined : decided;
    }
    // The renamed folders now point nowhere: prune forgets exactly those (and any other vanished one).
    pruneGitWorktrees(context);
    deleteBranches(context, live().filter((removal) => removal.deleteBranchAt !== undefined));
    // A branch kept (unmerged commits under --force, or one that moved while it was judged) is
    // marked, so the next worktree add for its task resumes it, and never a user's own branch.
    markKeptBranches(context, live().filter((removal) => !removal.result!.branch_deleted).map((removal) => ({ task: removal.task, branch: removal.record.branch })));
  });
  for (const removal of live()) deleteWorktreeRecord(context.storeDir, removal.task);
  await Promise.all(live().map((removal) => (removal.aside ? rm(removal.aside, { recursive: true, force: true }) : undefined)));
  return removals.map((removal) => (removal.error ? { task: removal.task, error: removal.error } : { task: removal.task, removed: removal.result! }));
}

/** Each branch's head and whether the target has all of it: two git calls for any number of branches. */
async function branchHeads(context: RepoContext, branches: readonly string[], targetCommit: string): Promise<Map<string, { head: string; merged: boolean }>> {
  const heads = new Map<string, { head: string; merged: boolean }>();
  if (branches.length === 0) return heads;
  const refs = branches.map((branch) => branchRefName(branch));
  const listing = await runGitAsync(['for-each-ref', '--format=%(objectname) %(refname)', ...refs], { cwd: context.repoRoot });
  const merged = new Set((await runGitAsync(['for-each-ref', '--format=%(refname)', '--merged', targetCommit, ...refs], { cwd: context.repoRoot })).stdout.split('\n'));
  for (const line of listing.stdout.split('\n').filter(Boolean)) {
    const [head, ref] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
    // for-each-ref patterns also match below a name: keep exact names only.
    if (refs.includes(ref)) heads.set(ref, { head, merged: merged.has(ref) });
  }
  return heads;
}

/** Deletes the judged branches in one transaction, each only if it still points where it was judged. */
function deleteBranches(context: RepoContext, removals: readonly Removal[]): void {
  if (removals.length === 0) return;
  const line = (removal: Removal): string => `delete ${branchRefName(removal.record.branch)} ${removal.deleteBranchAt}\n`;
  const all = runGit(['update-ref', '--stdin'], { cwd: context.repoRoot, input: removals.map(line).join(''), okExitCodes: [1, 128] });
  for (const removal of removals) {
    // One moved since (an agent committed to it): the transaction failed, so each goes alone and that one stays.
    removal.result!.branch_deleted = all.exitCode === 0 || runGit(['update-ref', '--stdin'], { cwd: context.repoRoot, input: line(removal), okExitCodes: [1, 128] }).exitCode === 0;
  }
}

async function judge(context: RepoContext, removal: Removal, target: string, targetCommit: string, branches: Map<string, { head: string; merged: boolean }>, policy: UnmergedPolicy): Promise<void> {
  const { record, task, aside } = removal;
  const cwd = context.repoRoot;
  const [uncommitted, worktreeHead] = aside ? await Promise.all([uncommittedPathsAsync(aside), resolveCommitAsync('HEAD', aside)]) : [[], undefined];
  const branch = branches.get(branchRefName(record.branch));
  const branchHead = branch?.head;
  // The worktree's own HEAD counts too: commits made on a detached HEAD (or another branch) in
  // it are on no branch of ours and would be lost with the folder.
  const strayHead = worktreeHead && worktreeHead !== branchHead && commitsNotIn(cwd, targetCommit, worktreeHead) > 0 && !(branchHead && gitTest(['merge-base', '--is-ancestor', worktreeHead, branchHead], { cwd }))
    ? worktreeHead
    : undefined;
  const branchUnmerged = branch && !branch.merged ? commitsNotIn(cwd, targetCommit, branch.head) : 0;
  const unmerged = branchUnmerged + (strayHead ? commitsNotIn(cwd, targetCommit, strayHead) : 0);
  if (policy === 'refuse' && (uncommitted.length > 0 || unmerged > 0)) {
    const reasons = [
      ...(uncommitted.length > 0 ? [`${uncommitted.length} uncommitted path(s) in ${record.path} (e.g. ${uncommitted[0]})`] : []),
      ...(unmerged > 0 ? [`${unmerged} commit(s) on ${record.branch}${strayHead ? " or the worktree's detached HEAD" : ''} not in ${target}`] : []),
    ];
    removal.error = new CliError('E_REFUSED', `refusing to remove the worktree of task ${task}: ${reasons.join('; ')}; merge or commit the work, or pass --force (the work is then kept under refs/parallel/backup/${task}/)`, { uncommitted, unmerged_commits: unmerged });
    return;
  }
  const backupRefs: string[] = [];
  if (uncommitted.length > 0) {
    const snapshot = snapshotWorkingTree(aside!, `parallel-agents: uncommitted work of task ${task} before its worktree was removed`);
    backupRefs.push(createBackupRef(cwd, task, snapshot, '-uncommitted'));
  }
  if (branchHead && branchUnmerged > 0) backupRefs.push(createBackupRef(cwd, task, branchHead));
  if (strayHead) backupRefs.push(createBackupRef(cwd, task, strayHead, '-head'));
  if (branchHead && (branchUnmerged === 0 || policy === 'backup-delete-branch')) removal.deleteBranchAt = branchHead;
  removal.result = { task, path: record.path, branch: record.branch, target, uncommitted, unmerged_commits: unmerged, backup_refs: backupRefs, branch_deleted: false };
}
