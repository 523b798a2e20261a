import type { Dirent } from 'node:fs';
import { join, sep } from 'node:path';
import { CliError } from '../../errors.ts';
import { isMissing, type FsPort } from '../../fs/fs-port.ts';
import { pathBelow } from '../../fs/path-inside.ts';
import { TASK_STATES, type Task, type TaskProblem, type TaskState } from '../backend.ts';
import { parseTaskText, taskOf, type ParsedTask } from '../task-file.ts';
import { claimFileName, idOfTaskFile, parseClaimFileName, taskFileName, type ClaimName } from './names.ts';

// Reading the local store: one folder per state, one Markdown file per task. Anything that cannot
// be read becomes a problem naming the file and the fix, and never stops the other tasks from
// being served.

export interface TaskLocation {
  state: TaskState;
  path: string;
  name: string;
  /** For a claim: what its name says. */
  claim?: ClaimName | undefined;
}

export class StoreFolder {
  readonly dir: string;
  readonly fs: FsPort;
  private readonly stateDirs: Record<TaskState, string>;

  constructor(dir: string, fs: FsPort) {
    this.dir = dir;
    this.fs = fs;
    this.stateDirs = Object.fromEntries(TASK_STATES.map((state) => [state, join(dir, state)])) as Record<TaskState, string>;
  }

  stateDir(state: TaskState): string {
    return this.stateDirs[state];
  }

  /**
   * <state>/<name> for a name from a listing or from names.ts, which never holds a separator or
   * is "." or "..": the same string path.join gives, without its normalising pass (a contended
   * claim builds several per task it reaches).
   */
  entryPath(state: TaskState, name: string): string {
    return this.stateDirs[state] + sep + name;
  }

  names(state: TaskState): Dirent[] {
    try {
      return this.fs.readdirSync(this.stateDir(state), { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
  }

  /** The names alone: no file type per entry, for readers that judge a file by its name. */
  fileNames(state: TaskState): string[] {
    try {
      return this.fs.readdirSync(this.stateDir(state));
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
  }

  read(path: string): ParsedTask {
    return parseTaskText(this.fs.readFileSync(path, 'utf8') as string, path);
  }

  /** The task a file holds; a claim's liveness comes from the file's times (a heartbeat touches them). */
  toTask(parsed: ParsedTask, where: TaskLocation): Task {
    const task = taskOf(parsed, where.state, where.path);
    if (where.claim) {
      const claim = where.claim;
      let heartbeatAt = claim.claimedAt;
      try {
        const stat = this.fs.statSync(where.path);
        heartbeatAt = Math.max(stat.mtimeMs, stat.ctimeMs, claim.claimedAt);
      } catch {
        // Moved on while we read it: keep the claim time.
      }
      task.claim = { agent: claim.agent, lease: claim.lease, claimedAt: claim.claimedAt, heartbeatAt, holder: claim.holder };
    }
    return task;
  }

  /** Where each entry of a state folder says a task is; undefined for hidden and foreign names. */
  locationOf(state: TaskState, name: string): TaskLocation | undefined {
    if (state === 'claimed') {
      const claim = parseClaimFileName(name);
      return claim ? { state, path: this.entryPath(state, name), name, claim } : undefined;
    }
    return idOfTaskFile(name) === undefined ? undefined : { state, path: this.entryPath(state, name), name };
  }

  /** Every place a task id is filed, by name only (no parsing): more than one is a problem. */
  locate(id: string): TaskLocation[] {
    const found: TaskLocation[] = [];
    for (const state of TASK_STATES) {
      if (state === 'claimed') {
        for (const entry of this.names('claimed')) {
          if (!entry.name.startsWith(`${id}~`)) continue;
          const where = this.locationOf('claimed', entry.name);
          if (where?.claim?.id === id) found.push(where);
        }
      } else if (this.fs.existsSync(join(this.stateDir(state), taskFileName(id)))) {
        found.push({ state, path: join(this.stateDir(state), taskFileName(id)), name: taskFileName(id) });
      }
    }
    return found;
  }

  claimPath(id: string, agent: string, lease: string): string {
    return this.entryPath('claimed', claimFileName(id, agent, lease));
  }

  /** Why an entry cannot be a task file (a symlink, a folder), or undefined for a regular file. */
  private entryProblem(entry: Dirent, path: string): string | undefined {
    if (entry.isFile()) return undefined;
    if (!entry.isSymbolicLink()) return `${path}: not a regular file; remove it or replace it with a task file`;
    let target: string;
    try {
      target = this.fs.realpathSync(path) as string;
    } catch {
      return `${path}: dangling symlink; replace it with a regular task file`;
    }
    if (pathBelow(this.fs.realpathSync(this.dir) as string, target) === undefined) {
      return `${path}: symlink leads out of the store (to ${target}); replace it with a regular task file`;
    }
    return `${path}: task files must be regular files, not symlinks; replace it with a copy`;
  }

  /** Every task in every state, plus the files that could not be read, sorted by id. */
  listAll(): { tasks: Task[]; problems: TaskProblem[] } {
    const tasks: Task[] = [];
    const problems: TaskProblem[] = [];
    const seen = new Map<string, string>();
    for (const state of TASK_STATES) {
      for (const entry of this.names(state)) {
        if (entry.name.startsWith('.')) continue;
        const where = this.locationOf(state, entry.name);
        const path = join(this.stateDir(state), entry.name);
        if (!where) {
          if (entry.name.endsWith('.md')) {
            problems.push({ file: path, message: state === 'claimed'
              ? `${path}: not a claim file name (<id>~<agent>~<lease>.md); move it back to available/`
              : `${path}: not a task file name (<id>.md with a valid id); rename it` });
          }
          continue;
        }
        const problem = this.entryProblem(entry, path);
        if (problem) {
          problems.push({ file: path, message: problem });
          continue;
        }
        const expectedId = where.claim?.id ?? idOfTaskFile(entry.name)!;
        let task: Task;
        try {
          task = this.toTask(this.read(path), where);
        } catch (error) {
          if (isMissing(error)) continue;
          problems.push({ file: path, message: error instanceof CliError ? error.message : `${path}: ${(error as Error).message}` });
          continue;
        }
        if (task.id !== expectedId) {
          problems.push({ file: path, message: `${path}: id: "${task.id}" does not match the file name; rename the file to ${task.id}.md or fix the id` });
          continue;
        }
        const earlier = seen.get(task.id);
        if (earlier) {
          problems.push({ file: path, message: `${path}: task "${task.id}" is also in ${earlier}; keep only one copy (no agent can claim it until then)` });
          continue;
        }
        seen.set(task.id, `${state}/`);
        tasks.push(task);
      }
    }
    const known = new Set(tasks.map((task) => task.id));
    for (const task of tasks) {
      const unknown = task.depends_on.filter((dep) => !known.has(dep));
      if (unknown.length > 0 && task.state !== 'completed') {
        problems.push({ file: task.file, message: `${task.file}: depends_on: names no task: ${unknown.join(', ')}; add those tasks or remove them from depends_on` });
      }
    }
    tasks.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { tasks, problems };
  }
}
