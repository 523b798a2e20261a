import { readdir, readFileSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { join, posix, sep } from 'node:path';
import { runGitAsync } from '../repo/run-git.ts';
import { isGlob } from '../scope/glob.ts';
import { gitignorePatterns } from './gitignore-patterns.ts';
import { parentFolder, sortPaths } from './path-order.ts';

/** Never units: git's own data, installed packages, the task store and the runtime's worktrees. */
export const ALWAYS_IGNORED = ['**/.git/**', '**/node_modules/**', '_tasks/**', '.parallel/**'] as const;

type FastGlob = typeof import('fast-glob');

export interface BatchFiles {
  /** What the globs picked, sorted in path order. */
  selected: string[];
  /**
   * Every file a folder's write scope would cover: in git, what `git ls-files` lists (tracked,
   * plus untracked files git does not ignore); outside git, every file and link not ignored.
   * A folder is only given as "dir/**" when all of these beneath it are selected.
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

/** fs.readdir for fast-glob that drops entries git does not list (and folders holding none). */
function gitListedReaddir(root: string, files: ReadonlySet<string>): typeof readdir {
  const folders = new Set<string>();
  for (const file of files) {
    for (let at = parentFolder(file); at !== '' && !folders.has(at); at = parentFolder(at)) folders.add(at);
  }
  const prefix = `${root}${sep}`;
  const listed = ((path: string, options: unknown, callback: (error: NodeJS.ErrnoException | null, entries: Dirent[]) => void) => {
    readdir(path, options as { withFileTypes: true }, (error, entries) => {
      if (error) return callback(error, entries);
      const folder = path === root ? '' : path.startsWith(prefix) ? path.slice(prefix.length).split(sep).join('/') : undefined;
      if (folder === undefined) return callback(null, entries);
      const base = folder === '' ? '' : `${folder}/`;
      callback(null, entries.filter((entry) => (entry.isDirectory() ? folders.has(`${base}${entry.name}`) : files.has(`${base}${entry.name}`))));
    });
  }) as typeof readdir;
  return listed;
}

async function gitTree(root: string): Promise<string[]> {
  const { stdout } = await runGitAsync(['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root });
  // An unmerged path is listed once per stage.
  return [...new Set(stdout.split('\0').filter((path) => path !== ''))];
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
    // git decides what exists: every ignore rule applied exactly (nested .gitignore files,
    // negations, info/exclude, core.excludesFile; a tracked file is never ignored). The walk only
    // enters folders and sees files git lists, so ignored build output is never even read.
    const tree = await gitTree(root);
    const known = new Set(tree);
    const ignore = [...ALWAYS_IGNORED, ...options.ignore];
    const found = await fastGlob(patterns, { ...walk, ignore, onlyFiles: true, unique: true, fs: { readdir: gitListedReaddir(root, known) } });
    // A literal pattern is looked up with stat, not through readdir.
    const selected = withoutLinkedPaths(fastGlob, root, patterns, ignore, found.filter((file) => known.has(file)));
    return { selected: sortPaths(selected), tree };
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
