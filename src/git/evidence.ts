import { existsSync } from 'node:fs';
import { CliError } from '../errors.ts';
import { gitOutputAsync, gitTestAsync, resolveCommitAsync, runGitAsync } from '../repo/run-git.ts';
import type { Task } from '../store/backend.ts';
import { validateTaskId } from '../store/task-schema.ts';
import { ownershipViolations } from './ownership.ts';
import { branchRefName, controlDirs, type RepoContext } from './repo-context.ts';
import { readWorktreeRecord, type WorktreeRecord } from './worktree-registry.ts';
import { identityFallback, nestedRepositoryMessage, STAGED_GITLINK_ARGS, unbackedGitlinks, untrackedRepositories } from './worktree-state.ts';

// "Done" needs evidence, checked while the agent can still fix it: a task with a write scope
// completes only with a commit on its own branch that is more than its base and changes nothing
// outside its scope or in the runtime's control paths. `complete` and the runner both come here.

export interface EvidenceRequest {
  context: RepoContext;
  task: Pick<Task, 'id' | 'title' | 'files'>;
  /** A commit the agent made (a sha, or a name such as HEAD resolved in the task's worktree). */
  commit?: string | undefined;
  /** Commit what the holder left in the task's worktree and use that. */
  commitWorktree?: boolean | undefined;
}

/**
 * The full commit id to record, or undefined for a task without scope that gave none. Throws
 * E_EVIDENCE. Asynchronous so the runner can check several finished tasks side by side.
 */
export async function gatherEvidence(request: EvidenceRequest): Promise<string | undefined> {
  const { context, task } = request;
  validateTaskId(task.id);
  const record = readWorktreeRecord(context.storeDir, task.id);
  let commit = request.commit;
  if (request.commitWorktree) commit = await commitTaskWorktree(context, record, task);
  if (commit === undefined) {
    if (task.files.length > 0) {
      throw new CliError('E_EVIDENCE', `task ${task.id} has a write scope, so completing it needs evidence: pass --commit-worktree (commits your work in its worktree) or --commit <sha>`);
    }
    return undefined;
  }
  return record ? checkBranchCommit(context, record, task, commit) : checkSharedCheckoutCommit(context, task, commit);
}

function outsideMessage(task: Pick<Task, 'id' | 'files'>, files: readonly string[]): string {
  const scope = task.files.length > 0 ? task.files.join(', ') : '(no scope)';
  return `${files.slice(0, 10).join(', ')}${files.length > 10 ? `, ... (${files.length} in all)` : ''} outside task ${task.id}'s scope (${scope}) or in the runtime's control paths`;
}

/**
 * Commits everything left in the task's worktree and returns "HEAD", which the branch check
 * resolves in that worktree. Agents inside Claude Code cannot run `cd <worktree> && git commit`
 * (the host refuses to change directory before a git call); letting the CLI commit keeps their
 * tools narrowed to `parallel-agents`. Nothing outside the scope is committed: such changes are
 * refused while the agent can still undo them.
 */
async function commitTaskWorktree(context: RepoContext, record: WorktreeRecord | undefined, task: Pick<Task, 'id' | 'title' | 'files'>): Promise<string> {
  if (!record) {
    throw new CliError('E_EVIDENCE', `task ${task.id} has no worktree; commit your work yourself and pass --commit <sha> (or create one with parallel-agents worktree add --task ${task.id})`);
  }
  if (!existsSync(record.path)) {
    throw new CliError('E_EVIDENCE', `the worktree of task ${task.id} is gone (${record.path}); run parallel-agents worktree prune and add it again`);
  }
  const { paths: changed, status } = await changedInWorktree(record.path);
  const outside = ownershipViolations(changed, task.files, controlDirs(context));
  if (outside.length > 0) {
    throw new CliError('E_EVIDENCE', `refusing to commit: the worktree changes ${outsideMessage(task, outside)}; undo those changes in ${record.path} (or fail the task) and complete again`, { files: outside });
  }
  const nested = untrackedRepositories(record.path, status);
  if (nested.length > 0) throw nestedRepositoryError(task, record, nested);
  // A clean worktree: the agent committed everything itself.
  if (changed.length > 0) {
    await runGitAsync(['add', '--all', '--', '.'], { cwd: record.path });
    // What the agent staged itself, or a tracked gitlink now pointing at a new nested commit.
    const links = unbackedGitlinks(record.path, (await runGitAsync(STAGED_GITLINK_ARGS, { cwd: record.path })).stdout);
    if (links.length > 0) {
      await runGitAsync(['reset', '--quiet', '--', ...links], { cwd: record.path });
      throw nestedRepositoryError(task, record, links);
    }
    await runGitAsync(['commit', '--quiet', '--no-verify', '-m', `${task.id}: ${task.title}`], { cwd: record.path, env: identityFallback(record.path), okExitCodes: [1] });
  }
  return 'HEAD';
}

function nestedRepositoryError(task: Pick<Task, 'id'>, record: WorktreeRecord, folders: readonly string[]): CliError {
  return new CliError('E_EVIDENCE', `refusing to commit in ${record.path}: ${nestedRepositoryMessage(folders)}; then complete task ${task.id} again`, { nested_repositories: folders });
}

/** Every path `git add --all` would record, rename sources included, and the status they came from. */
async function changedInWorktree(path: string): Promise<{ paths: string[]; status: string }> {
  const status = (await runGitAsync(['status', '--porcelain=v1', '-z', '--untracked-files=all'], { cwd: path })).stdout;
  const tokens = status.split('\0');
  const paths: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const entry = tokens[i]!;
    if (entry.length < 4) continue;
    paths.push(entry.slice(3));
    if (entry[0] === 'R' || entry[0] === 'C') paths.push(tokens[++i]!);
  }
  return { paths, status };
}

/** Paths changed between two commits, and the raw diff (with modes) they came from. */
async function changedBetween(cwd: string, from: string, to: string): Promise<{ paths: string[]; raw: string }> {
  const raw = await gitOutputAsync(['diff', '--raw', '--no-renames', '--no-abbrev', '-z', from, to], { cwd });
  return { paths: rawPaths(raw), raw };
}

/** The paths of a `--raw --no-renames -z` listing: each entry is its status fields, then one path. */
function rawPaths(raw: string): string[] {
  return raw.split('\0').filter((token, i) => i % 2 === 1 && token !== '');
}

/** A worktree task's commit: on its own branch, more than its base, and inside its scope. */
async function checkBranchCommit(context: RepoContext, record: WorktreeRecord, task: Pick<Task, 'id' | 'files'>, commit: string): Promise<string> {
  const repoRoot = context.repoRoot;
  // Relative names (HEAD, HEAD~1) mean the task's own worktree, where the agent made them.
  const [full, head] = await Promise.all([resolveCommitAsync(commit, existsSync(record.path) ? record.path : repoRoot), resolveCommitAsync(branchRefName(record.branch), repoRoot)]);
  if (!full) throw new CliError('E_EVIDENCE', `--commit "${commit}" names no commit in the repository; commit your work in ${record.path} and pass its id (git rev-parse HEAD)`);
  if (!head) throw new CliError('E_EVIDENCE', `branch ${record.branch} of task ${task.id} no longer exists; the commit cannot be checked against it`);
  if (full !== head && !(await gitTestAsync(['merge-base', '--is-ancestor', full, head], { cwd: repoRoot }))) {
    throw new CliError('E_EVIDENCE', `commit ${full.slice(0, 12)} is not on branch ${record.branch} of task ${task.id}; commit in ${record.path} and pass that commit`, { commit: full, branch: record.branch });
  }
  // The base itself (or anything older) is on the branch too, but proves no work at all.
  const [isBase, changed] = await Promise.all([gitTestAsync(['merge-base', '--is-ancestor', full, record.base], { cwd: repoRoot }), changedBetween(repoRoot, record.base, full)]);
  if (isBase) {
    throw new CliError('E_EVIDENCE', `commit ${full.slice(0, 12)} is the base of task ${task.id} or older: nothing was committed on ${record.branch}; commit your work in ${record.path} (or pass --commit-worktree)`, { commit: full, branch: record.branch });
  }
  const outside = ownershipViolations(changed.paths, task.files, controlDirs(context));
  if (outside.length > 0) {
    throw new CliError('E_EVIDENCE', `commit ${full.slice(0, 12)} changes ${outsideMessage(task, outside)}; revert those changes on ${record.branch} and complete again, or fail the task`, { commit: full, files: outside });
  }
  const links = unbackedGitlinks(existsSync(record.path) ? record.path : repoRoot, changed.raw);
  if (links.length > 0) {
    throw new CliError('E_EVIDENCE', `commit ${full.slice(0, 12)} on ${record.branch} records ${nestedRepositoryMessage(links)}; commit the fix on ${record.branch} and complete task ${task.id} again`, { commit: full, nested_repositories: links });
  }
  return full;
}

/**
 * Without a worktree (agents sharing one checkout), the commit's own changes must stay inside the
 * task's scope: a `git add -A` there also picks up other agents' files, and verify has no branch
 * to check afterwards, since the commit is already in the target.
 */
async function checkSharedCheckoutCommit(context: RepoContext, task: Pick<Task, 'id' | 'files'>, commit: string): Promise<string> {
  const full = await resolveCommitAsync(commit, context.repoRoot);
  if (!full) throw new CliError('E_EVIDENCE', `--commit "${commit}" names no commit in the repository; commit your work and pass its id (git rev-parse HEAD)`);
  // A merge commit is judged by what it brings to its branch (the diff from its first parent): a
  // plain diff-tree of a merge lists nothing, which let any change in through a merge.
  const raw = await gitOutputAsync(['diff-tree', '--no-commit-id', '--raw', '--no-renames', '--no-abbrev', '-r', '-z', '--root', '-m', '--first-parent', full], { cwd: context.repoRoot });
  const changed = rawPaths(raw);
  const outside = ownershipViolations(changed, task.files, controlDirs(context));
  if (outside.length > 0) {
    throw new CliError('E_EVIDENCE', `commit ${full.slice(0, 12)} changes ${outsideMessage(task, outside)}; commit only your task's files`, { commit: full, files: outside });
  }
  const links = unbackedGitlinks(context.repoRoot, raw);
  if (links.length > 0) {
    throw new CliError('E_EVIDENCE', `commit ${full.slice(0, 12)} records ${nestedRepositoryMessage(links)}; commit the fix and complete task ${task.id} again`, { commit: full, nested_repositories: links });
  }
  return full;
}
