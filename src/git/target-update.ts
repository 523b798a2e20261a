import { CliError } from '../errors.ts';
import { withRepoLock } from './repo-lock.ts';
import { branchRefName, type RepoContext } from './repo-context.ts';
import { GitError, gitOutput, runGit } from '../repo/run-git.ts';
import { listGitWorktrees, uncommittedPaths } from './worktree-state.ts';

/**
 * Moves the target branch from `expected` to `next`, which must descend from it. A target checked
 * out somewhere is updated with `merge --ff-only` there (its files follow), and refused when that
 * worktree has uncommitted tracked changes or an untracked file in the way; otherwise the ref moves by compare-and-swap, so a target
 * that moved since verify read it is never overwritten.
 */
export async function fastForwardTarget(context: RepoContext, target: string, expected: string, next: string): Promise<{ worktree: string | undefined }> {
  return withRepoLock(context, () => {
    const ref = branchRefName(target);
    const checkedOut = listGitWorktrees(context.repoRoot).find((worktree) => worktree.branch === ref);
    if (!checkedOut) {
      runGit(['update-ref', '-m', 'parallel-agents verify: fast-forward', ref, next, expected], { cwd: context.repoRoot });
      return { worktree: undefined };
    }
    const dirty = uncommittedPaths(checkedOut.path, { trackedOnly: true });
    if (dirty.length > 0) {
      throw new CliError('E_REFUSED', `${target} is checked out at ${checkedOut.path} with uncommitted changes (e.g. ${dirty[0]}); commit or stash them, then run verify again`, { dirty });
    }
    const head = gitOutput(['rev-parse', 'HEAD'], { cwd: checkedOut.path });
    if (head !== expected) {
      throw new CliError('E_REFUSED', `${target} moved from ${expected.slice(0, 12)} to ${head.slice(0, 12)} while verify ran; run verify again`);
    }
    const args = ['merge', '--ff-only', '--quiet', next];
    const merged = runGit(args, { cwd: checkedOut.path, okExitCodes: [1, 128] });
    if (merged.exitCode !== 0) {
      // Untracked files are git's to protect: it refuses and leaves everything as it was.
      const inTheWay = /untracked working tree files would be (?:overwritten|removed)[^\n]*\n\s*(\S[^\n]*)/.exec(merged.stderr);
      if (!inTheWay) throw new GitError(args, merged.exitCode, merged.stderr, checkedOut.path);
      const file = inTheWay[1]!.trim();
      throw new CliError('E_REFUSED', `${target} is checked out at ${checkedOut.path} with an untracked file the merge would overwrite (${file}); move or remove it, then run verify again`, { untracked: file });
    }
    return { worktree: checkedOut.path };
  });
}
