import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isProcessAlive } from '../process/liveness.ts';
import { runGit } from '../repo/run-git.ts';
import { TASK_ID_PATTERN } from '../store/task-schema.ts';
import { createBackupRef } from './backup-ref.ts';
import type { RepoContext } from './repo-context.ts';
import { listGitWorktrees } from './worktree-state.ts';
import { listWorktreeRecords, readWorktreeRecord } from './worktree-registry.ts';

// What a removal that died leaves, and the one safe way to make git forget vanished worktrees.
// A removal renames the folder aside as `.removing-<pid>-<hex>-<task>` while it judges it, and to
// `.removed-<pid>-<hex>-<task>` once the backups of its work exist: only the second may be
// deleted. Every function here expects the caller to hold the repository lock.

/** Folder set aside and being judged: its work may be nowhere else. */
export const REMOVING_PREFIX = '.removing-';
/** Folder whose work is backed up (or in the target): safe to delete. */
export const REMOVED_PREFIX = '.removed-';

export function asidePath(context: RepoContext, prefix: string, task: string, tag = `${process.pid}-${randomBytes(3).toString('hex')}`): string {
  return join(context.worktreesDir, `${prefix}${tag}-${task}`);
}

/** The `<pid>-<hex>` of an aside folder name, so its marker rename keeps it. */
export function asideTag(path: string, prefix: string): string {
  return basename(path).slice(prefix.length).split('-').slice(0, 2).join('-');
}

/**
 * Puts back the folders of removals that died before their backups existed: at the record's path
 * when it is free (git's registration still points there, so it is a worktree again), otherwise
 * beside it as `<task>.recovered-<hex>`. Nothing here deletes.
 */
export function restoreDeadRemovals(context: RepoContext): string[] {
  const restored: string[] = [];
  for (const name of deadLeftovers(context, REMOVING_PREFIX)) {
    const task = name.split('-').slice(3).join('-');
    const record = task ? readRecordQuietly(context, task) : undefined;
    const home = record && !existsSync(record.path) ? record.path : join(context.worktreesDir, `${task || 'worktree'}.recovered-${randomBytes(3).toString('hex')}`);
    renameSync(join(context.worktreesDir, name), home);
    restored.push(home);
  }
  return restored;
}

/** Deletes the folders of removals that died after their backups existed. */
export function finishDeadRemovals(context: RepoContext): string[] {
  return deadLeftovers(context, REMOVED_PREFIX).map((name) => {
    const path = join(context.worktreesDir, name);
    rmSync(path, { recursive: true, force: true });
    return path;
  });
}

export interface HeadBackup {
  path: string;
  commit: string;
  ref: string;
}

/**
 * `git worktree prune`, which also forgets the HEAD of every worktree whose folder is away (an
 * unmounted drive, a folder set aside): a detached HEAD that no branch or backup holds is kept
 * under refs/parallel/backup/<task>/ first. git reads each HEAD from the worktree's admin folder.
 */
export function pruneGitWorktrees(context: RepoContext): HeadBackup[] {
  const cwd = context.repoRoot;
  const backups: HeadBackup[] = [];
  const vanished = listGitWorktrees(cwd).filter((worktree) => worktree.prunable && !worktree.locked && !worktree.branch && worktree.head);
  if (vanished.length > 0) {
    const tasks = new Map(listWorktreeRecords(context.storeDir).records.map((record) => [record.path, record.task]));
    for (const { path, head } of vanished) {
      const holders = runGit(['for-each-ref', '--count=1', '--format=%(refname)', '--contains', head!, 'refs/heads/', 'refs/parallel/backup/'], { cwd, okExitCodes: [129] });
      // 129: git no longer has the commit, so there is nothing left to keep.
      if (holders.exitCode !== 0 || holders.stdout.trim() !== '') continue;
      const task = tasks.get(path) ?? (TASK_ID_PATTERN.test(basename(path)) ? basename(path) : 'worktree');
      backups.push({ path, commit: head!, ref: createBackupRef(cwd, task, head!, '-head') });
    }
  }
  runGit(['worktree', 'prune'], { cwd });
  return backups;
}

/** Entries of the worktrees folder named `<prefix><pid>-...` whose pid no longer runs. */
export function deadLeftovers(context: RepoContext, prefix: string): string[] {
  let names: string[];
  try {
    names = readdirSync(context.worktreesDir);
  } catch {
    return [];
  }
  return names.filter((name) => name.startsWith(prefix) && !isProcessAlive(Number(name.slice(prefix.length).split('-')[0])));
}

function readRecordQuietly(context: RepoContext, task: string): ReturnType<typeof readWorktreeRecord> {
  try {
    return readWorktreeRecord(context.storeDir, task);
  } catch {
    return undefined;
  }
}
