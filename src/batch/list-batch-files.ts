import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitignorePatterns } from './gitignore-patterns.ts';
import { comparePaths } from './path-order.ts';

/** Never units: git's own data, installed packages, the task store and the runtime's worktrees. */
export const ALWAYS_IGNORED = ['**/.git/**', '**/node_modules/**', '_tasks/**', '.parallel/**'] as const;

function readGitignore(root: string): string {
  try {
    return readFileSync(join(root, '.gitignore'), 'utf8');
  } catch {
    return '';
  }
}

/**
 * Files under `root` matching `globs`, as sorted "/"-separated paths relative to `root`.
 * Symbolic links are neither followed nor listed: a unit must not write through a link that
 * leads out of the repository.
 */
export async function listBatchFiles(options: { root: string; globs: readonly string[]; ignore: readonly string[] }): Promise<string[]> {
  // Loaded here: fast-glob and its dependencies cost start-up time every other command would pay.
  const { default: fastGlob } = await import('fast-glob');
  const files = await fastGlob([...options.globs], {
    cwd: options.root,
    ignore: [...ALWAYS_IGNORED, ...gitignorePatterns(readGitignore(options.root)), ...options.ignore],
    onlyFiles: true,
    followSymbolicLinks: false,
    unique: true,
    suppressErrors: true,
  });
  return files.sort(comparePaths);
}
