import { matchesScope } from '../scope/glob.ts';
import { runGit } from './run-git.ts';

export interface BranchChanges {
  /** Every path the branch adds, modifies or deletes relative to where it left the target. */
  changed: string[];
  deleted: string[];
}

/**
 * Paths a branch changed since its merge base with the target (`target...head`), so changes the
 * agent merged in from the target are not counted as its own. Renames count as a delete plus an
 * add: both paths must be inside the scope.
 */
export function branchChanges(cwd: string, targetCommit: string, head: string): BranchChanges {
  const tokens = runGit(['diff', '--name-status', '-z', '--no-renames', '--no-ext-diff', `${targetCommit}...${head}`], { cwd }).stdout.split('\0');
  const changed: string[] = [];
  const deleted: string[] = [];
  for (let i = 0; i + 1 < tokens.length; i += 2) {
    const status = tokens[i]!;
    const path = tokens[i + 1]!;
    if (status === '') break;
    changed.push(path);
    if (status === 'D') deleted.push(path);
  }
  return { changed, deleted };
}

/** Changed paths outside the declared write scope. An empty scope declares nothing, so checks nothing. */
export function scopeViolations(changed: readonly string[], scope: readonly string[]): string[] {
  if (scope.length === 0) return [];
  return changed.filter((path) => !matchesScope(path, scope));
}
