import { openSync, readSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../errors.ts';
import { runGit, runGitAsync } from '../repo/run-git.ts';
import { isGlob, normalizeScopeEntry, scopeEntryProblem } from '../scope/scope-entry.ts';
import type { RepoContext } from './repo-context.ts';

// Which files a task's worktree checks out. Above SPARSE_ABOVE_FILES tracked files a full
// checkout costs seconds and hundreds of megabytes per task (bench/RESULTS.md), so a task with a
// scope gets a cone-mode sparse checkout of the folders its `files` and `reads` name: cone mode
// matches folders by hash where non-cone patterns are tested file by file, and its sparse index
// keeps the index to the checked-out part (measured: read-tree 30 ms instead of 130 ms, an index
// of 44 KB instead of 6.8 MB on 50,000 files). The rest of the repository stays readable in the
// main checkout.

/** Repositories with more tracked files than this get scoped worktrees by default. */
export const SPARSE_ABOVE_FILES = 5000;

export type CheckoutMode = 'auto' | 'full' | 'scoped';
export const CHECKOUT_MODES: readonly CheckoutMode[] = ['auto', 'full', 'scoped'];

export function parseCheckoutMode(text: string | undefined): CheckoutMode {
  if (text === undefined) return 'auto';
  if ((CHECKOUT_MODES as readonly string[]).includes(text)) return text as CheckoutMode;
  throw new CliError('E_USAGE', `--checkout must be one of ${CHECKOUT_MODES.join(', ')} (got "${text}"): "scoped" checks out only the task's folders, "full" everything, "auto" scoped above ${SPARSE_ABOVE_FILES} tracked files`);
}

/**
 * Cone folders covering every scope entry, or undefined when one of them can match anywhere
 * (`**`, `*\/x`): only a full checkout covers that. A literal entry is passed as it is: for a
 * folder git checks out all of it, for a file its folder's own files (cone mode includes the
 * files directly inside every parent of a cone folder, the root's among them). A glob contributes
 * its literal prefix; a glob in the first segment alone (`*.md`) only needs the root's files.
 */
export function coneFolders(entries: readonly string[]): string[] | undefined {
  const folders = new Set<string>();
  for (const raw of entries) {
    const segments = normalizeScopeEntry(raw).split('/');
    const firstGlob = segments.findIndex((segment) => isGlob(segment));
    if (firstGlob === -1) {
      folders.add(segments.join('/'));
      continue;
    }
    if (firstGlob === 0) {
      if (segments.length === 1 && segments[0] !== '**') continue;
      return undefined;
    }
    for (const alternative of alternatives(segments[firstGlob]!)) {
      const prefix = segments.slice(0, firstGlob);
      // `a/{b,c}/**` needs only a/b and a/c; any other glob segment needs its whole parent.
      folders.add((alternative !== undefined ? [...prefix, alternative] : prefix).join('/'));
    }
  }
  // A folder inside another adds nothing.
  const sorted = [...folders].sort();
  return sorted.filter((folder) => !sorted.some((other) => other !== folder && folder.startsWith(`${other}/`)));
}

/** The literal names of a `{a,b}` segment, or [undefined] when it is any other glob. */
function alternatives(segment: string): (string | undefined)[] {
  const match = /^\{([^{}*?[\]]+)\}$/.exec(segment);
  if (!match) return [undefined];
  const names = match[1]!.split(',');
  return names.every((name) => name.length > 0 && name !== '.' && name !== '..') ? names : [undefined];
}

/**
 * Tracked files in the main checkout, from the index header (signature "DIRC", version, entry
 * count: a documented, stable format) so the answer costs one small read; `git ls-files` when the
 * header cannot be read.
 */
export function trackedFileCount(context: RepoContext): number {
  try {
    const fd = openSync(join(context.gitCommonDir, 'index'), 'r');
    try {
      const header = Buffer.alloc(12);
      if (readSync(fd, header, 0, 12, 0) === 12 && header.toString('latin1', 0, 4) === 'DIRC') return header.readUInt32BE(8);
    } finally {
      closeSync(fd);
    }
  } catch {
    // No index yet (a fresh clone with --no-checkout) or unreadable: ask git.
  }
  const listed = runGit(['ls-files', '-z'], { cwd: context.repoRoot }).stdout;
  let count = 0;
  for (let index = listed.indexOf('\0'); index !== -1; index = listed.indexOf('\0', index + 1)) count++;
  return count;
}

export interface CheckoutChoice {
  /** Cone folders of a scoped checkout (possibly none: the root's files only); undefined = full checkout. */
  sparse: string[] | undefined;
  /** Why, in a few words, for the command's output. */
  reason: string;
}

export interface CheckoutRequest {
  mode: CheckoutMode;
  /** The task's write and read scopes. */
  files: readonly string[];
  reads: readonly string[];
  /** Extra folders asked for by name (worktree add --sparse): always scoped. */
  folders?: readonly string[] | undefined;
  /** Tracked files in the repository; counted when needed and not given. */
  trackedFiles?: number | undefined;
}

/** A scope entry (the one validation) that is also a plain folder: a folder named for a sparse checkout. */
export function validateSparseFolder(dir: string): string {
  const problem = scopeEntryProblem(dir) ?? (isGlob(dir) ? 'is a glob: a sparse checkout takes folders; name the folder itself' : undefined);
  if (problem) throw new CliError('E_INVALID', `--sparse ${JSON.stringify(dir)} ${problem}`);
  return normalizeScopeEntry(dir);
}

/** The one rule for what a task's worktree checks out, used by `worktree add` and `run`. */
export function chooseCheckout(context: RepoContext, request: CheckoutRequest): CheckoutChoice {
  const extra = (request.folders ?? []).map((dir) => validateSparseFolder(dir));
  if (request.mode === 'full') return { sparse: undefined, reason: 'full checkout requested' };
  const scope = [...request.files, ...request.reads];
  const fromScope = scope.length > 0 ? coneFolders(scope) : undefined;
  // Folders named by hand are always checked out, with the task's own when its scope has folders.
  if (extra.length > 0) return { sparse: coneFolders([...extra, ...(fromScope ?? [])]), reason: 'scoped to the folders asked for' };
  if (request.mode === 'scoped') {
    if (scope.length === 0) throw new CliError('E_USAGE', `the task declares no files or reads to scope its checkout to; name folders with --sparse DIR,... or use --checkout full`);
    if (!fromScope) return { sparse: undefined, reason: `full checkout: the scope (${scope.join(', ')}) can match anywhere in the repository` };
    return { sparse: fromScope, reason: "scoped to the task's files and reads" };
  }
  if (!fromScope) return { sparse: undefined, reason: scope.length === 0 ? 'full checkout: the task declares no scope' : 'full checkout: the scope can match anywhere' };
  const tracked = request.trackedFiles ?? trackedFileCount(context);
  if (tracked <= SPARSE_ABOVE_FILES) return { sparse: undefined, reason: `full checkout: ${tracked} tracked files (scoped above ${SPARSE_ABOVE_FILES})` };
  return { sparse: fromScope, reason: `scoped to the task's files and reads (${tracked} tracked files)` };
}

/**
 * Turns on per-worktree config in the shared config, once: after that, a worktree's sparse
 * settings live in its own config.worktree and several can be set at the same time. Call it under
 * the repository lock.
 */
export async function ensureWorktreeConfig(context: RepoContext): Promise<void> {
  // Asked once per process, not per task: should someone turn it off meanwhile, sparse-checkout
  // turns it back on by itself (only a race between two such worktrees could then fail loudly).
  if (worktreeConfigOn.has(context.gitCommonDir)) return;
  const enabled = await runGitAsync(['config', '--bool', 'extensions.worktreeConfig'], { cwd: context.repoRoot, okExitCodes: [1] });
  if (enabled.stdout.trim() !== 'true') await runGitAsync(['config', 'extensions.worktreeConfig', 'true'], { cwd: context.repoRoot });
  worktreeConfigOn.add(context.gitCommonDir);
}

const worktreeConfigOn = new Set<string>();

/** Writes the cone into a fresh --no-checkout worktree; only that worktree's files, once ensureWorktreeConfig ran. */
export async function setSparseCone(worktreePath: string, folders: readonly string[]): Promise<void> {
  // --skip-checks: a file named as a cone folder stands for its own folder's files (see coneFolders).
  await runGitAsync(['sparse-checkout', 'set', '--cone', '--sparse-index', '--skip-checks', '--', ...folders], { cwd: worktreePath });
}

/** One line for the agent (prompt, worktree add output): where the files a scoped worktree lacks are. */
export function sparseNote(folders: readonly string[], mainCheckout: string): string {
  const scope = folders.length > 0 ? folders.join(', ') : "only the repository's top-level files";
  return `This worktree is a sparse checkout (${scope}, plus the files at the top of each parent folder). Read the rest of the repository in the main checkout at ${mainCheckout}, or at this branch's version with "git show HEAD:<path>".`;
}
