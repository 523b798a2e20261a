// Decides whether a subagent may edit a file: only inside the write scope of a task it holds, and
// inside that task's worktree when it has one. This turns the seeds' "never two agents on one file"
// from a request in prose into a PreToolUse denial the agent can act on.
import { existsSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { runGit } from '../repo/run-git.ts';
import { matchesScope } from '../scope/glob.ts';
import type { Task } from '../store/types.ts';

export type EditDecision = { allow: true } | { allow: false; reason: string };

interface FileLocation {
  /** Top level of the (linked) worktree holding the file. */
  toplevel: string;
  commonDir: string;
  /** Repository-relative path with "/" separators. */
  path: string;
}

/** realpath of the nearest existing ancestor, plus the not-yet-existing rest (a new file). */
function physicalPath(path: string): string {
  const rest: string[] = [];
  let current = path;
  while (!existsSync(current)) {
    const parent = dirname(current);
    if (parent === current) break;
    rest.unshift(basename(current));
    current = parent;
  }
  return join(realpathSync(current), ...rest);
}

function locateFile(file: string): FileLocation | undefined {
  const physical = physicalPath(file);
  let dir = dirname(physical);
  while (!existsSync(dir)) dir = dirname(dir);
  let output: string;
  try {
    const result = runGit(['rev-parse', '--path-format=absolute', '--git-common-dir', '--show-toplevel'], { cwd: dir, okExitCodes: [128] });
    if (result.exitCode !== 0) return undefined;
    output = result.stdout;
  } catch {
    return undefined;
  }
  const [commonDir, toplevel] = output.trim().split('\n');
  if (!commonDir || !toplevel) return undefined;
  const path = relative(toplevel, physical).split('\\').join('/');
  if (path.startsWith('..') || isAbsolute(path)) return undefined;
  return { toplevel: realpathSync(toplevel), commonDir: realpathSync(commonDir), path };
}

function sameDir(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

export interface EditRequest {
  agent: string;
  /** As the tool got it; relative paths resolve against the session's cwd. */
  file: string;
  cwd: string;
  held: Task[];
  /** The repository the store belongs to. */
  gitCommonDir: string | undefined;
  worktreeOf: (taskId: string) => string | undefined;
}

function scopeList(task: Task): string {
  return task.files.length > 0 ? task.files.join(', ') : '(none declared)';
}

export function decideEdit(request: EditRequest): EditDecision {
  const { agent, held } = request;
  if (held.length === 0) {
    return {
      allow: false,
      reason: `parallel-agents: you (agent "${agent}") hold no task, so you may not edit files. Claim one first: parallel-agents claim --agent ${agent} --role <your role> --json; when claim exits 3 or 4 there is nothing for you to do, so report and stop.`,
    };
  }
  const file = isAbsolute(request.file) ? request.file : resolve(request.cwd, request.file);
  const location = locateFile(file);
  const failHint = (what: string) =>
    `If the task cannot be done without it, do not work around the scope: run parallel-agents fail --agent ${agent} --task ${held[0]!.id} --reason "needs ${what}, outside its write scope" and report NEEDS_CONTEXT.`;
  if (!location || (request.gitCommonDir !== undefined && !sameDir(location.commonDir, request.gitCommonDir))) {
    return {
      allow: false,
      reason: `parallel-agents: ${file} is outside this repository. Task ${held[0]!.id} may change only: ${scopeList(held[0]!)}. ${failHint(file)}`,
    };
  }
  const wrongWorktree: string[] = [];
  for (const task of held) {
    const worktree = request.worktreeOf(task.id);
    if (worktree !== undefined && !sameDir(worktree, location.toplevel)) {
      if (matchesScope(location.path, task.files)) wrongWorktree.push(`${task.id} (worktree ${worktree})`);
      continue;
    }
    if (matchesScope(location.path, task.files)) return { allow: true };
  }
  if (wrongWorktree.length > 0) {
    return {
      allow: false,
      reason: `parallel-agents: ${location.path} is in scope, but you are editing it in ${location.toplevel}, not in the worktree of task ${wrongWorktree.join(', ')}. Edit the same path under that worktree instead.`,
    };
  }
  const scopes = held.map((task) => `${task.id}: ${scopeList(task)}`).join('; ');
  return {
    allow: false,
    reason: `parallel-agents: ${location.path} is outside the write scope of the task you hold (${scopes}). Another task may own it, and two agents must never edit one file. Edit only files in your scope. ${failHint(location.path)}`,
  };
}
