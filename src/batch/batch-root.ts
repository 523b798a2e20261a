import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { findRepo } from '../repo/locate.ts';

/**
 * The folder unit paths are relative to: the top of the worktree the caller stands in (a linked
 * worktree has its own checkout, which is what its agents will edit), the repository's main
 * worktree when that cannot be told, and the current folder outside git.
 */
export function batchRoot(cwd: string): { root: string; inGit: boolean } {
  const repo = findRepo(cwd);
  if (!repo) return { root: resolve(cwd), inGit: false };
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.git'))) return { root: dir, inGit: true };
    if (dirname(dir) === dir) return { root: repo.repoRoot, inGit: true };
  }
}
