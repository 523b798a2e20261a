import type { AgentExit } from '../agent-process.ts';
import type { PortBlock } from '../../git/port-leases.ts';
import { portEnvironment } from '../../git/worktree-setup.ts';

// What every agent CLI adapter receives and returns: the runner only sees outcomes, so a new CLI
// (codex, aider, a script) is one file that builds an argument vector and reads its result.

export interface AgentAttempt {
  taskId: string;
  title: string;
  role: string | undefined;
  prompt: string;
  /** The same prompt in a file, for agents that take a path instead of stdin. */
  promptFile: string;
  /** The task's file in the store. */
  taskFile: string;
  worktree: string;
  /** The worktree's own ports: the agent's dev servers and tests use them (PARALLEL_PORT). */
  ports?: PortBlock | undefined;
  attempt: number;
  timeoutMs: number;
  signal: AbortSignal;
  /** Called with the agent's pid (its process group id) once it runs. */
  onStart?: ((pid: number) => void) | undefined;
}

export type AttemptStatus = 'ok' | 'failed' | 'rate-limited' | 'timeout' | 'interrupted';

export interface AttemptUsage {
  costUsd?: number | undefined;
  inputTokens?: number | undefined;
  outputTokens?: number | undefined;
  turns?: number | undefined;
}

export interface AttemptOutcome {
  status: AttemptStatus;
  /** Why it did not succeed, in one line (exit code, timeout, stderr tail). */
  reason?: string | undefined;
  usage: AttemptUsage;
  exit: AgentExit;
}

export interface AgentAdapter {
  /** Short name for reports: "command", "claude". */
  name: string;
  /**
   * The prompt's last lines: how this kind of agent says it finished or could not. Default: the
   * exit status, which a script controls but a Claude session does not.
   */
  finishInstructions?: string;
  /**
   * Refuses, before anything runs, a plan whose tasks this agent cannot start (a role naming no
   * agent): every attempt would fail the same way, burning attempts and blocking dependents.
   */
  checkTasks?(tasks: ReadonlyArray<{ id: string; role?: string | undefined }>, planPath: string): void;
  run(attempt: AgentAttempt): Promise<AttemptOutcome>;
}

export const EXIT_STATUS_INSTRUCTIONS = 'Exit with status 0 when the task is done, non-zero when it cannot be done.';

/** Environment every agent gets, whatever the adapter. */
export function agentEnvironment(attempt: AgentAttempt): Record<string, string> {
  return {
    PARALLEL_TASK_ID: attempt.taskId,
    PARALLEL_TASK_FILE: attempt.taskFile,
    PARALLEL_WORKTREE: attempt.worktree,
    PARALLEL_PROMPT_FILE: attempt.promptFile,
    PARALLEL_ATTEMPT: String(attempt.attempt),
    ...portEnvironment(attempt.ports),
  };
}

// The wording CLIs print when a provider throttles them, anchored to status phrases: a bare "429"
// (a line number in a stack trace) or a test named "rate limit" must not turn an ordinary failure
// into an endless free retry. Only consulted after a non-zero exit.
const RATE_LIMIT_TEXT = /\b(?:HTTP|status|error|code)[ :=]*(?:429|529)\b|\((?:429|529)\)|\b(?:429|529) (?:Too Many Requests|Overloaded)|too many requests|rate[ -]?limit(?:ed| exceeded| reached| error)|overloaded_error|temporarily limiting requests/i;

export function looksRateLimited(text: string): boolean {
  return RATE_LIMIT_TEXT.test(text);
}

function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `…${flat.slice(-max)}` : flat;
}

/** Outcome from how the process ended, before any adapter-specific reading of its output. */
export function classifyExit(exit: AgentExit, timeoutMs: number): Pick<AttemptOutcome, 'status' | 'reason'> {
  if (exit.interrupted) return { status: 'interrupted', reason: 'interrupted: the runner was stopped' };
  if (exit.timedOut) {
    return { status: 'timeout', reason: `timed out after ${Math.round(timeoutMs / 1000)}s; the process group was killed${exit.stderrTail ? `; stderr: ${oneLine(exit.stderrTail)}` : ''}` };
  }
  if (exit.spawnError !== undefined) return { status: 'failed', reason: `agent could not start: ${exit.spawnError}` };
  if (exit.exitCode === 0) return { status: 'ok' };
  const how = exit.exitCode !== null ? `exit code ${exit.exitCode}` : `killed by ${exit.signal ?? 'a signal'}`;
  return { status: 'failed', reason: `agent failed (${how})${exit.stderrTail ? `; stderr: ${oneLine(exit.stderrTail)}` : ''}` };
}
