import { resolveCommitAsync, runGit, runGitAsync } from '../repo/run-git.ts';
import { validateTaskId } from '../store/task-schema.ts';
import { branchRefName, type RepoContext } from './repo-context.ts';

// A task branch the runtime kept when it let go of the worktree (a forced removal with unmerged
// commits, a branch that moved during cleanup, a record prune forgot) is marked by a ref at the
// kept head. Only a marked branch is resumed by the next `worktree add` for that task; any other
// branch of that name is the user's, and adopting it would merge their unfinished work and
// delete their branch after verify.

export const KEPT_REF_PREFIX = 'refs/parallel/kept';

export function keptRefName(taskId: string): string {
  return `${KEPT_REF_PREFIX}/${validateTaskId(taskId)}`;
}

/** Marks the branches that still exist as kept by the runtime; one git call to read, one to write. */
export function markKeptBranches(context: RepoContext, entries: readonly { task: string; branch: string }[]): void {
  if (entries.length === 0) return;
  const refs = entries.map((entry) => branchRefName(entry.branch));
  const heads = new Map<string, string>();
  for (const line of runGit(['for-each-ref', '--format=%(objectname) %(refname)', ...refs], { cwd: context.repoRoot }).stdout.split('\n').filter(Boolean)) {
    const space = line.indexOf(' ');
    heads.set(line.slice(space + 1), line.slice(0, space));
  }
  const updates = entries
    .filter((entry) => heads.has(branchRefName(entry.branch)))
    .map((entry) => `update ${keptRefName(entry.task)} ${heads.get(branchRefName(entry.branch))}\n`);
  if (updates.length > 0) runGit(['update-ref', '--stdin'], { cwd: context.repoRoot, input: updates.join('') });
}

/**
 * Whether the existing branch of a task is the one the runtime kept: its head is exactly the
 * marked commit. A descendant is not enough: the mark is often the run's base, and a user's own
 * branch made from the target later descends from it too.
 */
export async function isKeptBranch(context: RepoContext, taskId: string, branchHead: string): Promise<boolean> {
  return (await resolveCommitAsync(keptRefName(taskId), context.repoRoot)) === branchHead;
}

/** Drops the marks whose branch is gone (deleted outside the runtime); returns the tasks. */
export function dropOrphanMarks(context: RepoContext, branchOf: (taskId: string) => string): string[] {
  const marks = runGit(['for-each-ref', '--format=%(refname)', `${KEPT_REF_PREFIX}/`], { cwd: context.repoRoot }).stdout.split('\n').filter(Boolean);
  const dropped: string[] = [];
  for (const ref of marks) {
    const task = ref.slice(KEPT_REF_PREFIX.length + 1);
    let branch: string | undefined;
    try {
      branch = branchOf(task);
    } catch {
      branch = undefined; // not a task id: no branch of ours to vouch for
    }
    if (branch && runGit(['rev-parse', '--verify', '--quiet', branchRefName(branch)], { cwd: context.repoRoot, okExitCodes: [1, 128] }).exitCode === 0) continue;
    runGit(['update-ref', '-d', ref], { cwd: context.repoRoot, okExitCodes: [1, 128] });
    dropped.push(task);
  }
  return dropped;
}

/** The mark goes once the branch is in use again (resumed, or created afresh). */
export async function clearKeptMark(context: RepoContext, taskId: string): Promise<void> {
  await runGitAsync(['update-ref', '-d', keptRefName(taskId)], { cwd: context.repoRoot, okExitCodes: [1, 128] });
}
