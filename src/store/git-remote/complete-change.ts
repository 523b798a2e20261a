import { CliError } from '../../errors.ts';
import { resolveCommit } from '../../repo/run-git.ts';
import type { CompleteRequest } from '../backend.ts';
import type { GitRemoteStore } from './git-remote-store.ts';
import type { HolderChange } from './holder-steps.ts';
import { afterComplete } from '../transitions.ts';

// A completion carries its evidence. The done commit has the work's commit as a second parent, so
// fetching the task's ref brings the work to every machine and keeps it reachable for as long as
// the record exists; the task's branch goes to the remote in the same atomic push, when that is a
// creation or a fast-forward there (a branch is never rewritten: if the remote's differs, the work
// still travels with the record and the report says so).

const BRANCH = /^(?!.*\.\.)(?!.*\/\/)(?!.*\.lock$)[A-Za-z0-9][A-Za-z0-9._/-]{0,200}(?<![/.])$/;

export function completeChange(store: GitRemoteStore, request: CompleteRequest): HolderChange {
  let commit: string | undefined;
  if (request.commit !== undefined) {
    commit = resolveCommit(request.commit, store.repoRoot);
    if (!commit) throw new CliError('E_EVIDENCE', `--commit "${request.commit}" names no commit in ${store.repoRoot}; the git-remote store publishes the work with the record, so commit it here first`);
  }
  const branch = request.evidence?.branch;
  if (branch !== undefined && !BRANCH.test(branch)) throw new CliError('E_INVALID', `evidence branch "${branch}" is not a branch name git accepts`);
  return ({ parsed, refused, claim }) => {
    const branchRef = branch !== undefined ? `refs/heads/${branch}` : undefined;
    const branchRefused = branchRef !== undefined && refused.has(branchRef) && !refused.get(branchRef)!.includes('atomic push failed');
    const { frontmatter } = afterComplete(parsed.frontmatter, { ...request, commit, proof: claim.proof }, new Date(store.clock.now()));
    if (commit && request.evidence) {
      frontmatter.base = request.evidence.base;
      frontmatter.branch = branchRefused ? undefined : request.evidence.branch;
    }
    return {
      state: 'completed',
      subject: `complete ${request.task} by ${request.agent}${commit ? ` at ${commit.slice(0, 12)}` : ''}${request.summary ? `: ${request.summary}` : ''}`,
      frontmatter,
      extraParents: commit ? [commit] : [],
      extraUpdates: commit && branchRef && !branchRefused ? [{ ref: branchRef, to: commit, was: null }] : [],
    };
  };
}
