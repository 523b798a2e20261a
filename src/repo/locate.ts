// Where the repository is: its main worktree and the git dir every linked worktree shares.
import { readFileSync, statSync } from 'node:fs';
import { resolve, dirname, basename, join } from 'node:path';
import { runGit } from './run-git.ts';

/**
 * Reads the layout git leaves on disk (a `.git` folder, or a `.git` file pointing at
 * `<common>/worktrees/<name>` with a `commondir` file) instead of spawning git: every CLI call
 * resolves the store, and a git process costs more than the rest of `status` (bench/RESULTS.md, CLI latency).
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
  try {
    const result = runGit(['rev-parse', '--path-format=absolute', '--git-common-dir', '--show-toplevel'], { cwd, okExitCodes: [128] });
    if (result.exitCode !== 0) return undefined;
    output = result.stdout;
  } catch {
    return undefined; // no git, or cwd is gone: not a repository we can use
  }
  const [commonDir, toplevel] = output.trim().split('\n');
  if (!commonDir) return undefined;
  // A normal repo's common dir is <main worktree>/.git; a bare or unusual layout falls back to
  // the current worktree's top level.
  const repoRoot = basename(commonDir) === '.git' ? dirname(commonDir) : (toplevel ?? cwd);
  return { repoRoot, gitCommonDir: commonDir };
}
