import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../../errors.ts';
import { writeFailure } from '../../fs/atomic-write.ts';
import { hideLocalState } from '../../repo/git-exclude.ts';
import { findRepo } from '../../repo/locate.ts';
import type {
  ClaimRequest, ClaimResult, CompleteRequest, FailRequest, HolderProcess, HolderRequest, InitResult, RecoverOptions, RecoverReport, ReopenRequest,
  SharedRemote, Task, TaskBackend, TaskInput, TaskProblem,
} from '../backend.ts';
import { heldHere, newHolderToken, proofOf } from '../holder-proof.ts';
import { DEFAULT_LEASE_MS } from '../rules.ts';
import { afterFailure, afterRelease } from '../transitions.ts';
import { parseTaskText, type ParsedTask } from '../task-file.ts';
import { validateAgentName, validateTaskId } from '../task-schema.ts';
import { addTasks } from './add-step.ts';
import { claimStep } from './claim-step.ts';
import { SYSTEM_CLOCK, type StoreClock } from './clock.ts';
import { CasRunner, type ProposedUpdate } from './compare-and-swap.ts';
import { completeChange } from './complete-change.ts';
import { holderStep, type HolderChange } from './holder-steps.ts';
import { META, RefLayout } from './layout.ts';
import { liveClaim } from './live-claim.ts';
import { listTasks, observationKeys, toTask, type Seen } from './listing.ts';
import { ObjectWriter, type ObjectFormat } from './objects.ts';
import { Observations } from './observations.ts';
import { leaseMsOf } from './records.ts';
import { recoverStep } from './recover-step.ts';
import { reopenStep } from './reopen-step.ts';
import { readRemoteConfig, type RemoteConfig } from './remote-config.ts';
import { readSnapshot, readTaskFiles, type ReadTask, type Snapshot, type TaskEntry } from './snapshot.ts';
import { TransitionWriter } from './transition-writer.ts';
import { networkOptions, Transport } from './transport.ts';
import { VerifyRemote } from './verify-remote.ts';

// The store shared through a git remote: every task is a ref on the remote, every transition one
// push that the server accepts only if the ref still holds the value the writer read. This class
// puts the parts together; the README's "The git-remote store" is the protocol.

export interface GitRemoteStoreOptions {
  cwd: string;
  remote: string;
  /** This machine's folder for what never travels: worktree records, hook bindings, runner files, observations. */
  localDir: string;
  env?: NodeJS.ProcessEnv | undefined;
  clock?: StoreClock | undefined;
}

export class GitRemoteStore implements TaskBackend {
  readonly description: string;
  readonly localDir: string;
  readonly shared: SharedRemote;
  readonly transport: Transport;
  readonly layout: RefLayout;
  readonly clock: StoreClock;
  readonly repoRoot: string;
  private readonly gitCommonDir: string;
  private readonly notes: Observations;
  private readonly config: RemoteConfig;
  readonly cas: CasRunner;
  /** Parsed task files by tree id (a tree never changes, so neither does its file). */
  readonly files = new Map<string, ReadTask>();
  private transitions: TransitionWriter | undefined;

  constructor(options: GitRemoteStoreOptions) {
    this.layout = new RefLayout(options.remote);
    const { remote } = this.layout;
    const repo = findRepo(options.cwd);
    if (!repo) throw new CliError('E_USAGE', `--store git:${remote} needs a git repository, and ${options.cwd} is not inside one; run from the project's clone, or use --store local`);
    this.repoRoot = repo.repoRoot;
    this.gitCommonDir = repo.gitCommonDir;
    this.config = readRemoteConfig(repo.repoRoot, remote);
    const url = this.config.url;
    if (!url) throw new CliError('E_USAGE', `git remote "${remote}" is not configured in ${repo.repoRoot}; add it (git remote add ${remote} <url>) or use --store local`);
    this.description = `git:${remote} (${url})`;
    this.localDir = options.localDir;
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.transport = new Transport({ repoRoot: repo.repoRoot, gitCommonDir: repo.gitCommonDir, layout: this.layout, url }, this.config, networkOptions(options.env ?? process.env));
    this.notes = new Observations(join(options.localDir, 'remote-observed', `${remote}.json`), this.clock);
    this.cas = new CasRunner(this.transport, () => this.snapshot());
    this.shared = new VerifyRemote(this);
  }

  snapshot(): Promise<Snapshot> {
    return readSnapshot(this.repoRoot, this.layout);
  }

  async fresh(): Promise<Snapshot> {
    await this.transport.fetch();
    return this.snapshot();
  }

  /** Where a task lives, for people: its ref and the remote. */
  where(id: string): string {
    return `${this.layout.remoteRef(this.layout.taskName(id))} on ${this.layout.remote}`;
  }

  writer(): TransitionWriter {
    if (!this.transitions) {
      const format = this.config.objectFormat as ObjectFormat;
      if (format !== 'sha1' && format !== 'sha256') throw new CliError('E_GIT', `${this.repoRoot} uses object format "${format}", which the git-remote store cannot write`);
      this.transitions = new TransitionWriter(new ObjectWriter(join(this.gitCommonDir, 'objects'), format), this.clock);
    }
    return this.transitions;
  }

  /** When this machine first saw each claim and its latest sign of life, noting what is new. */
  seen(snapshot: Snapshot): Seen {
    return { firstSeen: this.notes.observe(observationKeys(snapshot)), clock: this.clock };
  }

  async readFiles(snapshot: Snapshot, trees: readonly string[]): Promise<void> {
    const idOf = new Map([...snapshot.tasks.values()].map((entry) => [entry.tree, entry.id]));
    await readTaskFiles(this.repoRoot, trees, this.files, (tree) => this.where(idOf.get(tree) ?? tree));
  }

  async parsed(snapshot: Snapshot, entry: TaskEntry): Promise<ParsedTask> {
    await this.readFiles(snapshot, [entry.tree]);
    const file = this.files.get(entry.tree)!;
    if ('problem' in file) throw new CliError('E_INVALID', file.problem);
    return file;
  }

  /** The task a just-built commit holds, once its push landed: a claim it holds is dated now. */
  builtTask(entry: TaskEntry, built: { commit: string; tree: string; record: TaskEntry['record']; text: string }): Task {
    const parsed = parseTaskText(built.text, this.where(entry.id));
    this.files.set(built.tree, parsed);
    const claim = built.record?.state === 'claimed' ? built.record.claim : undefined;
    // Dated by this machine's notes: a heartbeat with the token may come from another machine than the claim's.
    const seen = claim ? { firstSeen: this.notes.note([built.commit, `lease:${claim.lease}`]), clock: this.clock } : undefined;
    return toTask({ ...entry, commit: built.commit, tree: built.tree, record: built.record }, parsed, this.where(entry.id), seen);
  }

  requireStore(snapshot: Snapshot): void {
    if (!snapshot.meta) throw new CliError('E_NOT_FOUND', `no task store on ${this.description}; run \`parallel-agents init --store git:${this.layout.remote}\` (or plan publish) first`);
  }

  async exists(): Promise<boolean> {
    if ((await this.snapshot()).meta) return true;
    return (await this.fresh()).meta !== undefined;
  }

  private prepareLocalDir(): boolean {
    try {
      mkdirSync(this.localDir, { recursive: true });
    } catch (error) {
      throw writeFailure(error, this.localDir);
    }
    return hideLocalState(this.gitCommonDir, this.repoRoot, [this.localDir]);
  }

  metaUpdate(): ProposedUpdate {
    const writer = this.writer();
    return { ref: this.layout.remoteRef(META), to: writer.meta(), was: null };
  }

  async init(): Promise<InitResult> {
    const excludeAdded = this.prepareLocalDir();
    const created = await this.cas.run<boolean>({ what: `init of the store on ${this.layout.remote}` }, async ({ snapshot }) =>
      snapshot.meta ? { done: false } : { updates: [this.metaUpdate()], atomic: true, result: () => true });
    return { store: this.description, created, exclude_added: excludeAdded };
  }

  /** Each chunk of new tasks lands whole (one atomic push of "must not exist" creations) or not at all. */
  async add(inputs: TaskInput[]): Promise<Task[]> {
    this.prepareLocalDir();
    return addTasks(this, inputs);
  }

  async list(options: { staleAfterMs?: number } = {}): Promise<{ tasks: Task[]; problems: TaskProblem[] }> {
    const snapshot = await this.fresh();
    await this.readFiles(snapshot, [...snapshot.tasks.values()].map((entry) => entry.tree));
    return listTasks(snapshot, this.files, (id) => this.where(id), this.seen(snapshot), options.staleAfterMs ?? DEFAULT_LEASE_MS);
  }

  async get(id: string): Promise<Task | undefined> {
    validateTaskId(id);
    const snapshot = await this.fresh();
    const entry = snapshot.tasks.get(id);
    if (!entry?.record) return undefined;
    return toTask(entry, await this.parsed(snapshot, entry), this.where(id), this.seen(snapshot));
  }

  /**
   * From this clone's cache: hooks ask on every edit, and a holder's own claims reach the cache when
   * it pushes them. Only claims held on this machine (by `caller` when given): agent names repeat.
   */
  async heldBy(agent: string, caller?: HolderProcess): Promise<Task[]> {
    validateAgentName(agent);
    const snapshot = await this.snapshot();
    const held = [...snapshot.tasks.values()].filter((entry) => entry.record?.state === 'claimed' && entry.record.claim?.agent === agent && heldHere(entry.record.claim.holder, caller));
    const tasks: Task[] = [];
    for (const entry of held.sort((a, b) => (a.id < b.id ? -1 : 1))) tasks.push(toTask(entry, await this.parsed(snapshot, entry), this.where(entry.id)));
    return tasks;
  }

  async claim(request: ClaimRequest): Promise<ClaimResult> {
    validateAgentName(request.agent);
    if (request.role !== undefined) validateAgentName(request.role, '--role');
    if (request.task !== undefined) validateTaskId(request.task);
    const token = newHolderToken();
    const claim = this.writer().newClaim(request.agent, proofOf(token), request.holder, leaseMsOf(request.leaseMs));
    const tried = new Map<string, string>();
    const live = await liveClaim(this, request, { claim, token, tried });
    if (live) return live;
    return this.cas.run<ClaimResult>({ what: `claim by ${request.agent}` }, (context) => claimStep(this, request, { claim, token, tried }, context));
  }

  private holder(request: HolderRequest, event: string, change: HolderChange): Promise<Task> {
    return this.cas.run<Task>({ what: `${event} of ${request.task}` }, (context) => holderStep(this, request, event, change, context));
  }

  heartbeat(request: HolderRequest): Promise<Task> {
    return this.holder(request, 'heartbeat', () => ({ state: 'claimed', subject: `heartbeat ${request.task} by ${request.agent}` }));
  }

  complete(request: CompleteRequest): Promise<Task> {
    return this.holder(request, 'complete', completeChange(this, request));
  }

  fail(request: FailRequest): Promise<Task> {
    const reason = request.reason.trim();
    if (reason === '') throw new CliError('E_USAGE', '--reason must say why the task failed');
    return this.holder(request, 'fail', ({ parsed }) => {
      const next = afterFailure(parsed.frontmatter, { agent: request.agent, task: request.task, reason });
      return { state: next.to, subject: `fail ${request.task} by ${request.agent}: ${next.to} (attempt ${next.frontmatter.attempts} of ${parsed.frontmatter.max_attempts}): ${reason}`, frontmatter: next.frontmatter };
    });
  }

  release(request: HolderRequest): Promise<Task> {
    return this.holder(request, 'release', ({ parsed }) => {
      const { to } = afterRelease(parsed.frontmatter, request);
      return { state: to, subject: `release ${request.task} by ${request.agent}: ${to}` };
    });
  }

  async reopen(request: ReopenRequest): Promise<Task> {
    validateTaskId(request.task);
    return this.cas.run<Task>({ what: `reopen of ${request.task}`, fetchFirst: true }, (context) => reopenStep(this, request, context));
  }

  async recover(options: RecoverOptions): Promise<RecoverReport> {
    if (options.task !== undefined) validateTaskId(options.task);
    return this.cas.run<RecoverReport>({ what: `recover on ${this.layout.remote}`, fetchFirst: true }, (context) => recoverStep(this, options, context));
  }
}
