import { closeSync, existsSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runGitAsync } from '../../repo/run-git.ts';

// Moving this clone's cache refs after a direct push, as git push moves remote-tracking refs. In
// a repository whose refs are files (git's default), a ref is updated the way git itself does
// it: create <ref>.lock exclusively, write the id, rename it over the ref; a lock held by
// someone else (a fetch of another process) means that writer has a view at least as recent, so
// the ref is left to it; a lock older than any live writer could hold it (one killed mid-write)
// is removed, or that ref's view would never move again. That spares a git process per
// transition (bench/RESULTS.md). Deletions, reftable repositories, logged updates (a ref with a
// reflog) and repositories shared by a group (core.sharedRepository) go through git update-ref.

export interface CacheRefUpdate {
  ref: string;
  /** null: delete. */
  to: string | null;
}

export async function moveCacheRefs(repoRoot: string, gitCommonDir: string, updates: readonly CacheRefUpdate[], options: { filesBackend: boolean; staleLockMs: number }): Promise<void> {
  const rest = options.filesBackend ? updates.filter((update) => update.to === null || !writeLooseRef(gitCommonDir, update.ref, update.to, options.staleLockMs)) : updates;
  if (rest.length === 0) return;
  const input = rest.map((update) => (update.to === null ? `delete ${update.ref}\n` : `update ${update.ref} ${update.to}\n`)).join('');
  // Like git push, a cache ref another process holds locked is left to the next fetch: the cache is a view.
  await runGitAsync(['update-ref', '--stdin'], { cwd: repoRoot, input, okExitCodes: [128] });
}

/** False when git should do it (a folder where the ref would go, say); true when written or left to a lock holder. */
function writeLooseRef(gitCommonDir: string, ref: string, to: string, staleLockMs: number): boolean {
  const path = join(gitCommonDir, ref);
  const lock = `${path}.lock`;
  // A ref with a reflog gets its entry appended by git whatever core.logAllRefUpdates says.
  if (existsSync(join(gitCommonDir, 'logs', ref))) return false;
  let fd: number;
  try {
    mkdirSync(dirname(path), { recursive: true });
    fd = openSync(lock, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return false;
    return clearStaleLock(lock, staleLockMs) ? writeLooseRef(gitCommonDir, ref, to, -1) : true;
  }
  try {
    writeSync(fd, `${to}\n`);
    closeSync(fd);
    renameSync(lock, path);
    return true;
  } catch {
    try { closeSync(fd); } catch { /* closed */ }
    try { unlinkSync(lock); } catch { /* gone */ }
    return false;
  }
}

/** Removes a ref lock file older than `maxAgeMs` (never when that is negative); true when it did. */
export function clearStaleLock(lock: string, maxAgeMs: number): boolean {
  if (maxAgeMs < 0) return false;
  try {
    if (Date.now() - statSync(lock).mtimeMs <= maxAgeMs) return false;
    unlinkSync(lock);
    return true;
  } catch {
    return false;
  }
}
