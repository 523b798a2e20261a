import { lstatSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { isGlob } from '../scope/glob.ts';
import { gitignorePatterns } from './gitignore-patterns.ts';
import { readGitTree } from './git-tree.ts';
import { sortPaths } from './path-order.ts';

/** Never units: git's own data, installed packages, the task store and the runtime's worktrees. */
export const ALWAYS_IGNORED = ['**/.git/**', '**/node_modules/**', '_tasks/**', '.parallel/**'] as const;

type FastGlob = typeof import('fast-glob');

export interface BatchFiles {
  /** What the globs picked, sorted in path order. */
  selected: string[];
  /**
   * Every file a folder's write scope would cover: in git, every path git lists (see
   * readGitTree); outside git, every file and link not ignored. A folder is only given as
   * "dir/**" when all of these beneath it are selected.
   */
  tree: string[];
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Ignore patterns from .gitignore files (nested ones apply below their folder). */
function gitignoreRules(root: string, files: readonly string[]): string[] {
  return sortPaths(files).flatMap((file) => {
    const folder = posix.dirname(file);
    return gitignorePatterns(readText(join(root, file)), folder === '.' ? '' : folder);
  });
}

/** "src" or "src/" naming a folder means everything in it: fast-glob alone would match nothing. */
function expandFolder(root: string, pattern: string): string {
  if (isGlob(pattern)) return pattern;
  const path = pattern.replace(/\/+$/, '');
  try {
    return statSync(join(root, path)).isDirectory() ? `${path}/**` : pattern;
  } catch {
    return pattern;
  }
}

function isRegularFile(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}

function realPathIs(root: string, realRoot: string, path: string): boolean {
  try {
    return realpathSync.native(join(root, path)) === (path === '.' ? realRoot : join(realRoot, path));
  } catch {
    return false;
  }
}

/**
 * Drops whatever was reached through a symbolic link: a unit must not write through a link that
 * leads out of the repository or into another unit's files. fast-glob does not follow links
 * while walking, but it does read the folder a pattern starts from ("link/**") and stats a
 * literal path ("link/file.ts"), so those starting points are checked, not every file.
 */
function withoutLinkedPaths(fastGlob: FastGlob, root: string, patterns: string[], ignore: string[], files: string[]): string[] {
  const realRoot = realpathSync.native(root);
  const linkedBases: string[] = [];
  const literals = new Set<string>();
  for (const task of fastGlob.generateTasks(patterns, { ignore })) {
    if (!task.dynamic) for (const pattern of task.positive) literals.add(pattern);
    else if (!realPathIs(root, realRoot, task.base)) linkedBases.push(`${task.base}/`);
  }
  return files.filter((file) =>
    !linkedBases.some((base) => file.startsWith(base)) && (!literals.has(file) || realPathIs(root, realRoot, file)));
}

/**
 * Files under `root` matching `globs`, as sorted "/"-separated paths relative to `root`, and the
 * tree they were picked from. Dotfiles are files like any other: `**\/*` selects `.eslintrc`
 * and `.github/...`, as a "dir/**" scope would cover them.
 */
export async function listBatchFiles(options: { root: string; inGit: boolean; globs: readonly string[]; ignore: readonly string[] }): Promise<BatchFiles> {
  const { root } = options;
  // Loaded here: fast-glob and its dependencies cost start-up time every other command would pay.
  const { default: fastGlob } = await import('fast-glob');
  const walk = { cwd: root, dot: true, followSymbolicLinks: false, suppressErrors: true };
  const patterns = options.globs.map((pattern) => expandFolder(root, pattern));
  if (options.inGit) {
    const tree = await readGitTree(root);
    const ignore = [...ALWAYS_IGNORED, ...options.ignore];
    const found = await fastGlob(patterns, { ...walk, ignore, onlyFiles: true, unique: true, fs: { readdir: tree.readdir } });
    // A literal pattern is looked up on disk, not in the listing; and git does not say whether
    // an untracked path is a link.
    const selected = found.filter((file) => tree.selectable.has(file) && (!tree.untracked.has(file) || isRegularFile(join(root, file))));
    return { selected: sortPaths(selected), tree: tree.paths };
  }
  const ignoreFiles = await fastGlob('**/.gitignore', { ...walk, ignore: [...ALWAYS_IGNORED] });
  const rules = [...ALWAYS_IGNORED, ...gitignoreRules(root, ignoreFiles)];
  const ignore = [...rules, ...options.ignore];
  const [found, entries] = await Promise.all([
    fastGlob(patterns, { ...walk, ignore, onlyFiles: true, unique: true }),
    // Links are part of the tree: "dir/**" over a folder holding one would let an agent write through it.
    fastGlob('**', { ...walk, ignore: rules, onlyFiles: false, markDirectories: true }),
  ]);
  const selected = withoutLinkedPaths(fastGlob, root, patterns, ignore, found);
  return { selected: sortPaths(selected), tree: entries.filter((entry) => !entry.endsWith('/')) };
}
