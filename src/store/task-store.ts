import {
  closeSync,
  existsSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeSync,
  type Dirent,
} from 'node:fs';
import { join, relative, isAbsolute } from 'node:path';
import { CliError } from '../errors.ts';
import { formatDuration } from '../text/duration.ts';
import { writeFileAtomic } from '../fs/atomic-write.ts';
import { EventJournal } from './events.ts';
import { claimFileName, newToken, parseClaimFileName } from './claim-name.ts';
import { describeProcess, isProcessAlive, processLiveness } from '../process/liveness.ts';
import { locateStore, type StoreLocation } from './location.ts';
import { parseTaskText, serializeTask, type ParsedTask } from './task-file.ts';
import { describeIssues, taskFrontmatterSchema, validateAgentName, validateTaskId } from './task-schema.ts';
import { addToGitExclude } from '../repo/git-exclude.ts';
import { fingerprint, randomHex } from '../text/fingerprint.ts';
import {
  TASK_STATES,
  type ClaimRequest,
  type ClaimResult,
  type CompleteRequest,
  type FailRequest,
  type HolderRequest,
  type RecoverReport,
  type RecoveredClaim,
  type Task,
  type TaskBackend,
  type TaskEvent,
  type TaskInput,
  type TaskProblem,
  type TaskState,
} from './types.ts';

const CLAIMABLE_STATES = ['available', 'failed'] as const;

interface ClaimLocation {
  path: string;
  name: string;
  token: string;
}

interface ClaimMeta {
  role: string | undefined;
  depends_on: string[];
  /** The parsed file, reused when the claim wins (a rename does not change the content). */
  parsed: ParsedTask;
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function taskFileName(id: string): string {
  return `${id}.md`;
}

function isTaskFileName(name: string): boolean {
  return name.endsWith('.md') && !name.startsWith('.');
}

/** The local-disk implementation of the protocol: one folder per state, claims by atomic rename. */
export class TaskStore implements TaskBackend {
  readonly dir: string;
  readonly repoRoot: string | undefined;
  readonly gitCommonDir: string | undefined;
  private layoutReady = false;
  /** role and depends_on never change after a task is added, so claim may cache them. */
  private readonly claimMeta = new Map<string, ClaimMeta>();
  /** Completed is a final state: once seen, an id stays completed. */
  private readonly knownCompleted = new Set<string>();
  /** Long-lived callers reuse their last listing; a lost race costs one failed rename, not a readdir. */
  private candidateCache: { state: TaskState; name: string }[] | undefined;
  private journal: EventJournal | undefined;
  /** Fault injection for crash tests: called between the protocol's steps. */
  onStep: ((step: string) => void) | undefined;

  constructor(location: StoreLocation) {
    this.dir = location.dir;
    this.repoRoot = location.repoRoot;
    this.gitCommonDir = location.gitCommonDir;
  }

  static open(options: { cwd: string; tasksDir?: string | undefined; env?: NodeJS.ProcessEnv }): TaskStore {
    return new TaskStore(locateStore(options));
  }

  // ---------------------------------------------------------------- layout

  stateDir(state: TaskState): string {
    return join(this.dir, state);
  }

  get eventsPath(): string {
    return join(this.dir, 'events.jsonl');
  }

  exists(): boolean {
    return existsSync(this.stateDir('available'));
  }

  /** Creates the folders and hides the store from git. Safe to run any number of times. */
  init(): { dir: string; created: boolean; excludeAdded: boolean } {
    const created = !this.exists();
    this.ensureLayout();
    let excludeAdded = false;
    if (this.gitCommonDir && this.repoRoot) {
      const rel = relative(this.repoRoot, this.dir);
      if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) {
        excludeAdded = addToGitExclude(this.gitCommonDir, `/${rel.split('\\').join('/')}/`);
      }
    }
    return { dir: this.dir, created, excludeAdded };
  }

  private ensureLayout(): void {
    if (this.layoutReady) return;
    for (const state of TASK_STATES) mkdirSync(this.stateDir(state), { recursive: true });
    this.layoutReady = true;
  }

  private requireStore(): void {
    if (!this.exists()) {
      throw new CliError('E_NOT_FOUND', `no task store at ${this.dir}; run \`parallel-agents init\` (or pass --tasks-dir)`);
    }
  }

  appendEvent(event: Omit<TaskEvent, 'ts'>): void {
    this.journal ??= new EventJournal(this.eventsPath);
    this.journal.append(event);
  }

  // ---------------------------------------------------------------- reading

  private listNames(state: TaskState): Dirent[] {
    try {
      return readdirSync(this.stateDir(state), { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
  }

  /** Refuses symlinks: a task file must be a regular file inside the store. */
  private checkRegular(entry: Dirent, path: string): string | undefined {
    if (!entry.isSymbolicLink()) return undefined;
    let target: string;
    try {
      target = realpathSync(path);
    } catch {
      return `${path}: dangling symlink; replace it with a regular task file`;
    }
    const rel = relative(realpathSync(this.dir), target);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      return `${path}: symlink leads out of the store (to ${target}); replace it with a regular task file`;
    }
    return `${path}: task files must be regular files, not symlinks; replace it with a copy`;
  }

  private parseFile(path: string): ParsedTask {
    return parseTaskText(readFileSync(path, 'utf8'), path);
  }

  private toTask(parsed: ParsedTask, state: TaskState, path: string, claimName?: string): Task {
    const fm = parsed.frontmatter;
    const task: Task = {
      id: fm.id,
      title: fm.title,
      role: fm.role,
      files: fm.files,
      reads: fm.reads,
      depends_on: fm.depends_on,
      attempts: fm.attempts,
      max_attempts: fm.max_attempts,
      estimate: fm.estimate,
      plan: fm.plan,
      commit: fm.commit,
      summary: fm.summary,
      completed_by: fm.completed_by,
      completed_at: fm.completed_at,
      last_error: fm.last_error,
      body: parsed.body,
      state,
      file: path,
    };
    if (claimName) {
      const claim = parseClaimFileName(claimName);
      if (claim) {
        let heartbeatAt = claim.claimedAt;
        try {
          const stat = statSync(path);
          heartbeatAt = Math.max(stat.mtimeMs, stat.ctimeMs);
        } catch {
          // Released or recovered while we read it: keep the claim time.
        }
        task.claim = { agent: claim.agent, token: claim.token, claimedAt: claim.claimedAt, heartbeatAt, holder: claim.holder };
      }
    }
    return task;
  }

  /** Every task in every state, plus the files that could not be read (which never block the rest). */
  listAll(): { tasks: Task[]; problems: TaskProblem[] } {
    const tasks: Task[] = [];
    const problems: TaskProblem[] = [];
    const seen = new Map<string, string>();
    for (const state of TASK_STATES) {
      for (const entry of this.listNames(state)) {
        if (!isTaskFileName(entry.name)) continue;
        const path = join(this.stateDir(state), entry.name);
        const symlinkProblem = this.checkRegular(entry, path);
        if (symlinkProblem) {
          problems.push({ file: path, message: symlinkProblem });
          continue;
        }
        let expectedId: string;
        if (state === 'claimed') {
          const claim = parseClaimFileName(entry.name);
          if (!claim) {
            problems.push({ file: path, message: `${path}: not a claim file name (<id>~<agent>~<token>.md); move it back to available/` });
            continue;
          }
          expectedId = claim.id;
        } else {
          expectedId = entry.name.slice(0, -3);
        }
        let task: Task;
        try {
          task = this.toTask(this.parseFile(path), state, path, state === 'claimed' ? entry.name : undefined);
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
          problems.push({ file: path, message: `${path}: task "${task.id}" is also in ${earlier}; keep only one copy` });
          continue;
        }
        seen.set(task.id, state);
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

  async list(): Promise<{ tasks: Task[]; problems: TaskProblem[] }> {
    return this.listAll();
  }

  /** Where a task is, by file name only (no parsing). */
  locate(id: string): { state: TaskState; path: string; name: string } | undefined {
    for (const state of TASK_STATES) {
      if (state === 'claimed') {
        const prefix = `${id}~`;
        for (const entry of this.listNames('claimed')) {
          if (entry.name.startsWith(prefix) && isTaskFileName(entry.name)) {
            return { state, path: join(this.stateDir(state), entry.name), name: entry.name };
          }
        }
        continue;
      }
      const path = join(this.stateDir(state), taskFileName(id));
      if (existsSync(path)) return { state, path, name: taskFileName(id) };
    }
    return undefined;
  }

  get(id: string): Task | undefined {
    validateTaskId(id);
    for (let attempt = 0; attempt < 3; attempt++) {
      const where = this.locate(id);
      if (!where) return undefined;
      try {
        return this.toTask(this.parseFile(where.path), where.state, where.path, where.state === 'claimed' ? where.name : undefined);
      } catch (error) {
        // It moved between locate and read (someone claimed or finished it): look again.
        if (!isMissing(error)) throw error;
      }
    }
    return undefined;
  }

  // ---------------------------------------------------------------- adding

  private normalizeInput(input: TaskInput): Record<string, unknown> {
    const candidate = {
      id: input.id,
      title: input.title,
      role: input.role,
      plan: input.plan,
      files: input.files ?? [],
      reads: input.reads ?? [],
      depends_on: input.depends_on ?? [],
      estimate: input.estimate,
      attempts: 0,
      max_attempts: input.max_attempts ?? 2,
    };
    const result = taskFrontmatterSchema.safeParse(candidate);
    if (!result.success) {
      throw new CliError('E_INVALID', `task "${input.id}": ${describeIssues(result.error)}`);
    }
    const data = result.data as Record<string, unknown>;
    for (const key of Object.keys(data)) if (data[key] === undefined) delete data[key];
    return data;
  }

  add(input: TaskInput): Task {
    return this.addMany([input])[0]!;
  }

  /**
   * Adds tasks to available/. Dependencies may name tasks already in the store or in the same
   * batch. Each file appears atomically and never overwrites: a concurrent add of the same id
   * loses with E_EXISTS.
   */
  addMany(inputs: TaskInput[]): Task[] {
    this.init();
    validateTaskIdsUnique(inputs);
    const existing = new Set(this.listAll().tasks.map((task) => task.id));
    const batch = new Set(inputs.map((input) => input.id));
    const prepared = inputs.map((input) => {
      validateTaskId(input.id);
      if (existing.has(input.id)) {
        throw new CliError('E_EXISTS', `task "${input.id}" already exists in ${this.dir}; choose another id`);
      }
      const data = this.normalizeInput(input);
      for (const dep of data.depends_on as string[]) {
        if (!existing.has(dep) && !batch.has(dep)) {
          throw new CliError('E_UNKNOWN_DEP', `task "${input.id}": depends_on: "${dep}" names no task; add it first or fix the id`);
        }
        if (dep === input.id) {
          throw new CliError('E_CYCLE', `task "${input.id}": depends_on names the task itself`);
        }
      }
      return { id: input.id, text: serializeTask(data, input.body ?? '') };
    });
    const added: Task[] = [];
    for (const { id, text } of prepared) {
      const path = join(this.stateDir('available'), taskFileName(id));
      const tmp = join(this.stateDir('available'), `.tmp~${id}~${process.pid}~${randomHex(8)}`);
      writeFileAtomic(tmp, text);
      try {
        linkSync(tmp, path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new CliError('E_EXISTS', `task "${id}" already exists in ${this.dir}; choose another id`);
        }
        throw error;
      } finally {
        try { unlinkSync(tmp); } catch { /* gone */ }
      }
      this.appendEvent({ event: 'add', task: id });
      added.push(this.toTask(parseTaskText(text, path), 'available', path));
    }
    return added;
  }

  // ---------------------------------------------------------------- claiming

  private claimMetaFor(state: TaskState, name: string): ClaimMeta | undefined {
    const id = name.slice(0, -3);
    const cached = this.claimMeta.get(id);
    if (cached) return cached;
    try {
      const parsed = this.parseFile(join(this.stateDir(state), name));
      if (parsed.frontmatter.id !== id) return undefined;
      const meta = { role: parsed.frontmatter.role, depends_on: parsed.frontmatter.depends_on, parsed };
      this.claimMeta.set(id, meta);
      return meta;
    } catch {
      // Gone (claimed by someone else) or broken (reported by status): not claimable here.
      return undefined;
    }
  }

  private completedIds(refresh: boolean): Set<string> {
    if (refresh || this.knownCompleted.size === 0) {
      for (const entry of this.listNames('completed')) {
        if (isTaskFileName(entry.name)) this.knownCompleted.add(entry.name.slice(0, -3));
      }
    }
    return this.knownCompleted;
  }

  private dependenciesMet(meta: ClaimMeta): boolean {
    if (meta.depends_on.length === 0) return true;
    const completed = this.completedIds(false);
    if (meta.depends_on.every((dep) => completed.has(dep))) return true;
    const fresh = this.completedIds(true);
    return meta.depends_on.every((dep) => fresh.has(dep));
  }

  private readCandidates(): { state: TaskState; name: string }[] {
    const candidates: { state: TaskState; name: string }[] = [];
    for (const state of CLAIMABLE_STATES) {
      const names = this.listNames(state).filter((entry) => entry.isFile() && isTaskFileName(entry.name)).map((entry) => entry.name);
      for (const name of names.sort()) candidates.push({ state, name });
    }
    return candidates;
  }

  private tryClaimFrom(state: TaskState, name: string, agent: string, token: string): string | undefined {
    const target = join(this.stateDir('claimed'), claimFileName(name.slice(0, -3), agent, token));
    try {
      renameSync(join(this.stateDir(state), name), target);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    this.onStep?.('claim:renamed');
    // The rename kept the old mtime; stamp the lease so the claim starts fresh.
    const now = new Date();
    try { utimesSync(target, now, now); } catch { /* recovered already: the caller finds out on its next call */ }
    return target;
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    return this.claimSync(request);
  }

  claimSync(request: ClaimRequest): ClaimResult {
    validateAgentName(request.agent);
    if (request.role !== undefined) validateAgentName(request.role, '--role');
    if (request.task !== undefined) validateTaskId(request.task);
    this.requireStore();
    let holder;
    if (request.holderPid !== undefined) {
      if (!isProcessAlive(request.holderPid)) {
        throw new CliError('E_INVALID', `--holder-pid ${request.holderPid} is not a running process; pass the pid of the agent session that holds the claim`);
      }
      holder = describeProcess(request.holderPid);
    }

    for (let pass = 0; pass < 2; pass++) {
      const fresh = pass === 1 || this.candidateCache === undefined;
      const candidates = fresh ? this.readCandidates() : this.candidateCache!;
      this.candidateCache = candidates;
      const wanted = request.task ? `${request.task}.md` : undefined;
      const count = candidates.length;
      const gone = new Set<number>();
      // Deterministic order (available before failed, then by id) so people and agents can predict
      // what they get; contenders that lose a race pay one failed rename (~7 us) and move on.
      for (let index = 0; index < count; index++) {
        const candidate = candidates[index]!;
        if (wanted && candidate.name !== wanted) continue;
        const meta = this.claimMetaFor(candidate.state, candidate.name);
        if (!meta) {
          gone.add(index);
          continue;
        }
        if (request.role !== undefined && meta.role !== request.role) continue;
        if (!this.dependenciesMet(meta)) continue;
        const token = newToken(Date.now(), holder);
        const claimedPath = this.tryClaimFrom(candidate.state, candidate.name, request.agent, token);
        if (!claimedPath) {
          gone.add(index);
          continue;
        }
        gone.add(index);
        this.candidateCache = candidates.filter((_, i) => !gone.has(i));
        const claimName = claimFileName(candidate.name.slice(0, -3), request.agent, token);
        // The cached parse may predate a failed attempt that rewrote the file: re-read those.
        const parsed = candidate.state === 'available' ? meta.parsed : this.parseFile(claimedPath);
        this.claimMeta.delete(parsed.frontmatter.id);
        const task = this.toTask(parsed, 'claimed', claimedPath, claimName);
        this.appendEvent({ event: 'claim', task: task.id, agent: request.agent, attempt: task.attempts + 1, token });
        this.onStep?.('claim:recorded');
        return { task, token };
      }
      this.candidateCache = candidates.filter((_, i) => !gone.has(i));
      if (fresh) break;
    }
    this.candidateCache = undefined;
    throw this.nothingClaimable(request);
  }

  /**
   * Tells "wait, work remains" (exit 3) from "nothing will ever be claimable" (exit 4). Works from
   * file names plus the open tasks' dependencies: every contender ends here once the queue drains,
   * so it must not parse the whole store.
   */
  private nothingClaimable(request: ClaimRequest): CliError {
    const stateOf = new Map<string, TaskState>();
    const claimedBy = new Map<string, string>();
    const counts = { available: 0, claimed: 0, completed: 0, failed: 0, blocked: 0 };
    // A claim being moved right now (fail, recover) is still work: never report "no work left" for it.
    let moving = 0;
    for (const state of TASK_STATES) {
      for (const entry of this.listNames(state)) {
        if (entry.name.startsWith('.moved~') && state !== 'completed') moving++;
        if (!isTaskFileName(entry.name)) continue;
        let id = entry.name.slice(0, -3);
        if (state === 'claimed') {
          const claim = parseClaimFileName(entry.name);
          if (!claim) continue;
          id = claim.id;
          claimedBy.set(id, claim.agent);
        }
        stateOf.set(id, state);
        counts[state]++;
      }
    }
    const listed = [...stateOf].filter(([, state]) => state === 'available' || state === 'failed').map(([id, state]) => ({ id, state }));
    // A file that cannot be read is no work anyone can claim: name it instead of "retry later".
    const metas = new Map(listed.map(({ id, state }) => [id, this.claimMetaFor(state, `${id}.md`)]));
    const unreadable = listed.filter(({ id }) => metas.get(id) === undefined && stateOf.has(id));
    const open = listed.filter(({ id }) => metas.get(id) !== undefined);
    const dependsOn = new Map(open.map(({ id }) => [id, metas.get(id)!.depends_on]));
    // A task is stuck when it waits, directly or not, on a blocked or missing task.
    const stuck = new Set<string>();
    let changed = true;
    while (changed) {
      changed = false;
      for (const { id } of open) {
        if (stuck.has(id)) continue;
        if (dependsOn.get(id)!.some((dep) => !stateOf.has(dep) || stateOf.get(dep) === 'blocked' || stuck.has(dep))) {
          stuck.add(id);
          changed = true;
        }
      }
    }
    if (request.task) {
      const state = stateOf.get(request.task);
      if (!state) return new CliError('E_NOT_FOUND', `task "${request.task}" does not exist in ${this.dir}`);
      if (state === 'completed' || state === 'blocked') {
        return new CliError('E_NO_WORK', `task "${request.task}" is ${state}; nothing to claim`);
      }
      return new CliError('E_NOTHING_CLAIMABLE', `task "${request.task}" is not claimable now (${state === 'claimed' ? `held by ${claimedBy.get(request.task)}` : 'waiting on depends_on or another role'})`);
    }
    const waiting = open.filter(({ id }) => !stuck.has(id));
    if (waiting.length === 0 && counts.claimed === 0 && moving === 0) {
      const broken = unreadable.length > 0 ? `; ${unreadable.length} task file(s) cannot be read (${unreadable.map(({ id, state }) => `${state}/${id}.md`).join(', ')}): run parallel-agents status to see why` : '';
      const suffix = `${stuck.size > 0 ? `; ${stuck.size} wait on blocked tasks` : ''}${broken}`;
      return new CliError('E_NO_WORK', `no work left: ${counts.completed} completed, ${counts.blocked} blocked${suffix}`);
    }
    const forRole = request.role ? ` for role ${request.role}` : '';
    return new CliError(
      'E_NOTHING_CLAIMABLE',
      `nothing claimable now${forRole}: ${waiting.length} waiting (on depends_on${request.role ? ' or other roles' : ''}), ${counts.claimed} held by agents; retry later`,
    );
  }

  // ---------------------------------------------------------------- holder operations

  private findClaim(request: HolderRequest): ClaimLocation {
    validateAgentName(request.agent);
    validateTaskId(request.task, '--task');
    this.requireStore();
    if (request.token !== undefined) validateToken(request.token);
    if (request.token !== undefined) {
      const name = claimFileName(request.task, request.agent, request.token);
      const path = join(this.stateDir('claimed'), name);
      if (!existsSync(path)) throw this.notHolder(request);
      return { path, name, token: request.token };
    }
    const prefix = `${request.task}~${request.agent}~`;
    let found: ClaimLocation | undefined;
    for (const entry of this.listNames('claimed')) {
      if (!entry.name.startsWith(prefix) || !isTaskFileName(entry.name)) continue;
      const claim = parseClaimFileName(entry.name);
      if (!claim || claim.id !== request.task || claim.agent !== request.agent) continue;
      if (request.token !== undefined && claim.token !== request.token) continue;
      found = { path: join(this.stateDir('claimed'), entry.name), name: entry.name, token: claim.token };
    }
    if (!found) throw this.notHolder(request);
    return found;
  }

  private notHolder(request: HolderRequest): CliError {
    const where = this.locate(request.task);
    let state: string;
    if (!where) state = 'does not exist';
    else if (where.state === 'claimed') {
      const claim = parseClaimFileName(where.name);
      state = claim?.agent === request.agent ? 'is held by this agent under another token (re-claimed after a recovery)' : `is held by ${claim?.agent ?? 'another agent'}`;
    } else state = `is ${where.state}`;
    return new CliError('E_NOT_HOLDER', `agent ${request.agent} does not hold task "${request.task}": it ${state}; do not merge this work, claim again`);
  }

  async heartbeat(request: HolderRequest): Promise<Task> {
    const claim = this.findClaim(request);
    const now = new Date();
    try {
      utimesSync(claim.path, now, now);
    } catch (error) {
      if (isMissing(error)) throw this.notHolder(request);
      throw error;
    }
    return this.toTask(this.parseFile(claim.path), 'claimed', claim.path, claim.name);
  }

  /**
   * Moves a held claim to its next state with new content, in three renames:
   * 1. the new content is written under `.pending~<id>~<token>~...` in the destination folder;
   * 2. the claimed file is renamed to a hidden `.moved~<id>~<token>.md` there: this rename is the
   *    ownership check (exactly one of holder and recoverer wins it), and a hidden name means no
   *    claimer can take the old content while the move is under way;
   * 3. the pending content is installed as `<id>.md`, and the moved file deleted.
   * `recover` finishes steps 3 if we die in between.
   */
  private transition(
    claim: ClaimLocation,
    to: TaskState,
    update: (parsed: ParsedTask) => Record<string, unknown>,
    request: HolderRequest,
  ): Task {
    let source: string;
    try {
      source = readFileSync(claim.path, 'utf8');
    } catch (error) {
      if (isMissing(error)) throw this.notHolder(request);
      throw error;
    }
    const parsed = parseTaskText(source, claim.path);
    const id = parsed.frontmatter.id;
    const text = serializeTask(update(parsed), parsed.body);
    const destination = join(this.stateDir(to), taskFileName(id));
    const pending = join(this.stateDir(to), `.pending~${id}~${claim.token}~${process.pid}~${contentDigest(source)}.md`);
    const moved = join(this.stateDir(to), `.moved~${id}~${claim.token}.md`);
    const fd = openSync(pending, 'wx');
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
    this.onStep?.('transition:pending-written');
    try {
      renameSync(claim.path, moved);
    } catch (error) {
      try { unlinkSync(pending); } catch { /* gone */ }
      if (isMissing(error)) throw this.notHolder(request);
      throw error;
    }
    this.onStep?.('transition:moved');
    renameSync(pending, destination);
    this.onStep?.('transition:installed');
    try { unlinkSync(moved); } catch { /* a racing recover removed it */ }
    return this.toTask(parseTaskText(text, destination), to, destination);
  }

  async complete(request: CompleteRequest): Promise<Task> {
    if (request.commit !== undefined && !/^[0-9a-f]{4,64}$/i.test(request.commit)) {
      throw new CliError('E_INVALID', `--commit "${request.commit}" is not a commit id; pass the full or abbreviated hex sha (git rev-parse HEAD)`);
    }
    const claim = this.findClaim(request);
    const task = this.transition(claim, 'completed', ({ frontmatter }) => {
      const next: Record<string, unknown> = { ...frontmatter };
      next.commit = request.commit;
      next.summary = request.summary;
      next.completed_by = request.agent;
      next.completed_at = new Date().toISOString();
      delete next.last_error;
      return next;
    }, request);
    this.appendEvent({ event: 'complete', task: task.id, agent: request.agent, attempt: task.attempts + 1, commit: request.commit });
    return task;
  }

  async fail(request: FailRequest): Promise<Task> {
    const reason = request.reason.trim();
    if (reason === '') throw new CliError('E_USAGE', '--reason must say why the task failed');
    const claim = this.findClaim(request);
    const parsed = this.parseFile(claim.path);
    const attempts = parsed.frontmatter.attempts + 1;
    const to: TaskState = attempts >= parsed.frontmatter.max_attempts ? 'blocked' : 'failed';
    const task = this.transition(claim, to, ({ frontmatter }) => ({ ...frontmatter, attempts, last_error: reason }), request);
    this.appendEvent({ event: to === 'blocked' ? 'block' : 'fail', task: task.id, agent: request.agent, attempt: attempts, reason });
    return task;
  }

  async release(request: HolderRequest): Promise<Task> {
    const claim = this.findClaim(request);
    const parsed = this.parseFile(claim.path);
    // A released task keeps its attempt count; it goes back where a claimer will look for it.
    const to: TaskState = parsed.frontmatter.attempts > 0 ? 'failed' : 'available';
    const destination = join(this.stateDir(to), taskFileName(parsed.frontmatter.id));
    try {
      renameSync(claim.path, destination);
    } catch (error) {
      if (isMissing(error)) throw this.notHolder(request);
      throw error;
    }
    this.appendEvent({ event: 'release', task: parsed.frontmatter.id, agent: request.agent, attempt: parsed.frontmatter.attempts + 1 });
    return this.toTask(parsed, to, destination);
  }

  // ---------------------------------------------------------------- recovery

  async recover(options: { staleAfterMs: number; now?: number }): Promise<RecoverReport> {
    return this.recoverSync(options);
  }

  recoverSync(options: { staleAfterMs: number; now?: number }): RecoverReport {
    this.requireStore();
    const repaired = this.repairInterrupted();
    const recovered: RecoveredClaim[] = [];
    const now = options.now ?? Date.now();
    for (const entry of this.listNames('claimed')) {
      const claim = parseClaimFileName(entry.name);
      if (!claim) continue;
      const path = join(this.stateDir('claimed'), entry.name);
      let lastSign: number;
      try {
        const stat = statSync(path);
        lastSign = Math.max(stat.mtimeMs, stat.ctimeMs);
      } catch {
        continue;
      }
      let reason: string | undefined;
      if (claim.holder && processLiveness(claim.holder) === 'gone') {
        reason = `holder process ${claim.holder.pid} is gone`;
      } else if (now - lastSign > options.staleAfterMs) {
        reason = `no heartbeat for ${formatDuration(now - lastSign)} (limit ${formatDuration(options.staleAfterMs)})`;
      }
      if (!reason) continue;
      const request = { agent: claim.agent, task: claim.id, token: claim.token };
      const location = { path, name: entry.name, token: claim.token };
      let parsed: ParsedTask;
      try {
        parsed = this.parseFile(path);
      } catch {
        continue;
      }
      const attempts = parsed.frontmatter.attempts + 1;
      const to: TaskState = attempts >= parsed.frontmatter.max_attempts ? 'blocked' : 'failed';
      const lastError = `stale claim by ${claim.agent}: ${reason}`;
      try {
        this.transition(location, to, ({ frontmatter }) => ({ ...frontmatter, attempts, last_error: lastError }), request);
      } catch (error) {
        // Another recoverer, or the holder finishing, won the rename: nothing to do.
        if (error instanceof CliError && error.code === 'E_NOT_HOLDER') continue;
        throw error;
      }
      this.appendEvent({ event: 'recover', task: claim.id, agent: claim.agent, attempt: attempts, reason: lastError, to });
      recovered.push({ id: claim.id, agent: claim.agent, reason: lastError, to: to as 'failed' | 'blocked', attempts });
    }
    return { recovered, repaired };
  }

  /**
   * Finishes or rolls back transitions a crash cut short (see transition). A moved claim with its
   * pending content is finished; a moved claim whose content was already installed is deleted; a
   * moved claim without pending content goes back as it was; pending content whose claim never
   * moved is dropped. Temp files of dead writers are removed.
   */
  private repairInterrupted(): string[] {
    const repaired: string[] = [];
    const ignoreGone = (action: () => void): void => {
      try { action(); } catch (error) { if (!isMissing(error)) throw error; }
    };
    for (const state of TASK_STATES) {
      const names = this.listNames(state).map((entry) => entry.name);
      for (const name of names) {
        const path = join(this.stateDir(state), name);
        if (name.startsWith('.pending~')) {
          const [, id, token, pidText] = name.slice(0, -3).split('~');
          if (!id || !token || !pidText || isProcessAlive(Number(pidText))) continue;
          const moved = join(this.stateDir(state), `.moved~${id}~${token}.md`);
          if (existsSync(moved)) {
            ignoreGone(() => renameSync(path, join(this.stateDir(state), taskFileName(id))));
            ignoreGone(() => unlinkSync(moved));
            repaired.push(`${state}/${id}: finished an interrupted move`);
            this.appendEvent({ event: 'repair', task: id, reason: `finished interrupted transition to ${state}` });
          } else {
            ignoreGone(() => unlinkSync(path));
            repaired.push(`${state}/${id}: dropped an unfinished transition`);
          }
        } else if (name.startsWith('.tmp~')) {
          const pid = Number(name.split('~')[2]);
          if (Number.isInteger(pid) && !isProcessAlive(pid)) {
            ignoreGone(() => unlinkSync(path));
            repaired.push(`${state}/${name}: removed a stray temp file`);
          }
        }
      }
      // Moved claims left without pending content: installed already (delete), or put back.
      for (const entry of this.listNames(state)) {
        if (!entry.name.startsWith('.moved~')) continue;
        const [, id, token] = entry.name.slice(0, -3).split('~');
        if (!id || !token) continue;
        const path = join(this.stateDir(state), entry.name);
        const stillPending = this.listNames(state).some((other) => other.name.startsWith(`.pending~${id}~${token}~`));
        if (stillPending) continue;
        const destination = join(this.stateDir(state), taskFileName(id));
        if (existsSync(destination)) {
          ignoreGone(() => unlinkSync(path));
        } else {
          ignoreGone(() => renameSync(path, destination));
          repaired.push(`${state}/${id}: put back a move that lost its new content`);
        }
      }
    }
    return repaired;
  }
}

/** The shape newToken makes: anything else (a "/", "..", "~") could name a file outside the claim. */
const TOKEN_PATTERN = /^[0-9a-z]{1,12}-[0-9a-f]{8}(?:-\d{1,10}-\d{1,20}-[0-9a-f]{8})?$/;

function validateToken(token: string): void {
  if (!TOKEN_PATTERN.test(token)) {
    throw new CliError('E_INVALID', `--token "${token}" is not a claim token; pass the token printed by claim (its JSON field "token")`);
  }
}

function contentDigest(text: string): string {
  return fingerprint(text);
}

function validateTaskIdsUnique(inputs: TaskInput[]): void {
  const seen = new Set<string>();
  for (const input of inputs) {
    if (seen.has(input.id)) throw new CliError('E_DUPLICATE_ID', `task id "${input.id}" appears twice; ids must be unique`);
    seen.add(input.id);
  }
}

