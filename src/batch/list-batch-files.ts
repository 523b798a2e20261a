import { readFileSync, realpathSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { isGlob } from '../scope/glob.ts';
import { gitignorePatterns } from './gitignore-patterns.ts';
import { comparePaths } from './path-order.ts';

/** Never units: git's own data, installed packages, the task store and the runtime's worktrees. */
export const ALWAYS_IGNORED = ['**/.git/**', '**/node_modules/**', '_tasks/**', '.parallel/**'] as const;

type FastGlob = typeof import('fast-glob');

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Ignore patterns from every .gitignore in the tree (nested ones apply below their folder). */
async function gitignoreRules(fastGlob: FastGlob, root: string): Promise<string[]> {
  const files = await fastGlob('**/.gitignore', { cwd: root, ignore: [...ALWAYS_IGNORED], dot: true, followSymbolicLinks: false, suppressErrors: true });
  return files.sort(comparePaths).flatMap((file) => {
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

/**
 * Files under `root` matching `globs`, as sorted "/"-separated paths relative to `root`.
 * Nothing reached through a symbolic link is listed: a unit must not write through a link that
 * leads out of the repository or into another unit's files.
 */
export async function listBatchFiles(options: { root: string; globs: readonly string[]; ignore: readonly string[] }): Promise<string[]> {
  // Loaded here: fast-glob and its dependencies cost start-up time every other command would pay.
  const { default: fastGlob } = await import('fast-glob');
  const ignore = [...ALWAYS_IGNORED, ...(await gitignoreRules(fastGlob, options.root)), ...options.ignore];
  const files = await fastGlob(options.globs.map((pattern) => expandFolder(options.root, pattern)), {
    cwd: options.root,
    ignore,
    onlyFiles: true,
    followSymbolicLinks: false,
    unique: true,
    suppressErrors: true,
  });
  // fast-glob does not follow links while walking, but it does read the folder a pattern names
  // ("link/**"), so every result is checked against where it really is.
  const realRoot = realpathSync(options.root);
  const inside = files.filter((file) => {
    try {
      return realpathSync(join(options.root, file)) === join(realRoot, file);
    } catch {
      return false;
    }
  });
  return inside.sort(comparePaths);
}
