import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isProcessAlive } from '../process/liveness.ts';
import { runGit } from '../repo/run-git.ts';
import { dropOrphanMarks, markKeptBranches } from './kept-branch.ts';
import { INTEGRATION_REF_PREFIX, integrationRefOwner } from './integrate.ts';
import { withRepoLock } from './repo-lock.ts';
import type { RepoContext } from './repo-context.ts';
import { INTEGRATION_WORKTREE_PREFIX, taskBranch } from './worktree.ts';
import { deadLeftovers, finishDeadRemovals, pruneGitWorktrees, restoreDeadRemovals, type HeadBackup } from './removal-leftovers.ts';
import { deleteWorktreeRecord, listWorktreeRecords } from './worktree-registry.ts';

// What processes that died mid-way leave behind: verify's test worktrees and scratch refs, and
// folders a removal had set aside. Each name carries its owner's pid, so only a dead owner's
// leftovers are touched.

export interface PruneResult {
  /** Records whose folder was gone; their branches are kept. */
  forgotten: { task: string; path: string; branch: string }[];
  /** Test worktrees left by a verify run that died. */
  integration_worktrees_removed: string[];
  /** Scratch refs (refs/parallel/integration/...) left by a verify run that died. */
  integration_refs_removed: string[];
  /** Folders a removal that died had set aside: deleted once its backups existed, put back otherwise. */
  removals_finished: string[];
  removals_restored: string[];
  /** Detached HEADs of worktrees whose folder is away, kept under a backup ref before git forgot them. */
  head_backups: HeadBackup[];
}

export async function pruneWorktrees(context: RepoContext): Promise<PruneResult> {
  const result: PruneResult = { forgotten: [], integration_worktrees_removed: [], integration_refs_removed: [], removals_finished: [], removals_restored: [], head_backups: [] };
  await withRepoLock(context, () => {
    for (const name of deadLeftovers(context, INTEGRATION_WORKTREE_PREFIX)) {
      const path = join(context.worktreesDir, name);
      runGit(['worktree', 'remove', '--force', path], { cwd: context.repoRoot, okExitCodes: [128] });
      // A crash between creating the folder and registering it leaves a folder git does not know.
      rmSync(path, { recursive: true, force: true });
      result.integration_worktrees_removed.push(path);
    }
    result.removals_finished.push(...finishDeadRemovals(context));
    result.removals_restored.push(...restoreDeadRemovals(context));
    for (const ref of listIntegrationRefs(context)) {
      const owner = integrationRefOwner(ref);
      if (owner === undefined || isProcessAlive(owner)) continue;
      runGit(['update-ref', '-d', ref], { cwd: context.repoRoot, okExitCodes: [1, 128] });
      result.integration_refs_removed.push(ref);
    }
    result.head_backups.push(...pruneGitWorktrees(context));
  });
  for (const record of listWorktreeRecords(context.storeDir).records) {
    if (existsSync(record.path)) continue;
    deleteWorktreeRecord(context.storeDir, record.task);
    result.forgotten.push({ task: record.task, path: record.path, branch: record.branch });
  }
  // Their branches stay, marked as the runtime's, for the next worktree add of the task to resume;
  // a mark whose branch was deleted outside the runtime goes, so it vouches for nothing later.
  markKeptBranches(context, result.forgotten);
  dropOrphanMarks(context, taskBranch);
  return result;
}

function listIntegrationRefs(context: RepoContext): string[] {
  return runGit(['for-each-ref', '--format=%(refname)', `${INTEGRATION_REF_PREFIX}/`], { cwd: context.repoRoot }).stdout.split('\n').filter(Boolean);
}
