import { CliError } from '../errors.ts';
import { gitOutput, gitTest, runGit } from '../repo/run-git.ts';
import { identityFallback } from './worktree-state.ts';

/**
 * One commit holding the run's base and every dependency commit: the base itself when there are
 * none, the one commit when the others are its ancestors, else an in-memory merge (merge-tree,
 * no worktree touched). Dependencies that conflict with each other cannot be stacked: that is an
 * error for the plan, never something to resolve automatically.
 */
export function stackedBase(cwd: string, runBase: string, dependencyCommits: readonly string[]): string {
  const heads: string[] = [];
  for (const commit of [runBase, ...dependencyCommits]) {
    if (heads.includes(commit)) continue;
    if (heads.some((head) => gitTest(['merge-base', '--is-ancestor', commit, head], { cwd }))) continue;
    for (let index = heads.length - 1; index >= 0; index--) {
      if (gitTest(['merge-base', '--is-ancestor', heads[index]!, commit], { cwd })) heads.splice(index, 1);
    }
    heads.push(commit);
  }
  let merged = heads[0]!;
  for (const next of heads.slice(1)) {
    const result = runGit(['merge-tree', '--write-tree', '--name-only', '--no-messages', merged, next], { cwd, okExitCodes: [1] });
    const [tree, ...conflicts] = result.stdout.trim().split('\n');
    if (result.exitCode === 1) {
      throw new CliError('E_REFUSED', `the dependencies' commits ${merged.slice(0, 10)} and ${next.slice(0, 10)} conflict in ${conflicts.filter(Boolean).join(', ')}; the task cannot start from both`);
    }
    merged = gitOutput(['commit-tree', tree!, '-p', merged, '-p', next, '-m', 'parallel-agents: base for a task with several dependencies'], { cwd, env: identityFallback(cwd) });
  }
  return merged;
}

/**
 * Where a task's branch starts: nothing merges before verify, so a task that depends on others
 * starts from their completed commits stacked on the run's base, not from a target that does
 * not have their work yet. Dependencies not completed (or without a commit) add nothing.
 */
export function taskStart(cwd: string, runBase: string, dependencies: readonly { id: string; state: string; commit?: string | undefined }[]): { base: string; stackedOn: string[] } {
  const done = dependencies.filter((dep) => dep.state === 'completed' && dep.commit !== undefined);
  if (done.length === 0) return { base: runBase, stackedOn: [] };
  return { base: stackedBase(cwd, runBase, done.map((dep) => dep.commit!)), stackedOn: done.map((dep) => dep.id) };
}
