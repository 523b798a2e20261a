import { matchesScope } from '../scope/glob.ts';
import { runGit } from '../repo/run-git.ts';

export interface BranchChanges {
  /** Every path the branch adds, modifies or deletes relative to where it left the target. */
  changed: string[];
  deleted: string[];
}

/**
 * What each branch changes, read off the merge results instead of one `git diff` per branch:
 * diff(target tree, merge(target, branch) tree) is exactly what the branch contributes since its
 * merge base, and one `git diff-tree --stdin` answers it for every branch at once. Renames count as
 * a delete plus an add (both paths must be in scope).
 */
export function changesBetweenTrees(cwd: string, pairs: readonly (readonly [string, string])[], env?: NodeJS.ProcessEnv): BranchChanges[] {
  if (pairs.length === 0) return [];
  const headers = pairs.map(([from, to]) => `${from} ${to}\n`);
  const output = runGit(['diff-tree', '--stdin', '-r', '-z', '--name-status', '--no-renames'], { cwd, input: headers.join(''), env }).stdout;
  // diff-tree echoes each input line (newline-terminated) before that pair's NUL-separated
  // "<status>\0<path>\0" entries. A status is an upper-case letter, a header starts with lower-case hex.
  const results: BranchChanges[] = [];
  let pos = 0;
  for (const header of headers) {
    if (!output.startsWith(header, pos)) throw new Error(`unexpected diff-tree output at offset ${pos}`);
    pos += header.length;
    const changes: BranchChanges = { changed: [], deleted: [] };
    while (pos < output.length && /[A-Z]/.test(output[pos]!)) {
      const statusEnd = output.indexOf('\0', pos);
      const pathEnd = output.indexOf('\0', statusEnd + 1);
      const status = output.slice(pos, statusEnd);
      const path = output.slice(statusEnd + 1, pathEnd);
      changes.changed.push(path);
      if (status === 'D') changes.deleted.push(path);
      pos = pathEnd + 1;
    }
    results.push(changes);
  }
  return results;
}

/**
 * Changed paths a task may not write: outside its declared scope (an empty scope declares nothing,
 * so checks nothing), and, whatever its scope, the runtime's control paths: the task store and
 * .parallel/ (a merged branch would write them into the live store and worktrees) and any `.git`
 * path. `controlDirs` are repository-relative folders (RepoContext's controlDirs).
 */
export function ownershipViolations(changed: readonly string[], scope: readonly string[], controlDirs: readonly string[]): string[] {
  return changed.filter((path) => isControlPath(path, controlDirs) || (scope.length > 0 && !matchesScope(path, scope)));
}

export function isControlPath(path: string, controlDirs: readonly string[]): boolean {
  if (path.split('/').some((segment) => segment.toLowerCase() === '.git')) return true;
  return controlDirs.some((dir) => path === dir || path.startsWith(`${dir}/`));
}
