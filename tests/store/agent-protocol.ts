// The messages between the tests (and the soak) and tests/fixtures/store-agent.ts.

export type AgentOp = 'photo' | 'claim' | 'complete' | 'complete-again' | 'fail' | 'release' | 'heartbeat' | 'recover' | 'add' | 'publish' | 'reopen' | 'churn';

export interface AgentStep {
  op: AgentOp;
  /** Names the step for fault injection: the n-th filesystem call counts within one labelled step. */
  label?: string | undefined;
  agent?: string | undefined;
  /** The task a holder operation, a claim (optional) or a reopen is about. */
  task?: string | undefined;
  /** add: the new task's id and body. */
  id?: string | undefined;
  body?: string | undefined;
  maxAttempts?: number | undefined;
  summary?: string | undefined;
  reason?: string | undefined;
  staleAfterMs?: number | undefined;
  planFile?: string | undefined;
  /** churn: how many claims to try, and the seed of its choices. */
  rounds?: number | undefined;
  seed?: number | undefined;
}

export interface AgentFault {
  /** chaos: at every call of every step, at random, SIGKILL itself or block on its FIFO (held open, one byte per stall). */
  kind: 'kill' | 'stall' | 'error' | 'trace' | 'chaos';
  /** The step label and the 1-based filesystem call within it (ignored by trace). */
  label: string;
  n: number;
  /** stall, chaos: the FIFO whose read blocks the process until the test writes to it. */
  fifo?: string | undefined;
  /** error: the errno code the call throws instead of running. */
  code?: string | undefined;
  /** error: more calls of the same step that fail, each with its own code (a second fault while the first is handled). */
  also?: { n: number; code: string }[] | undefined;
  /** chaos: the chance per call to die and to stop, and the seed of the dice. */
  killRate?: number | undefined;
  stallRate?: number | undefined;
  seed?: number | undefined;
}

export interface AgentRun {
  run: number;
  dir: string;
  log: string;
  steps: AgentStep[];
  fault?: AgentFault | undefined;
}

/** One line of an agent's log: an operation begun, its outcome, a traced call, or the fault firing. */
export interface AgentRecord {
  op: AgentOp | 'trace' | 'fault';
  label?: string | undefined;
  begin?: boolean | undefined;
  ok?: boolean | undefined;
  agent?: string | undefined;
  id?: string | undefined;
  token?: string | undefined;
  state?: string | undefined;
  attempts?: number | undefined;
  /** claim: how many claim files of the id the claimer saw right after winning (more than 1 is a double holder). */
  holders?: number | undefined;
  code?: string | undefined;
  message?: string | undefined;
  recovered?: string[] | undefined;
  repaired?: string[] | undefined;
  reconciled?: string[] | undefined;
  published?: string[] | undefined;
  n?: number | undefined;
  call?: string | undefined;
  target?: string | undefined;
  kind?: string | undefined;
  /** photo: every task file's content, by state/name. */
  files?: Record<string, string> | undefined;
}
