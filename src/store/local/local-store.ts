import { join } from 'node:path';
import { CliError } from '../../errors.ts';
import { createFileWhole, tempName, writeFailure } from '../../fs/atomic-write.ts';
import { isMissing, NODE_FS, type FsPort } from '../../fs/fs-port.ts';
import { pathBelow } from '../../fs/path-inside.ts';
import { addToGitExclude } from '../../repo/git-exclude.ts';
import { randomHex } from '../../text/fingerprint.ts';
import {
  TASK_STATES, type ClaimRequest, type ClaimResult, type CompleteRequest, type FailRequest, type HolderRequest, type InitResult,
  type RecoverOptions, type RecoverReport, type RecoveredClaim, type ReopenRequest, type Task, type TaskBackend, type TaskInput,
  type TaskProblem, type TaskState,
} from '../backend.ts';
import { nothingClaimable } from '../claimability.ts';
import { proofOf, validateToken } from '../holder-proof.ts';
import type { StoreLocation } from '../location.ts';
import { DEFAULT_LEASE_MS, stateAfterFailure, stateAfterRelease } from '../rules.ts';
import { parseTaskText, serializeTask, type ParsedTask } from '../task-file.ts';
import { normalizeTaskInputs, validateAgentName, validateTaskId } from '../task-schema.ts';
import { Claimer } from './claiming.ts';
import { StoreFolder, type TaskLocation } from './folder.ts';
import { appendEvent, readEvents, reconcileEvents, type NewEvent } from './journal.ts';
import { parseMoveFileName, taskFileName } from './names.ts';
import { staleClaim } from './recovery.ts';
import { moveTask, MoveLost, repairMoves } from './transition.ts';

// The local-disk backend: one folder per state under _tasks/, claims by atomic rename, moves and
// their repair in transition.ts, the journal in journal.ts. This class only puts them together.

export class LocalStore implements TaskBackend {
  readonly dir: string;
  readonly repoRoot: string | undefined;
  readonly gitCommonDir: string | undefined;
  readonly description: string;
  readonly localDir: string;
  private readonly fs: FsPort;
  private readonly folder: StoreFolder;
  private readonly claimer: Claimer;

  constructor(location: StoreLocation, options: { fs?: FsPort } = {}) {
    this.dir = location.dir;
    this.repoRoot = location.repoRoot;
    this.gitCommonDir = location.gitCommonDir;
    this.description = location.dir;
    this.localDir = location.dir;
    this.fs = options.fs ?? NODE_FS;
    this.folder = new StoreFolder(this.dir, this.fs);
    this.claimer = new Claimer(this.folder);
  }

  get eventsPath(): string {
    return join(this.dir, 'events.jsonl');
  }

  private present(): boolean {
    return this.fs.existsSync(this.folder.stateDir('available'));
  }

  private requireStore(): void {
    if (!this.present()) throw new CliError('E_NOT_FOUND', `no task store at ${this.dir}; run \`parallel-agents init\` (or pass --tasks-dir)`);
  }

  private journal(event: NewEvent): void {
    appendEvent(this.fs, this.eventsPath, event);
  }

  async exists(): Promise<boolean> {
    return this.present();
  }

  async init(): Promise<InitResult> {
    const created = !this.present();
    for (const state of TASK_STATES) {
      try {
        this.fs.mkdirSync(this.folder.stateDir(state), { recursive: true });
      } catch (error) {
        throw writeFailure(error, this.folder.stateDir(state));
      }
    }
    let excludeAdded = false;
    const below = this.repoRoot ? pathBelow(this.repoRoot, this.dir) : undefined;
    if (this.gitCommonDir && below) excludeAdded = addToGitExclude(this.gitCommonDir, `/${below}/`);
    return { store: this.dir, created, excludeAdded };
  }

  /** Each task appears whole in available/ by one link, never over an existing one: a concurrent add of the same id loses with E_EXISTS. */
  async add(inputs: TaskInput[]): Promise<Task[]> {
    await this.init();
    const existing = new Set(this.folder.listAll().tasks.map((task) => task.id));
    // A task in the middle of a move is filed under a hidden name only: it exists all the same.
    for (const state of TASK_STATES) for (const entry of this.folder.names(state)) {
      const move = parseMoveFileName(entry.name);
      if (move) existing.add(move.id);
    }
    const prepared = normalizeTaskInputs(inputs, existing, this.dir);
    const added: Task[] = [];
    for (const { id, frontmatter, body } of prepared) {
      const text = serializeTask(frontmatter, body);
      const path = join(this.folder.stateDir('available'), taskFileName(id));
      const tmp = join(this.folder.stateDir('available'), tempName(path));
      createFileWhole(this.fs, tmp, text, { fsync: true });
      // Nobody else touches our temp file: its inode names our copy wherever a claim moves it.
      const ours = this.fs.statSync(tmp).ino;
      try {
        this.fs.linkSync(tmp, path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new CliError('E_EXISTS', `task "${id}" already exists in ${this.dir}; choose another id`);
        throw writeFailure(error, path);
      } finally {
        try { this.fs.unlinkSync(tmp); } catch { /* gone */ }
      }
      this.refuseSecondCopy(id, path, ours);
      try {
        this.journal({ event: 'add', task: id, to: 'available', attempts: 0 });
      } catch (error) {
        try { this.fs.unlinkSync(path); } catch { /* claimed already: the journal catches up at the next recover */ }
        throw error;
      }
      added.push(this.folder.toTask(parseTaskText(text, path), { state: 'available', path, name: taskFileName(id) }));
    }
    return added;
  }

  /**
   * Another add of the same id that listed the store before this one may have filed it first and
   * seen it claimed out of available/ since, which lets this link succeed: a second copy. Copies
   * are told apart by inode: a claim renames the file add linked, and so does the ownership
   * rename of a move (whose moving file stands for the copy being installed in its folder); only
   * new content (a finished move) gets a new inode. Ours found, any other is a second copy; ours
   * gone (moved on with new content), one other copy is ours and two are a duplicate.
   */
  private refuseSecondCopy(id: string, path: string, ours: number): void {
    const inodeOf = (file: string): number | undefined => {
      try { return this.fs.statSync(file).ino; } catch (error) { if (isMissing(error)) return undefined; throw error; }
    };
    const copies = new Map<string, number | undefined>();
    for (const where of this.folder.locate(id)) copies.set(where.state === 'claimed' ? where.path : where.state, inodeOf(where.path));
    for (const state of TASK_STATES) {
      for (const entry of this.folder.names(state)) {
        const move = parseMoveFileName(entry.name);
        if (move?.kind === 'moving' && move.id === id) copies.set(state, inodeOf(join(this.folder.stateDir(state), entry.name)));
      }
    }
    const inodes = [...copies.values()].filter((ino) => ino !== undefined);
    const others = inodes.filter((ino) => ino !== ours).length;
    if (inodes.includes(ours) ? others === 0 : others <= 1) return;
    // Still ours at the name: take it back. A claimer that took it meanwhile gives it back, and status names both.
    if (inodeOf(path) === ours) {
      try { this.fs.unlinkSync(path); } catch { /* taken meanwhile */ }
    }
    throw new CliError('E_EXISTS', `task "${id}" already exists in ${this.dir} (added by another process meanwhile); choose another id`);
  }

  async list(options: { staleAfterMs?: number } = {}): Promise<{ tasks: Task[]; problems: TaskProblem[] }> {
    const listing = this.folder.listAll();
    const now = Date.now();
    for (const task of listing.tasks) {
      if (task.claim) task.claim.stale = staleClaim(task.claim, now, options.staleAfterMs ?? DEFAULT_LEASE_MS);
    }
    return listing;
  }

  async get(id: string): Promise<Task | undefined> {
    validateTaskId(id);
    for (let attempt = 0; attempt < 3; attempt++) {
      const where = this.folder.locate(id)[0];
      if (!where) return undefined;
      try {
        return this.folder.toTask(this.folder.read(where.path), where);
      } catch (error) {
        // It moved between locate and read (someone claimed or finished it): look again.
        if (!isMissing(error)) throw error;
      }
    }
    return undefined;
  }

  async heldBy(agent: string): Promise<Task[]> {
    validateAgentName(agent);
    const held: Task[] = [];
    for (const entry of this.folder.names('claimed')) {
      const where = this.folder.locationOf('claimed', entry.name);
      if (!where?.claim || where.claim.agent !== agent) continue;
      try {
        held.push(this.folder.toTask(this.folder.read(where.path), where));
      } catch (error) {
        if (!isMissing(error)) throw error;
      }
    }
    return held.sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    validateAgentName(request.agent);
    if (request.role !== undefined) validateAgentName(request.role, '--role');
    if (request.task !== undefined) validateTaskId(request.task);
    this.requireStore();
    const win = this.claimer.claim(request, ({ location, parsed }) => {
      const attempts = parsed.frontmatter.attempts;
      this.journal({ event: 'claim', task: location.claim!.id, agent: request.agent, attempt: attempts + 1, lease: location.claim!.lease, to: 'claimed', attempts });
    });
    if (!win) throw nothingClaimable(this.claimer.snapshot(this.dir), request);
    return { task: this.folder.toTask(win.parsed, win.location), token: win.token };
  }

  /** The claim the caller proves it holds: by its secret token, or as the agent a hook bound. */
  private findClaim(request: HolderRequest): TaskLocation {
    validateAgentName(request.agent);
    validateTaskId(request.task, '--task');
    this.requireStore();
    const proof = request.token !== undefined ? proofOf(validateToken(request.token)) : undefined;
    let unproved = false;
    for (const entry of this.folder.names('claimed')) {
      if (!entry.name.startsWith(`${request.task}~${request.agent}~`)) continue;
      const where = this.folder.locationOf('claimed', entry.name);
      if (!where?.claim || where.claim.id !== request.task || where.claim.agent !== request.agent) continue;
      if (proof === undefined && !request.identityVerified) unproved = true;
      else if (proof === undefined || where.claim.proof === proof) return where;
    }
    if (unproved) {
      throw new CliError('E_NOT_HOLDER', `prove that you are the agent ${request.agent} holding task "${request.task}": pass --token with the token claim printed (its JSON field "token")`);
    }
    throw this.notHolder(request);
  }

  private notHolder(request: HolderRequest): CliError {
    const where = this.folder.locate(request.task)[0];
    let state: string;
    if (!where) state = 'does not exist';
    else if (where.claim) state = where.claim.agent === request.agent ? 'is held by this agent under another claim (taken again after a recovery, or a wrong token)' : `is held by ${where.claim.agent}`;
    else state = `is ${where.state}`;
    return new CliError('E_NOT_HOLDER', `agent ${request.agent} does not hold task "${request.task}": it ${state}; do not merge this work, claim again`);
  }

  async heartbeat(request: HolderRequest): Promise<Task> {
    const where = this.findClaim(request);
    const now = new Date();
    try {
      this.fs.utimesSync(where.path, now, now);
      return this.folder.toTask(this.folder.read(where.path), where);
    } catch (error) {
      if (isMissing(error)) throw this.notHolder(request);
      throw writeFailure(error, where.path);
    }
  }

  /** Moves a proven claim to its next state with new content (transition.ts), journaling the event. */
  private moveClaim(where: TaskLocation, request: HolderRequest, next: (parsed: ParsedTask) => { to: TaskState; frontmatter: Record<string, unknown>; event: NewEvent }): Task {
    let parsed: ParsedTask;
    try {
      parsed = this.folder.read(where.path);
    } catch (error) {
      if (isMissing(error)) throw this.notHolder(request);
      throw error;
    }
    const { to, frontmatter, event } = next(parsed);
    const content = serializeTask(frontmatter, parsed.body);
    try {
      const path = moveTask(this.folder, { id: where.claim!.id, source: where.path, lease: where.claim!.lease, to, content, record: () => this.journal(event) });
      return this.folder.toTask(parseTaskText(content, path), { state: to, path, name: taskFileName(where.claim!.id) });
    } catch (error) {
      if (error instanceof MoveLost) throw this.notHolder(request);
      throw error;
    }
  }

  async complete(request: CompleteRequest): Promise<Task> {
    const where = this.findClaim(request);
    return this.moveClaim(where, request, ({ frontmatter }) => {
      const next: Record<string, unknown> = { ...frontmatter, commit: request.commit, summary: request.summary, completed_by: request.agent, completed_at: new Date().toISOString() };
      delete next.last_error;
      return { to: 'completed', frontmatter: next, event: { event: 'complete', task: request.task, agent: request.agent, attempt: frontmatter.attempts + 1, commit: request.commit, to: 'completed', attempts: frontmatter.attempts } };
    });
  }

  async fail(request: FailRequest): Promise<Task> {
    const reason = request.reason.trim();
    if (reason === '') throw new CliError('E_USAGE', '--reason must say why the task failed');
    const where = this.findClaim(request);
    return this.moveClaim(where, request, ({ frontmatter }) => {
      const attempts = frontmatter.attempts + 1;
      const to = stateAfterFailure(attempts, frontmatter.max_attempts);
      return { to, frontmatter: { ...frontmatter, attempts, last_error: reason }, event: { event: to === 'blocked' ? 'block' : 'fail', task: request.task, agent: request.agent, attempt: attempts, reason, to, attempts } };
    });
  }

  async release(request: HolderRequest): Promise<Task> {
    const where = this.findClaim(request);
    return this.moveClaim(where, request, ({ frontmatter }) => {
      const to = stateAfterRelease(frontmatter.attempts);
      return { to, frontmatter, event: { event: 'release', task: request.task, agent: request.agent, attempt: frontmatter.attempts + 1, to, attempts: frontmatter.attempts } };
    });
  }

  async reopen(request: ReopenRequest): Promise<Task> {
    validateTaskId(request.task);
    this.requireStore();
    const source = join(this.folder.stateDir('completed'), taskFileName(request.task));
    const where: TaskLocation = { state: 'completed', path: source, name: taskFileName(request.task) };
    let parsed: ParsedTask;
    try {
      parsed = this.folder.read(source);
    } catch (error) {
      if (isMissing(error)) throw new CliError('E_REFUSED', `task "${request.task}" is not completed any more; nothing to reopen`);
      throw error;
    }
    const fm = parsed.frontmatter;
    if (request.commit !== undefined && fm.commit !== undefined && !fm.commit.startsWith(request.commit) && !request.commit.startsWith(fm.commit)) {
      throw new CliError('E_REFUSED', `task "${request.task}" was completed again (commit ${fm.commit}) since it was checked; nothing reopened`);
    }
    const attempts = fm.attempts + 1;
    const to = stateAfterFailure(attempts, fm.max_attempts);
    const frontmatter: Record<string, unknown> = { ...fm, attempts, last_error: request.reason };
    for (const key of ['commit', 'summary', 'completed_by', 'completed_at']) delete frontmatter[key];
    const content = serializeTask(frontmatter, parsed.body);
    try {
      const path = moveTask(this.folder, { id: request.task, source: where.path, lease: `reopen-${randomHex(8)}`, to, content, record: () => this.journal({ event: 'reopen', task: request.task, reason: request.reason, commit: fm.commit, attempt: attempts, to, attempts }) });
      return this.folder.toTask(parseTaskText(content, path), { state: to, path, name: taskFileName(request.task) });
    } catch (error) {
      if (error instanceof MoveLost) throw new CliError('E_REFUSED', `task "${request.task}" was reopened by someone else; nothing to do`);
      throw error;
    }
  }

  async recover(options: RecoverOptions): Promise<RecoverReport> {
    this.requireStore();
    if (options.task !== undefined) validateTaskId(options.task);
    const repaired = repairMoves(this.folder, (state, id, what) => this.journal({ event: 'repair', task: id, reason: `${what} (${state}/)` }));
    const recovered: RecoveredClaim[] = [];
    const now = options.now ?? Date.now();
    for (const entry of this.folder.names('claimed')) {
      const where = this.folder.locationOf('claimed', entry.name);
      if (!where?.claim || (options.task !== undefined && where.claim.id !== options.task)) continue;
      let task: Task;
      try {
        task = this.folder.toTask(this.folder.read(where.path), where);
      } catch {
        continue; // moved on, or unreadable (status names it)
      }
      const reason = options.force && options.task !== undefined ? 'taken back by recover --force' : staleClaim(task.claim!, now, options.staleAfterMs)?.reason;
      if (!reason) continue;
      const lastError = `stale claim by ${where.claim.agent}: ${reason}`;
      const request = { agent: where.claim.agent, task: where.claim.id, identityVerified: true };
      try {
        const moved = this.moveClaim(where, request, ({ frontmatter }) => {
          const attempts = frontmatter.attempts + 1;
          const to = stateAfterFailure(attempts, frontmatter.max_attempts);
          return { to, frontmatter: { ...frontmatter, attempts, last_error: lastError }, event: { event: 'recover', task: where.claim!.id, agent: where.claim!.agent, attempt: attempts, reason: lastError, to, attempts } };
        });
        recovered.push({ id: moved.id, agent: where.claim.agent, reason: lastError, to: moved.state as 'failed' | 'blocked', attempts: moved.attempts });
      } catch (error) {
        // The holder finishing, or another recoverer, won the rename: nothing to do.
        if (error instanceof CliError && error.code === 'E_NOT_HOLDER') continue;
        // A copy filed by hand where the claim would go: both stay for a person; recover the rest.
        if (error instanceof CliError && error.code === 'E_REFUSED') {
          repaired.push(`${where.path}: not taken back: ${error.message}`);
          continue;
        }
        throw error;
      }
    }
    const reconciled: string[] = [];
    for (const event of reconcileEvents(readEvents(this.fs, this.eventsPath), this.folder.listAll().tasks)) {
      this.journal(event);
      reconciled.push(`${event.task}: ${String(event.reason)}`);
    }
    return { recovered, repaired, reconciled };
  }
}

