import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write.ts';
import type { Task, TaskBackend } from '../store/backend.ts';
import type { AgentAdapter, AttemptOutcome } from './adapters/agent-adapter.ts';
import { claimTask, failClaim, isCode, keepClaimAlive, type Holder } from './attempt-claim.ts';
import { forgetAgentProcess, recordAgentProcess } from './orphan-agents.ts';
import type { ProgressView } from './progress-view.ts';
import { buildPrompt } from './prompt.ts';
import type { AttemptPhases, AttemptRecord } from './run-report.ts';
import type { RunState } from './run-state.ts';
import type { PreparedWorkspace, TaskWorkspace } from './task-workspace.ts';

// One attempt, as the steps a person would take: claim the task, get its worktree, run the agent,
// then settle the claim with exactly one store transition: complete with evidence, fail with a
// reason, or release (rate limit, Ctrl-C) without counting an attempt. Heartbeats keep the claim
// from the claim to its settling. Each step's time is kept, so the report can tell the agent's
// work from the orchestration around it.

export interface AttemptContext {
  state: RunState;
  store: TaskBackend;
  workspace: TaskWorkspace;
  adapter: AgentAdapter;
  view: ProgressView;
  runDir: string;
  timeoutMs: number;
  heartbeatMs: number;
  /** The lease the claims are heartbeated under (a shared store's --stale-after): recorded in each claim. */
  leaseMs?: number | undefined;
  signal: AbortSignal;
}

/** Rate limits in a row on one task before the next one counts as that task's failure. */
export const MAX_FREE_RATE_LIMITS = 8;

export async function runAttempt(ctx: AttemptContext, agent: string, wanted: string): Promise<void> {
  const { state } = ctx;
  const started = state.now();
  const phases: AttemptPhases = { claimMs: 0, checkoutMs: 0, agentMs: 0, evidenceMs: 0, completeMs: 0 };
  const timed = async <T>(phase: keyof AttemptPhases, step: () => Promise<T>): Promise<T> => {
    const from = state.now();
    try {
      return await step();
    } finally {
      phases[phase] += state.now() - from;
    }
  };

  const claim = await timed('claimMs', () => claimTask(state, ctx.store, agent, wanted, ctx.leaseMs));
  if (!claim) return;
  const holder: Holder = { agent, task: claim.task.id, token: claim.token };
  const lease = keepClaimAlive(ctx.store, holder, ctx.heartbeatMs);
  try {
    await attemptClaimed(ctx, claim.task, holder, { started, phases, timed, lease });
  } finally {
    await lease.stop();
  }
}

interface Claimed {
  started: number;
  phases: AttemptPhases;
  timed: <T>(phase: keyof AttemptPhases, step: () => Promise<T>) => Promise<T>;
  lease: { stop(): Promise<void> };
}

async function attemptClaimed(ctx: AttemptContext, task: Task, holder: Holder, claimed: Claimed): Promise<void> {
  const { state, view } = ctx;
  const { started, phases, timed, lease } = claimed;
  const agent = holder.agent;
  const attempt = task.attempts + 1;
  const record = (status: AttemptRecord['status'], reason?: string, outcome?: AttemptOutcome): AttemptRecord => {
    const entry: AttemptRecord = { task: task.id, attempt, agent, startedAt: started, endedAt: state.now(), status, reason, usage: outcome?.usage ?? {}, phases };
    state.attempts.push(entry);
    return entry;
  };
  const fail = async (entry: AttemptRecord, reason: string, countAttempt = true): Promise<void> => {
    await lease.stop();
    const after = countAttempt ? await timed('completeMs', () => failClaim(ctx.store, holder, reason)) : undefined;
    entry.endedAt = state.now();
    // No answer: the claim was taken from us, and whoever took it decides (state.lose).
    const blocked = after === undefined ? !state.shared : after.state === 'blocked';
    if (after === undefined) state.lose(task.id);
    else if (blocked) state.scheduler.block(task.id);
    else state.scheduler.requeue(task.id);
    view.event({ event: 'task-fail', task: task.id, agent, attempt, ms: entry.endedAt - started, reason, blocked });
  };
  // Ctrl-C: not the task's fault, so the claim goes back uncounted, and the worktree stays as it is
  // for the resumed run.
  const giveBack = async (reason: string | undefined, outcome?: AttemptOutcome): Promise<void> => {
    record('interrupted', reason, outcome);
    await lease.stop();
    await ctx.store.release(holder).catch(() => {});
    state.released.push(task.id);
    state.scheduler.requeue(task.id);
  };
  view.event({ event: 'task-start', task: task.id, agent, attempt });

  let prepared: PreparedWorkspace;
  try {
    prepared = await timed('checkoutMs', () => state.awaitWorkspace(task.id));
  } catch (error) {
    const reason = `could not prepare the worktree: ${(error as Error).message}`;
    if (ctx.signal.aborted) await giveBack(reason);
    else await fail(record('setup-failed', reason), reason);
    return;
  }

  const agentStarted = state.now();
  const outcome = await runAgent(ctx, task, attempt, prepared, holder);
  // The agent process's own time when it reports one; the adapter call's otherwise.
  phases.agentMs = outcome.exit.durationMs > 0 ? outcome.exit.durationMs : state.now() - agentStarted;
  state.budget.record(outcome.usage.costUsd);

  if (outcome.status === 'interrupted') {
    await giveBack(outcome.reason, outcome);
    return;
  }
  if (outcome.status === 'rate-limited') {
    const entry = record('rate-limited', outcome.reason, outcome);
    if (consecutiveRateLimits(state.attempts, task.id) >= MAX_FREE_RATE_LIMITS) {
      // A throttle that never lifts for this task is treated as a failure, so a misread error or
      // an endless 429 can never loop forever without counting.
      const reason = `rate limited ${MAX_FREE_RATE_LIMITS} times in a row: ${outcome.reason}`;
      entry.status = 'failed';
      entry.reason = reason;
      await fail(entry, reason);
      return;
    }
    // Not the task's fault: keep what it did on its branch and give the claim back.
    await timed('evidenceMs', () => ctx.workspace.saveProgress(prepared, `parallel-agents: work in progress on ${task.id} (rate limited, attempt ${attempt})`).catch(() => undefined));
    await lease.stop();
    await timed('completeMs', () => ctx.store.release(holder).catch(() => undefined));
    entry.endedAt = state.now();
    state.scheduler.requeue(task.id);
    const decision = state.controller.onRateLimited(state.now());
    view.event({ event: 'rate-limited', task: task.id, agent, limit: decision.limit, delay_ms: decision.delayMs });
    return;
  }
  if (outcome.status !== 'ok') {
    await fail(record(outcome.status, outcome.reason ?? outcome.status, outcome), outcome.reason ?? outcome.status);
    return;
  }
  await completeTask(ctx, task, holder, prepared, { attempt, started, timed, record, fail, outcome, lease });
}

async function runAgent(ctx: AttemptContext, task: Task, attempt: number, prepared: PreparedWorkspace, holder: Holder): Promise<AttemptOutcome> {
  const prompt = buildPrompt(task, prepared, ctx.adapter.finishInstructions);
  const promptFile = join(ctx.runDir, `${task.id}.attempt-${attempt}.prompt.md`);
  writeFileAtomic(promptFile, prompt);
  try {
    return await ctx.adapter.run({
      taskId: task.id, title: task.title, role: task.role, prompt, promptFile, taskFile: task.file,
      worktree: prepared.path, ports: prepared.ports, attempt, timeoutMs: ctx.timeoutMs, signal: ctx.signal,
      onStart: (pid: number) => recordAgentProcess(ctx.runDir, task.id, pid),
    });
  } finally {
    forgetAgentProcess(ctx.runDir, task.id);
  }
}

interface Settle {
  attempt: number;
  started: number;
  timed: <T>(phase: keyof AttemptPhases, step: () => Promise<T>) => Promise<T>;
  record: (status: AttemptRecord['status'], reason?: string, outcome?: AttemptOutcome) => AttemptRecord;
  fail: (entry: AttemptRecord, reason: string, countAttempt?: boolean) => Promise<void>;
  outcome: AttemptOutcome;
  lease: { stop(): Promise<void> };
}

/** The agent exited 0: evidence as `complete` gathers it (commit, branch, scope), then the transition. */
async function completeTask(ctx: AttemptContext, task: Task, holder: Holder, prepared: PreparedWorkspace, step: Settle): Promise<void> {
  const { state, view } = ctx;
  let commit: string | undefined;
  try {
    commit = await step.timed('evidenceMs', () => ctx.workspace.evidence(task, prepared));
  } catch (error) {
    if (!isCode(error, 'E_EVIDENCE')) throw error;
    const reason = `completion refused: ${(error as Error).message}`;
    await step.fail(step.record('failed', reason, step.outcome), reason);
    return;
  }
  try {
    // The branch and base travel with the evidence: a store shared through a git remote publishes them.
    const evidence = commit ? { branch: prepared.branch, base: prepared.base } : undefined;
    await step.lease.stop();
    await step.timed('completeMs', () => ctx.store.complete({ ...holder, commit, summary: `${ctx.adapter.name} agent, attempt ${step.attempt}`, evidence }));
  } catch (error) {
    if (!isCode(error, 'E_NOT_HOLDER')) throw error;
    // The claim was taken back meanwhile (recovered as stale): nothing of ours to settle.
    const reason = `completion refused: ${(error as Error).message}`;
    const entry = step.record('failed', reason, step.outcome);
    await step.fail(entry, reason, false);
    return;
  }
  const entry = step.record('ok', undefined, step.outcome);
  state.controller.onSuccess();
  if (commit) state.completedCommits.set(task.id, commit);
  state.scheduler.complete(task.id);
  view.event({ event: 'task-complete', task: task.id, agent: holder.agent, attempt: step.attempt, ms: entry.endedAt - step.started, commit: commit ?? '' });
}

function consecutiveRateLimits(attempts: readonly AttemptRecord[], id: string): number {
  let count = 0;
  for (let i = attempts.length - 1; i >= 0; i--) {
    const record = attempts[i]!;
    if (record.task !== id) continue;
    if (record.status !== 'rate-limited') break;
    count++;
  }
  return count;
}
