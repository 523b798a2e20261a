import { isAbsolute, join, resolve } from 'node:path';
import { pathBelow } from '../fs/path-inside.ts';
import { CliError } from '../errors.ts';
import { RUNTIME_FOLDER, hideLocalState, isLocalStateHidden } from '../repo/git-exclude.ts';
import { locateStore } from '../store/location.ts';
import { runGit } from '../repo/run-git.ts';

/** Where a git command of the runtime acts: the main worktree, its shared git dir, the task store. */
export interface RepoContext {
  repoRoot: string;
  gitCommonDir: string;
  storeDir: string;
  worktreesDir: string;
}

export const DEFAULT_WORKTREES_DIR = join(RUNTIME_FOLDER, 'worktrees');

export function openRepoContext(options: {
  cwd: string;
  tasksDir?: string | undefined;
  worktreesDir?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}): RepoContext {
  const env = options.env ?? process.env;
  const location = locateStore({ cwd: options.cwd, tasksDir: options.tasksDir, env });
  if (!location.repoRoot || !location.gitCommonDir) {
    throw new CliError('E_GIT', `${options.cwd} is not inside a git repository; run the command from the project (or "git init" it first)`);
  }
  // Inside the project by default, so agents confined to the project directory can work there.
  const configured = options.worktreesDir ?? env.PARALLEL_WORKTREES_DIR ?? DEFAULT_WORKTREES_DIR;
  const worktreesDir = isAbsolute(configured) ? configured : resolve(location.repoRoot, configured);
  return { repoRoot: location.repoRoot, gitCommonDir: location.gitCommonDir, storeDir: location.dir, worktreesDir };
}

/** Repository-relative folders no task branch may write: the task store and the runtime's own .parallel/ (see ownership.ts). */
export function controlDirs(context: RepoContext): string[] {
  const dirs = new Set([RUNTIME_FOLDER]);
  for (const dir of [context.storeDir, context.worktreesDir]) {
    const below = pathBelow(context.repoRoot, dir);
    if (below) dirs.add(below);
  }
  return [...dirs];
}

/** Hides .parallel/, the worktrees folder and the store (the worktree records) from git. Call under the repo lock: info/exclude is shared by every worktree. */
export function ensureWorktreesExcluded(context: RepoContext): void {
  hideLocalState(context.gitCommonDir, context.repoRoot, [context.worktreesDir, context.storeDir]);
}

export function isWorktreesExcluded(context: RepoContext): boolean {
  return isLocalStateHidden(context.gitCommonDir, context.repoRoot, [context.worktreesDir, context.storeDir]);
}

/** The branch checked out in the main worktree: the natural merge target. */
export function currentBranch(repoRoot: string): string | undefined {
  const result = runGit(['symbolic-ref', '--quiet', '--short', 'HEAD'], { cwd: repoRoot, okExitCodes: [1, 128] });
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

export function branchRefName(branch: string): string {
  return branch.startsWith('refs/') ? branch : `refs/heads/${branch}`;
}
