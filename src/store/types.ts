import type { ProcessIdentity } from '../process/liveness.ts';


// The protocol's public shape. Everything that coordinates agents goes through TaskBackend, so a
// later backend (several machines through a git remote) can replace the local-disk one.

export const TASK_STATES = ['available', 'claimed', 'completed', 'failed', 'blocked'] as const;
export type TaskState = (typeof TASK_STATES)[number];

export interface TaskInput {
  id: string;
  title: string;
  role?: string | undefined;
  /** Write scope: repo-relative paths or globs. */
  files?: string[] | undefined;
  /** Read scope (plans only; informs ordering). */
  reads?: string[] | undefined;
  depends_on?: string[] | undefined;
  max_attempts?: number | undefined;
  /** Estimate such as "20m" (plans only; used for the critical path). */
  estimate?: string | undefined;
  /** Name of the plan that published the task. */
  plan?: string | undefined;
  /** The instructions: Markdown body of the task file. */
  body?: string | undefined;
}

/** The long-lived process that holds a claim (an agent session, the runner). */
export type HolderProcess = ProcessIdentity;

export interface ClaimInfo {
  agent: string;
  token: string;
  claimedAt: number;
  /** Last sign of life: the later of the claim and the last heartbeat (ms since epoch). */
  heartbeatAt: number;
  holder?: HolderProcess | undefined;
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
  plan?: string | undefined;
  commit?: string | undefined;
  summary?: string | undefined;
  completed_by?: string | undefined;
  completed_at?: string | undefined;
  last_error?: string | undefined;
  body: string;
  state: TaskState;
  /** Absolute path of the task file. */
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
  /** Long-lived process that holds the claim (e.g. the agent session); its death makes the claim stale. */
  holderPid?: number | undefined;
  /** Claim this task only (a scheduler that picks its own order). */
  task?: string | undefined;
}

export interface HolderRequest {
  agent: string;
  task: string;
  /** The token printed by claim: when given, only that exact claim is accepted. */
  token?: string | undefined;
}

export interface CompleteRequest extends HolderRequest {
  commit?: string | undefined;
  summary?: string | undefined;
}

export interface FailRequest extends HolderRequest {
  reason: string;
}

export interface ClaimResult {
  task: Task;
  token: string;
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
  /** Transitions a crash interrupted, finished or rolled back. */
  repaired: string[];
}

export interface TaskBackend {
  claim(request: ClaimRequest): Promise<ClaimResult>;
  heartbeat(request: HolderRequest): Promise<Task>;
  complete(request: CompleteRequest): Promise<Task>;
  fail(request: FailRequest): Promise<Task>;
  release(request: HolderRequest): Promise<Task>;
  recover(options: { staleAfterMs: number; now?: number }): Promise<RecoverReport>;
  list(): Promise<{ tasks: Task[]; problems: TaskProblem[] }>;
}

export interface TaskEvent {
  ts: string;
  event: 'add' | 'claim' | 'heartbeat' | 'complete' | 'fail' | 'block' | 'release' | 'recover' | 'repair';
  task: string;
  agent?: string | undefined;
  attempt?: number | undefined;
  reason?: string | undefined;
  commit?: string | undefined;
  [key: string]: unknown;
}
