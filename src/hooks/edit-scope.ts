// Decides whether a subagent may edit a file, from the edited path and the subagent's bound
// identity only (never from where its shell happens to be): inside the write scope of a task it
// holds, in that task's worktree when it has one, and never in the runtime's control paths. This
// turns "never two agents on one file" from a request in prose into a denial the agent can act on.
import { existsSync, lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { pathBelow } from '../fs/path-inside.ts';
import { isControlPath } from '../git/ownership.ts';
import { readWorktreeRecord } from '../git/worktree-registry.ts';
import { findRepo } from '../repo/locate.ts';
import { runGit } from '../repo/run-git.ts';
import { matchesScope } from '../scope/glob.ts';
import type { HolderProcess, Task, TaskBackend } from '../store/backend.ts';
import { claimCommand, failCommand } from '../store/next-steps.ts';

export type EditDecision = { allow: true } | { allow: false; reason: string };

interface FileLocation {
  /** Top level of the (linked) worktree holding the file. */
  toplevel: string;
  commonDir: string;
  /** Worktree-relative path with "/" separators. */
  path: string;
}

/** How many dangling symlinks one path may pass through before it is judged a loop (Linux's own limit). */
const MAX_LINK_HOPS = 40;

function linkTarget(path: string): string | undefined {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where a write to `path` lands: realpath of the nearest existing ancestor, plus the not-yet-existing
 * rest (a new file). A dangling symlink on the way is followed to its target, since a write
 * creates the file there, not at the link; undefined for a link loop.
 */
function physicalPath(path: string, hops = 0): string | undefined {
  const rest: string[] = [];
  let current = path;
  while (!existsSync(current)) {
    const link = linkTarget(current);
    if (link !== undefined) {
      // The kernel reads a relative target from the folder the link really sits in.
      const folder = hops >= MAX_LINK_HOPS ? undefined : physicalPath(dirname(current), hops + 1);
      return folder === undefined ? undefined : physicalPath(join(resolve(folder, link), ...rest), hops + 1);
    }
    const parent = dirname(current);
    if (parent === current) break;
    rest.unshift(basename(current));
    current = parent;
  }
  return join(realpathSync(current), ...rest);
}

function locateFile(file: string): FileLocation | undefined {
  const physical = physicalPath(file);
  if (physical === undefined) return undefined;
  let dir = dirname(physical);
  while (!existsSync(dir)) dir = dirname(dir);
  try {
    const result = runGit(['rev-parse', '--path-format=absolute', '--git-common-dir', '--show-toplevel'], { cwd: dir, okExitCodes: [128] });
    if (result.exitCode !== 0) return undefined;
    const [commonDir, toplevel] = result.stdout.trim().split('\n');
    if (!commonDir || !toplevel) return undefined;
    const path = pathBelow(realpathSync(toplevel), physical);
    if (path === undefined) return undefined;
    return { toplevel: realpathSync(toplevel), commonDir: realpathSync(commonDir), path };
  } catch {
    return undefined;
  }
}

function sameDir(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

export interface EditRequest {
  /** As the tool got it; a relative path resolves against the session's cwd. */
  file: string;
  cwd: string;
}

function scopeList(task: Task): string {
  return task.files.length > 0 ? task.files.join(', ') : '(none declared)';
}

/** Repository-relative folders no agent edits (mirrors controlDirs for branches). */
function controlDirsOf(repoRoot: string, store: TaskBackend): string[] {
  const dirs = new Set(['.parallel']);
  const below = pathBelow(repoRoot, store.localDir);
  if (below) dirs.add(below);
  return [...dirs];
}

function worktreeOf(store: TaskBackend, taskId: string): string | undefined {
  try {
    return readWorktreeRecord(store.localDir, taskId)?.path;
  } catch {
    return undefined;
  }
}

const CONTROL_DENIAL = (path: string): string =>
  `parallel-agents: ${path} is part of the runtime's own state (the task store, .parallel/ or .git); no agent edits it. Use the parallel-agents commands instead.`;

/** Git's own folder is not a work tree, so git cannot place a file there: compare paths instead. */
function insideGitDir(file: string, gitCommonDir: string): boolean {
  const physical = physicalPath(file);
  return physical !== undefined && pathBelow(realpathSync(gitCommonDir), physical) !== undefined;
}

/** `session`: the Claude Code process the agent runs in; a shared store counts only the claims it holds. */
export async function decideEdit(store: TaskBackend, request: EditRequest & { agent: string; session?: HolderProcess | undefined }): Promise<EditDecision> {
  const { agent } = request;
  const held = await store.heldBy(agent, request.session);
  if (held.length === 0) {
    return { allow: false, reason: `parallel-agents: you (agent "${agent}") hold no task, so you may not edit files. Claim one first: ${claimCommand(agent)}; when claim exits 3 or 4 there is nothing for you to do, so report and stop.` };
  }
  const file = isAbsolute(request.file) ? request.file : resolve(request.cwd, request.file);
  const location = locateFile(file);
  const repo = findRepo(store.localDir);
  if (repo && insideGitDir(file, repo.gitCommonDir)) return { allow: false, reason: CONTROL_DENIAL(file) };
  const failHint = (what: string) =>
    `If the task cannot be done without it, do not work around the scope: run ${failCommand(agent, held[0]!.id).replace('<what failed and why>', `needs ${what}, outside its write scope`)} and report NEEDS_CONTEXT.`;
  if (!location || !repo || !sameDir(location.commonDir, repo.gitCommonDir)) {
    return { allow: false, reason: `parallel-agents: ${file} is outside this repository. Task ${held[0]!.id} may change only: ${scopeList(held[0]!)}. ${failHint(file)}` };
  }
  if (isControlPath(location.path, controlDirsOf(repo.repoRoot, store))) {
    return { allow: false, reason: CONTROL_DENIAL(location.path) };
  }
  const wrongWorktree: string[] = [];
  for (const task of held) {
    const worktree = worktreeOf(store, task.id);
    const home = worktree ?? repo.repoRoot;
    if (!sameDir(home, location.toplevel)) {
      if (matchesScope(location.path, task.files)) wrongWorktree.push(`${task.id} (${worktree ? `worktree ${worktree}` : `the main checkout ${repo.repoRoot}`})`);
      continue;
    }
    if (matchesScope(location.path, task.files)) return { allow: true };
  }
  if (wrongWorktree.length > 0) {
    return { allow: false, reason: `parallel-agents: ${location.path} is in scope, but you are editing it in ${location.toplevel}, not in the checkout of task ${wrongWorktree.join(', ')}. Edit the same path there instead.` };
  }
  const scopes = held.map((task) => `${task.id}: ${scopeList(task)}`).join('; ');
  return { allow: false, reason: `parallel-agents: ${location.path} is outside the write scope of the task you hold (${scopes}). Another task may own it, and two agents must never edit one file. Edit only files in your scope. ${failHint(location.path)}` };
}

/**
 * A subagent that never claimed (a user calling a specialist directly) works freely, but never in
 * the runtime's control paths, and never inside work another agent holds right now: its
 * worktree, or its scope in the main checkout.
 */
export async function guardUnclaimed(store: TaskBackend, request: EditRequest): Promise<EditDecision> {
  const file = isAbsolute(request.file) ? request.file : resolve(request.cwd, request.file);
  const repo = findRepo(store.localDir);
  const location = locateFile(file);
  if (repo && insideGitDir(file, repo.gitCommonDir)) return { allow: false, reason: CONTROL_DENIAL(file) };
  if (repo && location && sameDir(location.commonDir, repo.gitCommonDir) && isControlPath(location.path, controlDirsOf(repo.repoRoot, store))) {
    return { allow: false, reason: CONTROL_DENIAL(location.path) };
  }
  const { tasks } = await store.list();
  for (const task of tasks.filter((candidate) => candidate.state === 'claimed')) {
    const worktree = worktreeOf(store, task.id);
    const inWorktree = worktree !== undefined && location !== undefined && sameDir(worktree, location.toplevel);
    const inScope = repo !== undefined && location !== undefined && sameDir(repo.repoRoot, location.toplevel) && matchesScope(location.path, task.files);
    if (inWorktree || inScope) {
      return {
        allow: false,
        reason: `parallel-agents: ${file} belongs to task ${task.id}, which agent ${task.claim?.agent ?? 'another agent'} holds right now; two agents must never edit one file. ` +
          `In a parallel run, claim a task first (${claimCommand('<your name>')}) and edit only inside its scope.`,
      };
    }
  }
  return { allow: true };
}
