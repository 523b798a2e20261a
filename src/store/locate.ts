import { execFileSync } from 'node:child_process';
import { isAbsolute, resolve, dirname, basename } from 'node:path';

export const STORE_DIR_NAME = '_tasks';

export interface StoreLocation {
  /** Absolute path of the store folder. */
  dir: string;
  /** Root of the main worktree when inside git, else undefined. */
  repoRoot: string | undefined;
  /** The repository's common git dir (shared by all linked worktrees), when inside git. */
  gitCommonDir: string | undefined;
}

/**
 * Finds the main worktree through git's common dir, so an agent in any linked worktree sees the
 * same store as the orchestrator. Costs one `git rev-parse` (~2 ms).
 */
export function findRepo(cwd: string): { repoRoot: string; gitCommonDir: string } | undefined {
  let output: string;
  try {
    output = execFileSync('git', ['rev-parse', '--path-format=absolute', '--git-common-dir', '--show-toplevel'], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return undefined;
  }
  const [commonDir, toplevel] = output.trim().split('\n');
  if (!commonDir) return undefined;
  // A normal repo's common dir is <main worktree>/.git; a bare or unusual layout falls back to
  // the current worktree's top level.
  const repoRoot = basename(commonDir) === '.git' ? dirname(commonDir) : (toplevel ?? cwd);
  return { repoRoot, gitCommonDir: commonDir };
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
