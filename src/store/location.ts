import { isAbsolute, resolve } from 'node:path';
import { findRepo } from '../repo/locate.ts';

export const STORE_DIR_NAME = '_tasks';

export interface StoreLocation {
  /** Absolute path of the store folder. */
  dir: string;
  /** Root of the main worktree when inside git, else undefined. */
  repoRoot: string | undefined;
  /** The repository's common git dir (shared by all linked worktrees), when inside git. */
  gitCommonDir: string | undefined;
}

export function locateStore(options: { cwd: string; tasksDir?: string | undefined; env?: NodeJS.ProcessEnv }): StoreLocation {
  const repo = findRepo(options.cwd);
  const override = options.tasksDir ?? options.env?.PARALLEL_TASKS_DIR;
  if (override) {
    return {
      dir: isAbsolute(override) ? override : resolve(options.cwd, override),
      repoRoot: repo?.repoRoot,
      gitCommonDir: repo?.gitCommonDir,
    };
  }
  const root = repo?.repoRoot ?? options.cwd;
  return { dir: resolve(root, STORE_DIR_NAME), repoRoot: repo?.repoRoot, gitCommonDir: repo?.gitCommonDir };
}
