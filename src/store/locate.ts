import { createRequire } from 'node:module';
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve, dirname, basename, join } from 'node:path';

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
 * Reads the layout git leaves on disk (a `.git` folder, or a `.git` file pointing at
 * `<common>/worktrees/<name>` with a `commondir` file) instead of spawning git: every CLI call
 * resolves the store, and a git process costs more than the rest of `status` (MEASUREMENTS §1).
 * Returns undefined for anything unusual, and the caller asks git itself.
 */
function findRepoOnDisk(cwd: string): { repoRoot: string; gitCommonDir: string } | 'not-found' | undefined {
  let dir = resolve(cwd);
  for (;;) {
    const dotGit = join(dir, '.git');
    let stat;
    try {
      stat = statSync(dotGit);
    } catch {
      stat = undefined;
    }
    if (stat?.isDirectory()) return { repoRoot: dir, gitCommonDir: dotGit };
    if (stat?.isFile()) {
      const match = /^gitdir: (.+)$/m.exec(readFileSync(dotGit, 'utf8'));
      if (!match) return undefined;
      const gitDir = resolve(dir, match[1]!.trim());
      let commonDir: string;
      try {
        commonDir = resolve(gitDir, readFileSync(join(gitDir, 'commondir'), 'utf8').trim());
      } catch {
        return undefined; // a submodule or another layout: let git decide
      }
      if (basename(commonDir) !== '.git') return undefined;
      return { repoRoot: dirname(commonDir), gitCommonDir: commonDir };
    }
    const parent = dirname(dir);
    if (parent === dir) return 'not-found';
    dir = parent;
  }
}

/**
 * Finds the main worktree through git's common dir, so an agent in any linked worktree sees the
 * same store as the orchestrator.
 */
export function findRepo(cwd: string): { repoRoot: string; gitCommonDir: string } | undefined {
  if (!process.env.GIT_DIR && !process.env.GIT_WORK_TREE) {
    const onDisk = findRepoOnDisk(cwd);
    if (onDisk === 'not-found') return undefined;
    if (onDisk) return onDisk;
  }
  let output: string;
  // Loaded only on this rare path: node:child_process costs a few ms at start-up.
  const { execFileSync } = (typeof require === 'function' ? require('node:child_process') : createRequire(import.meta.url)('node:child_process')) as typeof import('node:child_process');
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
