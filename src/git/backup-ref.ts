import { validateTaskId } from '../store/task-schema.ts';
import { runGit } from '../repo/run-git.ts';

// Commits stay reachable after a forced removal: git never garbage-collects what a ref points to,
// and refs/parallel/ is outside refs/heads so branch listings stay clean.

export const BACKUP_REF_PREFIX = 'refs/parallel/backup';

export function backupRefName(taskId: string, now: Date = new Date()): string {
  validateTaskId(taskId);
  // ":" is not allowed in ref names; keep the ISO order so refs sort by time.
  const stamp = now.toISOString().replace(/:/g, '-');
  return `${BACKUP_REF_PREFIX}/${taskId}/${stamp}`;
}

/** Creates a new backup ref at `commit`; never overwrites an existing one. */
export function createBackupRef(cwd: string, taskId: string, commit: string, suffix = ''): string {
  const base = backupRefName(taskId) + suffix;
  // The empty old value makes update-ref create-only: two backups in the same millisecond get
  // distinct names instead of one overwriting the other.
  for (let attempt = 0; attempt < 5; attempt++) {
    const ref = attempt === 0 ? base : `${base}-${attempt}`;
    if (runGit(['update-ref', '--no-deref', ref, commit, ''], { cwd, okExitCodes: [128] }).exitCode === 0) return ref;
  }
  const ref = `${base}-${process.pid}`;
  runGit(['update-ref', '--no-deref', ref, commit, ''], { cwd });
  return ref;
}

export function listBackupRefs(cwd: string, taskId?: string): { ref: string; commit: string }[] {
  const prefix = taskId ? `${BACKUP_REF_PREFIX}/${validateTaskId(taskId)}/` : `${BACKUP_REF_PREFIX}/`;
  const output = runGit(['for-each-ref', '--format=%(objectname) %(refname)', prefix], { cwd }).stdout;
  return output
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const space = line.indexOf(' ');
      return { commit: line.slice(0, space), ref: line.slice(space + 1) };
    });
}
