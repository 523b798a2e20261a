import { join } from 'node:path';
import { CliError } from '../../errors.ts';
import { writeFailure } from '../../fs/atomic-write.ts';
import { isMissing, NODE_FS, type FsPort } from '../../fs/fs-port.ts';
import { hideLocalState } from '../../repo/git-exclude.ts';
import { randomHex } from '../../text/fingerprint.ts';
import {
  TASK_STATES, type ClaimRequest, type ClaimResult, type CompleteRequest, type FailRequest, type HolderRequest, type InitResult,
  type RecoverOptions, type RecoverReport, type ReopenRequest, type Task, type TaskBackend, type TaskInput,
  type TaskProblem,
} from '../backend.ts';
import { nothingClaimable } from '../claimability.ts';
import type { StoreLocation } from '../location.ts';
import { DEFAULT_LEASE_MS } from '../rules.ts';
import { parseTaskText, serializeTask, type ParsedTask } from '../task-file.ts';
import { validateAgentName, validateTaskId, type TaskFrontmatter } from '../task-schema.ts';
import { afterComplete, afterFailure, afterRelease, afterReopen, type NextTask } from '../transitions.ts';
import { Claimer } from './claiming.ts';
import { findClaim, notHolder } from './holding.ts';
import { StoreFolder, type TaskLocation } from './folder.ts';
import { appendEvent, readEvents, reconcileEvents, type NewEvent } from './journal.ts';
import { taskFileName } from './names.ts';
import { staleClaim, takeBackStaleClaims } from './recovery.ts';
import { addTasks } from './adding.ts';
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
    const excludeAdded = this.gitCommonDir && this.repoRoot ? hideLocalState(this.gitCommonDir, this.repoRoot, [this.dir]) : false;
    return { store: this.dir, created, exclude_added: excludeAdded };
  }

  /** Each task appears whole in available/ by one link, never over an existing one: a concurrent add of the same id loses with E_EXISTS. */
  async add(inputs: TaskInput[]): Promise<Task[]> {
    await this.init();
    return addTasks(this.folder, inputs, (event) => this.journal(event));
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

  private findClaim(request: HolderRequest): TaskLocation {
    this.requireStore();
    return findClaim(this.folder, request);
  }

  async heartbeat(request: HolderRequest): Promise<Task> {
    const where = this.findClaim(request);
    const now = new Date();
    try {
      this.fs.utimesSync(where.path, now, now);
      return this.folder.toTask(this.folder.read(where.path), where);
    } catch (error) {
      if (isMissing(error)) throw notHolder(this.folder, request);
      throw writeFailure(error, where.path);
    }
  }

  /** Moves a proven claim to its next state with new content (transition.ts), journaling the event. */
  private moveClaim(where: TaskLocation, request: HolderRequest, next: (fm: TaskFrontmatter) => NextTask): Task {
    let parsed: ParsedTask;
    try {
      parsed = this.folder.read(where.path);
    } catch (error) {
      if (isMissing(error)) throw notHolder(this.folder, request);
      throw error;
    }
    const { to, frontmatter, event } = next(parsed.frontmatter);
    const content = serializeTask(frontmatter, parsed.body);
    try {
      const path = moveTask(this.folder, { id: where.claim!.id, source: where.path, lease: where.claim!.lease, to, content, record: () => this.journal(event) });
      return this.folder.toTask(parseTaskText(content, path), { state: to, path, name: taskFileName(where.claim!.id) });
    } catch (error) {
      if (error instanceof MoveLost) throw notHolder(this.folder, request);
      throw error;
    }
  }

  async complete(request: CompleteRequest): Promise<Task> {
    const where = this.findClaim(request);
    return this.moveClaim(where, request, (fm) => afterComplete(fm, { ...request, proof: where.claim!.proof }));
  }

  async fail(request: FailRequest): Promise<Task> {
    const reason = request.reason.trim();
    if (reason === '') throw new CliError('E_USAGE', '--reason must say why the task failed');
    const where = this.findClaim(request);
    return this.moveClaim(where, request, (fm) => afterFailure(fm, { agent: request.agent, task: request.task, reason }));
  }

  async release(request: HolderRequest): Promise<Task> {
    const where = this.findClaim(request);
    return this.moveClaim(where, request, (fm) => afterRelease(fm, request));
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
    const { to, frontmatter, event } = afterReopen(parsed.frontmatter, request);
    const content = serializeTask(frontmatter, parsed.body);
    try {
      const path = moveTask(this.folder, { id: request.task, source: where.path, lease: `reopen-${randomHex(8)}`, to, content, record: () => this.journal(event) });
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
    const recovered = takeBackStaleClaims(this.folder, options, (message) => repaired.push(message), (where, reason) => {
      const holder = { agent: where.claim!.agent, task: where.claim!.id };
      return this.moveClaim(where, { ...holder, identityVerified: true }, (fm) => afterFailure(fm, { ...holder, reason, recovered: true }));
    });
    const reconciled: string[] = [];
    for (const event of reconcileEvents(readEvents(this.fs, this.eventsPath), this.folder.listAll().tasks)) {
      this.journal(event);
      reconciled.push(`${event.task}: ${String(event.reason)}`);
    }
    return { recovered, repaired, reconciled };
  }
}

