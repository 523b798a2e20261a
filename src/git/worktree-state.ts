import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../errors.ts';
import { gitOutput, resolveCommit, runGit, runGitAsync } from '../repo/run-git.ts';

export interface GitWorktree {
  path: string;
  head: string | undefined;
  /** Full ref name (refs/heads/...) when a branch is checked out. */
  branch: string | undefined;
  bare: boolean;
  locked: boolean;
  prunable: boolean;
}

/** `git worktree list --porcelain -z`: one record per worktree, the main one first. */
export function listGitWorktrees(cwd: string): GitWorktree[] {
  const tokens = runGit(['worktree', 'list', '--porcelain', '-z'], { cwd }).stdout.split('\0');
  const worktrees: GitWorktree[] = [];
  let current: GitWorktree | undefined;
  for (const token of tokens) {
    if (token === '') {
      if (current) worktrees.push(current);
      current = undefined;
      continue;
    }
    const space = token.indexOf(' ');
    const key = space < 0 ? token : token.slice(0, space);
    const value = space < 0 ? '' : token.slice(space + 1);
    if (key === 'worktree') current = { path: value, head: undefined, branch: undefined, bare: false, locked: false, prunable: false };
    else if (!current) continue;
    else if (key === 'HEAD') current.head = value;
    else if (key === 'branch') current.branch = value;
    else if (key === 'bare') current.bare = true;
    else if (key === 'locked') current.locked = true;
    else if (key === 'prunable') current.prunable = true;
  }
  if (current) worktrees.push(current);
  return worktrees;
}

/**
 * Paths with uncommitted changes, untracked files included (ignored files are not work).
 * `trackedOnly` is for a fast-forward, where untracked files are git's own business to protect.
 */
export function uncommittedPaths(worktreePath: string, options: { trackedOnly?: boolean } = {}): string[] {
  return parseStatus(runGit(statusArgs(options), { cwd: worktreePath }).stdout);
}

/** uncommittedPaths without blocking the event loop: several worktrees are judged at once. */
export async function uncommittedPathsAsync(worktreePath: string): Promise<string[]> {
  return parseStatus((await runGitAsync(statusArgs({}), { cwd: worktreePath })).stdout);
}

function statusArgs(options: { trackedOnly?: boolean }): string[] {
  return ['status', '--porcelain=v1', '-z', options.trackedOnly ? '--untracked-files=no' : '--untracked-files=all'];
}

function parseStatus(output: string): string[] {
  const tokens = output.split('\0');
  const paths: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const entry = tokens[i]!;
    if (entry.length < 4) continue;
    paths.push(entry.slice(3));
    // A rename or copy is followed by its source path as a separate token.
    if (entry[0] === 'R' || entry[0] === 'C') i++;
  }
  return paths;
}

/** Commits reachable from `head` but not from `target`. */
export function commitsNotIn(cwd: string, target: string, head: string): number {
  return Number(gitOutput(['rev-list', '--count', head, '--not', target], { cwd }));
}

/**
 * Records everything in a worktree (staged, unstaged, untracked; not ignored) as a commit on top of
 * its HEAD, without touching its index or files, so a forced removal can keep it behind a ref.
 */
export function snapshotWorkingTree(worktreePath: string, message: string): string {
  const scratch = mkdtempSync(join(tmpdir(), 'pa-snapshot-'));
  const env = { GIT_INDEX_FILE: join(scratch, 'index') };
  try {
    const head = gitOutput(['rev-parse', '--verify', 'HEAD'], { cwd: worktreePath });
    // Start from the worktree's own index: in a sparse worktree it marks the files outside the
    // cone as skipped, where a fresh read-tree would make `add --all` record them as deleted.
    const index = gitOutput(['rev-parse', '--path-format=absolute', '--git-path', 'index'], { cwd: worktreePath });
    if (existsSync(index)) copyFileSync(index, env.GIT_INDEX_FILE);
    else runGit(['read-tree', head], { cwd: worktreePath, env });
    refuseNestedRepositories(untrackedRepositories(worktreePath, runGit(statusArgs({}), { cwd: worktreePath }).stdout));
    runGit(['add', '--all', '--sparse', '--', '.'], { cwd: worktreePath, env });
    refuseNestedRepositories(unbackedGitlinks(worktreePath, gitOutput(STAGED_GITLINK_ARGS, { cwd: worktreePath, env })));
    const tree = gitOutput(['write-tree'], { cwd: worktreePath, env });
    return gitOutput(['commit-tree', tree, '-p', head, '-m', message], { cwd: worktreePath, env: identityFallback(worktreePath) });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

// A git repository inside a worktree that is not a declared submodule is recorded by `git add` as
// a bare gitlink: a pointer to a commit that exists only in the nested .git. Committed or kept in a
// backup, that pointer keeps none of its files, so the runtime refuses to treat it as saved work.

/** Staged entries that differ from HEAD, with their modes: gitlinks are mode 160000. */
export const STAGED_GITLINK_ARGS = ['diff', '--cached', '--raw', '-z', '--no-renames', '--no-abbrev', 'HEAD'];

/** Untracked folders that are repositories of their own: status lists them as `?? dir/` and does not look inside. */
export function untrackedRepositories(worktreePath: string, statusOutput: string): string[] {
  return statusOutput.split('\0')
    .filter((entry) => entry.startsWith('?? ') && entry.endsWith('/') && existsSync(join(worktreePath, entry.slice(3), '.git')))
    .map((entry) => entry.slice(3, -1));
}

/** Staged gitlinks (from STAGED_GITLINK_ARGS output) that no .gitmodules entry declares and whose commit this repository lacks. */
export function unbackedGitlinks(worktreePath: string, rawDiff: string): string[] {
  const tokens = rawDiff.split('\0');
  const links: { path: string; commit: string }[] = [];
  for (let i = 0; i + 1 < tokens.length; i += 2) {
    const [, dstMode, , dstSha] = tokens[i]!.split(' ');
    if (dstMode === '160000' && dstSha) links.push({ path: tokens[i + 1]!, commit: dstSha });
  }
  if (links.length === 0) return [];
  const declared = existsSync(join(worktreePath, '.gitmodules'))
    ? runGit(['config', '--file', '.gitmodules', '--get-regexp', '^submodule\\..*\\.path$'], { cwd: worktreePath, okExitCodes: [1] }).stdout.split('\n').map((line) => line.slice(line.indexOf(' ') + 1))
    : [];
  return links
    .filter((link) => !declared.includes(link.path) && !resolveCommit(link.commit, worktreePath))
    .map((link) => link.path);
}

export function nestedRepositoryMessage(folders: readonly string[]): string {
  return `${folders.join(', ')} ${folders.length > 1 ? 'are git repositories of their own' : 'is a git repository of its own'} (not a submodule): git would keep only a pointer to a commit that lives in its .git, not its files; remove its .git folder (its files then become ordinary work) or make it a proper submodule (git submodule add)`;
}

function refuseNestedRepositories(folders: readonly string[]): void {
  if (folders.length > 0) throw new CliError('E_REFUSED', `cannot back up the worktree: ${nestedRepositoryMessage(folders)}; the worktree is kept`, { nested_repositories: folders });
}

/** commit-tree refuses to run without an identity; the runtime's own commits get a neutral one. */
export function identityFallback(cwd: string): NodeJS.ProcessEnv {
  // One git call for both keys: this runs for every commit the runtime makes.
  const configured = runGit(['config', '--get-regexp', '^user\\.(name|email)$'], { cwd, okExitCodes: [1] }).stdout;
  const hasName = /^user\.name /m.test(configured);
  const hasEmail = /^user\.email /m.test(configured);
  return {
    ...(hasName || process.env.GIT_AUTHOR_NAME ? {} : { GIT_AUTHOR_NAME: 'parallel-agents', GIT_COMMITTER_NAME: 'parallel-agents' }),
    ...(hasEmail || process.env.GIT_AUTHOR_EMAIL ? {} : { GIT_AUTHOR_EMAIL: 'parallel-agents@localhost', GIT_COMMITTER_EMAIL: 'parallel-agents@localhost' }),
  };
}
