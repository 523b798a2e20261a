import { CliError } from '../errors.ts';
import { gitTest, resolveCommit, runGit } from '../repo/run-git.ts';
import { branchRefName, type RepoContext } from './repo-context.ts';

// What may be named as the branch work is merged into (verify --into, run --into) or judged
// against before anything is deleted (worktree remove --into): an existing local branch. A
// revision such as main~1, a tag or a commit id cannot be moved, and "merged into" one of them
// says nothing about whether a branch still keeps the work.

/** The target's commit; exit 2 when it is not an existing branch. */
export function requireBranch(context: RepoContext, target: string): string {
  const wellFormed = runGit(['check-ref-format', '--branch', target], { cwd: context.repoRoot, okExitCodes: [1, 128] }).exitCode === 0;
  if (!wellFormed || target.startsWith('refs/') || !gitTest(['show-ref', '--verify', '--quiet', branchRefName(target)], { cwd: context.repoRoot })) {
    throw new CliError('E_USAGE', `--into "${target}" is not a branch of ${context.repoRoot}; name an existing branch (git branch --list) to merge into`);
  }
  return resolveCommit(branchRefName(target), context.repoRoot)!;
}
