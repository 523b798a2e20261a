import { copyFileSync, lstatSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isInside } from '../fs/path-inside.ts';
import { runGit } from '../repo/run-git.ts';
import { compileIgnoreRules } from '../scope/ignore-rules.ts';

// `.worktreeinclude` at the root of the main checkout lists, in .gitignore syntax, the ignored
// files a new worktree needs (`.env`, local config). Claude Code copies them into the worktrees it
// makes; ours get the same files by the same rules: a file is copied when it is ignored by git
// *and* matched by the list. Ignored folders (node_modules/, .venv/) are looked into only when a
// pattern points into them, so listing `.env` never walks a dependency tree.

export const WORKTREE_INCLUDE_FILE = '.worktreeinclude';

export interface IncludeResult {
  copied: string[];
  /** Files matched but not copied, with why (a symlink, a path escaping the worktree, an I/O error). */
  skipped: { path: string; reason: string }[];
}

function gitList(args: readonly string[], cwd: string): string[] {
  return runGit(['--literal-pathspecs', '-c', 'core.quotePath=false', 'ls-files', '-z', ...args], { cwd }).stdout.split('\0').filter((entry) => entry.length > 0);
}

/** Whether an ignored folder may hold files the patterns name: the host's rule, kept as is. */
function folderWanted(dir: string, patterns: readonly string[], ignores: (path: string) => boolean): boolean {
  for (const pattern of patterns) {
    const body = pattern.startsWith('/') ? pattern.slice(1) : pattern;
    if (body.startsWith(dir)) return true;
    const firstGlob = body.search(/[*?[]/);
    if (firstGlob > 0 && dir.startsWith(body.slice(0, firstGlob))) return true;
  }
  return ignores(dir.slice(0, -1));
}

/** A destination that a committed symlink would send outside the worktree. */
function escapesWorktree(destination: string, worktreeReal: string): boolean {
  let dir = dirname(destination);
  for (;;) {
    try {
      if (!isInside(realpathSync(dir), worktreeReal)) return true;
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return true;
      const parent = dirname(dir);
      if (parent === dir) return true;
      dir = parent;
    }
  }
  try {
    return lstatSync(destination).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Copies the ignored files `.worktreeinclude` names from the main checkout into a new worktree. */
export function copyWorktreeIncludes(mainRoot: string, worktree: string): IncludeResult {
  const result: IncludeResult = { copied: [], skipped: [] };
  let text: string;
  try {
    text = readFileSync(join(mainRoot, WORKTREE_INCLUDE_FILE), 'utf8');
  } catch {
    return result;
  }
  const patterns = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line.length > 0 && !line.startsWith('#'));
  if (patterns.length === 0) return result;
  const rules = compileIgnoreRules(patterns);
  const ignored = gitList(['--others', '--ignored', '--exclude-standard', '--directory'], mainRoot);
  // A Set: git may list a folder whose files are all ignored and those files too.
  const files = new Set(ignored.filter((entry) => !entry.endsWith('/') && rules.ignores(entry)));
  const folders = ignored.filter((entry) => entry.endsWith('/') && folderWanted(entry, patterns, (path) => rules.ignores(path)));
  if (folders.length > 0) {
    for (const file of gitList(['--others', '--ignored', '--exclude-standard', '--', ...folders], mainRoot)) if (rules.ignores(file)) files.add(file);
  }
  const worktreeReal = realpathSync(worktree);
  for (const file of files) {
    const source = join(mainRoot, file);
    const destination = join(worktree, file);
    try {
      if (lstatSync(source).isSymbolicLink()) {
        result.skipped.push({ path: file, reason: 'a symlink' });
        continue;
      }
      if (escapesWorktree(destination, worktreeReal)) {
        result.skipped.push({ path: file, reason: 'a committed symlink would send it outside the worktree' });
        continue;
      }
      mkdirSync(dirname(destination), { recursive: true });
      // copyFile keeps the source's permission bits: a 0600 .env stays private.
      copyFileSync(source, destination);
      result.copied.push(file);
    } catch (error) {
      result.skipped.push({ path: file, reason: (error as Error).message });
    }
  }
  return result;
}
