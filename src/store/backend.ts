import type { ProcessIdentity } from '../process/liveness.ts';

// The protocol's public shape. Everything outside src/store/ that coordinates agents goes through
// TaskBackend, so the local folder store and the store shared through a git remote are
// interchangeable: commands, hooks and the runner never know which one they hold.

export const TASK_STATES = ['available', 'claimed', 'completed', 'failed', 'blocked'] as const;
export type TaskState = (typeof TASK_STATES)[number];

export interface TaskInput {
  id: string;
  title: string;
  role?: string | undefined;
  /** Write scope: repo-relative paths or globs. */
  files?: string[] | undefined;
  /** Read scope (plans only; informs ordering and sparse checkouts). */
  reads?: string[] | undefined;
  depends_on?: string[] | undefined;
  max_attempts?: number | undefined;
  /** Estimate such as "20m" (plans only; used for the critical path). */
  estimate?: string | undefined;
  /** Shell command that checks the work, run by `parallel-agents check` in the task's worktree (plans only). */
  check?: string | undefined;
  /** Name of the plan that published the task. */
  plan?: string | undefined;
  /** The instructions: Markdown body of the task file. */
  body?: string | undefined;
}

/** The long-lived process that holds a claim (an agent session, the runner): its death ends the claim. */
export type HolderProcess = ProcessIdentity;

export interface ClaimInfo {
  agent: string;
  /** Public name of this claim generation (shown by status); the secret token proves holding it. */
  lease: string;
  /** When the claim was taken (ms since epoch, this machine's clock; on a shared store, when this machine first saw it). */
  claimedAt: number;
  /** On a shared store, when the claimer says it took the claim, by its own clock (ISO): for people only, never for ages. */
  claimerStamp?: string | undefined;
  /** Last sign of life: the later of the claim and the last heartbeat (ms since epoch, this machine's clock). */
  heartbeatAt: number;
  holder?: HolderProcess | undefined;
  /** Why recover would take this claim back now; absent while the claim is live. */
  stale?: StaleClaim | undefined;
}

export interface StaleClaim {
  /** `dead`: the holder process is gone; `expired`: no sign of life for longer than the lease. */
  kind: 'dead' | 'expired';
  reason: string;
}

export interface Task {
  id: string;
  title: string;
  role?: string | undefined;
  files: string[];
  reads: string[];
  depends_on: string[];
  attempts: number;
  max_attempts: number;
  estimate?: string | undefined;
  check?: string | undefined;
  plan?: string | undefined;
  commit?: string | undefined;
  summary?: string | undefined;
  completed_by?: string | undefined;
  completed_at?: string | undefined;
  /** The proof (token hash) of the claim a completion was made under: a complete retried after its answer was lost is recognised by it. */
  completed_proof?: string | undefined;
  last_error?: string | undefined;
  /** The commit the completed work started from, when the store keeps it (a shared store: verify on another machine has no worktree record). */
  base?: string | undefined;
  body: string;
  state: TaskState;
  /** Where the task is kept, for people: a file path (local store) or a ref (git store). */
  file: string;
  claim?: ClaimInfo | undefined;
}

export interface TaskProblem {
  file: string;
  message: string;
}

export interface ClaimRequest {
  agent: string;
  role?: string | undefined;
  /** Claim this task only (a scheduler that picks its own order). */
  task?: string | undefined;
  /** The process that holds the claim; when it dies, recover takes the claim back at once. */
  holder?: HolderProcess | undefined;
  /** The lease the holder heartbeats under (a run's --stale-after): a shared store records it, and its recoverers wait at least that long. */
  leaseMs?: number | undefined;
}

export interface HolderRequest {
  agent: string;
  task: string;
  /** The secret token claim returned: proof of holding this exact claim. */
  token?: string | undefined;
  /**
   * Set only by code that has itself verified the caller is the subagent bound to `agent` (the
   * CLI checking the identity a hook injected, or a hook acting for its own subagent). Without
   * it or a token, holder operations are refused.
   */
  identityVerified?: boolean | undefined;
  /**
   * The session process of that verified caller. A store shared across machines accepts the
   * identity only for a claim this very process holds on this machine (holder-proof.ts heldHere).
   */
  caller?: HolderProcess | undefined;
}

export interface CompleteRequest extends HolderRequest {
  commit?: string | undefined;
  summary?: string | undefined;
  /** The task's branch and the commit it started from (its worktree record): a shared store publishes the branch with the record. */
  evidence?: { branch: string; base: string } | undefined;
}

export interface FailRequest extends HolderRequest {
  reason: string;
}

export interface ReopenRequest {
  task: string;
  /** The completed commit the caller judged; a task completed again since is left alone. */
  commit: string | undefined;
  reason: string;
}

export interface ClaimResult {
  task: Task;
  /** Secret: pass it back to heartbeat, complete, fail and release. Shown once, never stored in clear. */
  token: string;
}

export interface RecoverOptions {
  /** A claim with no sign of life for this long is taken back (default: the lease, 30 minutes). */
  staleAfterMs: number;
  /** Take back this one claim now, whatever its lease says (an operator's decision). */
  task?: string | undefined;
  force?: boolean | undefined;
  /** The time leases are judged at (tests; default now). */
  now?: number | undefined;
}

export interface RecoveredClaim {
  id: string;
  agent: string;
  reason: string;
  to: 'failed' | 'blocked';
  attempts: number;
}

export interface RecoverReport {
  recovered: RecoveredClaim[];
  /** Transitions a crash interrupted, finished; leftovers of dead writers, removed. */
  repaired: string[];
  /** Journal lines written so the journal agrees with the tasks again. */
  reconciled: string[];
}

export interface InitResult {
  /** What `status` names as the store. */
  store: string;
  created: boolean;
  /** Lines were added to .git/info/exclude (the store, .parallel/). */
  exclude_added: boolean;
}

/** What `verify` needs from a store shared through a git remote to publish its merge there. */
export interface SharedRemote {
  /** The remote's name, e.g. origin. */
  readonly remote: string;
  /** Fetches one branch; its commit on the remote, or undefined when the remote has no such branch. */
  fetchBranch(branch: string): Promise<string | undefined>;
  /** Moves the branch on the remote from `expected` to its descendant `next` only if it still is `expected` (a lease); false when someone pushed meanwhile. */
  publishBranch(branch: string, expected: string, next: string): Promise<boolean>;
  /**
   * Takes the store-wide verify lock, renewed every third of `leaseMs` (default the 30-minute lease),
   * or throws E_REFUSED naming who holds it (details: `reason` VERIFY_BUSY, `holder`, `takeover_in_ms`).
   */
  lockVerify(options?: { leaseMs?: number | undefined }): Promise<{ release(): Promise<void> }>;
}

/** The `reason` in the details of lockVerify's refusal: another verify holds the lock now. */
export const VERIFY_BUSY = 'verify-busy';

export interface TaskBackend {
  /** The store as people should read it: "_tasks/ at <dir>" or "git:origin (<url>)". */
  readonly description: string;
  /** Present when the store is shared through a git remote (verify then publishes its merge there). */
  readonly shared?: SharedRemote | undefined;
  /** This machine's folder for records that never travel: worktree records, subagent bindings, runner files, the run report. */
  readonly localDir: string;
  exists(): Promise<boolean>;
  init(): Promise<InitResult>;
  /** Adds tasks atomically, each at most once; dependencies may name tasks of the same batch. */
  add(inputs: TaskInput[]): Promise<Task[]>;
  /** Every task, plus what could not be read (which never blocks the rest); claims say whether they are stale after `staleAfterMs` (default: the lease). */
  list(options?: { staleAfterMs?: number }): Promise<{ tasks: Task[]; problems: TaskProblem[] }>;
  get(id: string): Promise<Task | undefined>;
  /**
   * The tasks an agent name holds right now, here. The local store's folder is this machine's, and
   * live agents' names are unique in it. A shared store counts only claims held on this machine,
   * by `caller` when given (the session process of a hook-verified agent): names repeat across machines.
   */
  heldBy(agent: string, caller?: HolderProcess): Promise<Task[]>;
  claim(request: ClaimRequest): Promise<ClaimResult>;
  heartbeat(request: HolderRequest): Promise<Task>;
  complete(request: CompleteRequest): Promise<Task>;
  fail(request: FailRequest): Promise<Task>;
  release(request: HolderRequest): Promise<Task>;
  /** A completed task whose work verify refused goes back to failed (an attempt counted). */
  reopen(request: ReopenRequest): Promise<Task>;
  recover(options: RecoverOptions): Promise<RecoverReport>;
}

export interface TaskEvent {
  ts: string;
  event: 'add' | 'claim' | 'heartbeat' | 'complete' | 'fail' | 'block' | 'release' | 'recover' | 'reopen' | 'repair' | 'reconcile';
  task: string;
  agent?: string | undefined;
  attempt?: number | undefined;
  reason?: string | undefined;
  commit?: string | undefined;
  [key: string]: unknown;
}
