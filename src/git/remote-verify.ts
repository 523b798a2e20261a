import { CliError } from '../errors.ts';
import { gitTest, resolveCommit, runGit } from '../repo/run-git.ts';
import type { SharedRemote } from '../store/backend.ts';
import { randomHex } from '../text/fingerprint.ts';
import { branchRefName, type RepoContext } from './repo-context.ts';
import { fastForwardTarget } from './target-update.ts';
import type { StoreVerifyReport } from './verify-store.ts';

// verify on a store shared through a git remote: the same checks, merging into the target as the
// remote has it, and the result published there by a compare-and-swap. Only one verify runs at a
// time (the store's lock); the checks run against a scratch branch at the remote's target, so
// nothing local moves until the remote accepted the merge; the push carries a lease on the value
// verify started from, so a target someone pushed to meanwhile is left exactly as they left it.

export interface RemotePublication {
  name: string;
  /** The target on the remote before verify, and after (unchanged unless pushed). */
  before: string;
  after: string;
  pushed: boolean;
  /** Whether the local branch was brought along too, and why not. */
  local: string;
}

function requireBranchName(cwd: string, shared: SharedRemote, target: string): void {
  if (runGit(['check-ref-format', '--branch', target], { cwd, okExitCodes: [1, 128] }).exitCode !== 0 || target.startsWith('refs/')) {
    throw new CliError('E_USAGE', `--into "${target}" is not a branch name; name the branch of ${shared.remote} to merge into`);
  }
}

/**
 * The target as the remote has it, fetched: what a shared run starts from and verify merges into.
 * A local target with commits the remote lacks is refused, by run at its start and by verify: the
 * merge would otherwise publish them to the remote through whichever machine verifies.
 */
export async function fetchRemoteTarget(context: RepoContext, shared: SharedRemote, target: string, retry: string): Promise<{ remote: string; local: string | undefined }> {
  const cwd = context.repoRoot;
  requireBranchName(cwd, shared, target);
  const remote = await shared.fetchBranch(target);
  if (!remote) throw new CliError('E_USAGE', `${shared.remote} has no branch ${target}; push it first (git push ${shared.remote} ${target}) or name another with --into`);
  const local = resolveCommit(branchRefName(target), cwd);
  if (local && local !== remote && !gitTest(['merge-base', '--is-ancestor', local, remote], { cwd })) {
    throw new CliError(
      'E_REFUSED',
      `${target} here (${local.slice(0, 12)}) has commits that ${shared.remote}/${target} (${remote.slice(0, 12)}) does not, and the plan's work merges into ${shared.remote}'s ${target}: push them (git push ${shared.remote} ${target}) or reset ${target} to ${shared.remote}/${target}, then ${retry}`,
      { branch: target, local, remote },
    );
  }
  return { remote, local };
}

export async function verifyThroughRemote(context: RepoContext, shared: SharedRemote, options: { target: string; dryRun?: boolean | undefined; lockLeaseMs?: number | undefined }, verifyOn: (scratch: string) => Promise<StoreVerifyReport>): Promise<StoreVerifyReport> {
  const { target } = options;
  const cwd = context.repoRoot;
  requireBranchName(cwd, shared, target);
  // A dry run changes nothing on the remote, so it needs no lock: several machines' runs may end with one at once.
  const lock = options.dryRun ? { release: async () => {} } : await shared.lockVerify({ leaseMs: options.lockLeaseMs });
  try {
    const { remote: before, local } = await fetchRemoteTarget(context, shared, target, 'verify again');
    const scratch = `parallel-verify/${randomHex(12)}`;
    runGit(['update-ref', branchRefName(scratch), before, ''], { cwd });
    try {
      const report = await verifyOn(scratch);
      report.target.branch = target;
      const publication: RemotePublication = { name: shared.remote, before, after: before, pushed: false, local: 'unchanged' };
      report.remote = publication;
      if (report.status === 'nothing-to-merge' && !options.dryRun && local !== before) {
        // The remote already has every task's work: the local target comes along as after a merge,
        // so the merged worktrees can go here too (verify-store.ts).
        publication.local = await bringLocalAlong(context, target, local, before);
        report.target.updated_worktree = worktreeOf(publication.local);
      }
      if (report.status !== 'merged') return report;
      const next = report.target.after;
      if (!(await shared.publishBranch(target, before, next))) {
        report.status = 'stopped';
        report.stopped_because.push('target-refused');
        report.refusal = `${shared.remote}/${target} moved while verify ran (someone pushed to it): nothing was pushed, and ${target} is unchanged there and here; run verify again`;
        report.target.after = before;
        report.merged = [];
        report.cleanup = [];
        return report;
      }
      publication.after = next;
      publication.pushed = true;
      publication.local = await bringLocalAlong(context, target, local, next);
      report.target.updated_worktree = worktreeOf(publication.local);
      return report;
    } finally {
      runGit(['update-ref', '-d', branchRefName(scratch)], { cwd, okExitCodes: [1, 128] });
    }
  } finally {
    await lock.release();
  }
}

function worktreeOf(local: string): string | null {
  return local.startsWith('fast-forwarded in ') ? local.slice('fast-forwarded in '.length) : null;
}

/** The local target follows the remote when it can move forward; otherwise it says why not. */
async function bringLocalAlong(context: RepoContext, target: string, local: string | undefined, next: string): Promise<string> {
  try {
    if (!local) {
      runGit(['update-ref', branchRefName(target), next, ''], { cwd: context.repoRoot });
      return 'created';
    }
    const moved = await fastForwardTarget(context, target, local, next);
    return moved.worktree ? `fast-forwarded in ${moved.worktree}` : 'fast-forwarded';
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    return `left at ${local?.slice(0, 12)}: ${error.message} (git pull --ff-only brings it along)`;
  }
}
