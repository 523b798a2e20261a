import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../errors.ts';
import type { Task, TaskBackend } from '../store/backend.ts';
import type { AgentAdapter } from './adapters/agent-adapter.ts';
import { runAttempt, type AttemptContext } from './attempt.ts';
import type { ProgressView } from './progress-view.ts';
import { buildRunReport, type RunReport } from './run-report.ts';
import { RunState } from './run-state.ts';
import { StoreWatch, type SharedRunOptions } from './shared-run.ts';
import type { TaskWorkspace } from './task-workspace.ts';

export { agentName, buildPrompt } from './prompt.ts';
export { MAX_FREE_RATE_LIMITS } from './attempt.ts';

// The headless runner: N agent slots pull tasks through the store (so `status`, hooks and a
// resumed run all see the same truth) and the scheduler decides which ready task goes next. The
// loop below has four steps, repeated until nothing can start, nothing runs and nothing is held
// elsewhere: on a shared store, re-list it when due (shared-run.ts); start what may start; prepare
// the next worktrees ahead; wait for something to happen.

export type RunnerStore = TaskBackend;

export interface RunnerOptions {
  /** Ids of the plan's tasks, in plan order. */
  taskIds: readonly string[];
  agents: number;
  timeoutMs: number;
  heartbeatMs: number;
  killGraceMs?: number;
  budgetUsd?: number | undefined;
  /** Rate-limit backoff; tests shorten it. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Aborted on Ctrl-C / SIGTERM: agents are terminated, claims released, worktrees kept. */
  signal: AbortSignal;
  /** Estimate of a task in ms (for priority); tasks without one count as equal. */
  estimateOf?: (task: Task) => number;
  /** The store is shared with runners on other machines: follow it (shared-run.ts). */
  shared?: SharedRunOptions | undefined;
}

export interface RunnerDeps {
  store: RunnerStore;
  workspace: TaskWorkspace;
  adapter: AgentAdapter;
  view: ProgressView;
  now?: () => number;
}

export interface RunOutcome {
  /** The tasks phase alone; run-plan.ts reports the whole run (publish, verify, cleanup too). */
  report: RunReport;
  interrupted: boolean;
  /** Final store state of every plan task. */
  tasks: Task[];
  state: RunState;
  startedAt: number;
  endedAt: number;
}

export async function runTasks(deps: RunnerDeps, options: RunnerOptions): Promise<RunOutcome> {
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const tasks = await planTasks(deps.store, options.taskIds);
  const state = new RunState(tasks, deps.workspace, {
    agents: options.agents, budgetUsd: options.budgetUsd, backoffBaseMs: options.backoffBaseMs, backoffMaxMs: options.backoffMaxMs,
    estimateOf: options.estimateOf ?? (() => 1), now, shared: options.shared !== undefined, signal: options.signal,
  });
  const watch = options.shared ? new StoreWatch(deps.store, state, deps.view, options.shared) : undefined;
  watch?.apply(tasks);
  const runDir = join(deps.store.localDir, 'runner');
  mkdirSync(runDir, { recursive: true });
  const ctx: AttemptContext = { state, store: deps.store, workspace: deps.workspace, adapter: deps.adapter, view: deps.view, runDir, timeoutMs: options.timeoutMs, heartbeatMs: options.heartbeatMs, leaseMs: options.shared?.staleAfterMs, signal: options.signal };

  deps.view.event({ event: 'run-start', total: tasks.length, to_run: tasks.length - state.scheduler.count('done'), agents: options.agents, adapter: deps.adapter.name });
  options.signal.addEventListener('abort', state.notify, { once: true });
  try {
    for (;;) {
      const stopping = options.signal.aborted || state.failure !== undefined;
      if (!stopping) watch?.poll();
      if (!stopping) startAttempts(ctx, options);
      if (!stopping) state.prepareAhead(options.agents);
      const idle = state.scheduler.next() === undefined && state.scheduler.count('held') === 0;
      if (state.running.size === 0 && (stopping || state.budget.exhausted || idle)) break;
      await state.nextEvent(watch?.dueIn());
    }
  } finally {
    options.signal.removeEventListener('abort', state.notify);
  }
  await watch?.settle();
  await state.settle();
  if (state.failure !== undefined) throw state.failure;

  const endedAt = state.attempts.reduce((latest, record) => Math.max(latest, record.endedAt), startedAt);
  const final = await finalStates(deps.store, tasks);
  const report = buildRunReport({
    agents: options.agents, adapter: deps.adapter.name, startedAt, endedAt,
    tasks: final.map((task) => ({ id: task.id, dependsOn: task.depends_on, state: task.state, commit: task.commit, waitMs: state.waitMs.get(task.id) })),
    attempts: state.attempts,
    budgetUsd: options.budgetUsd,
    budgetStopped: state.budget.exhausted,
    rateLimit: { hits: state.controller.rateLimitedCount, lowest_concurrency: state.controller.lowestLimit },
  });
  if (options.signal.aborted) deps.view.event({ event: 'interrupted', signal: String(options.signal.reason ?? 'SIGINT'), released: state.released });
  deps.view.event({ event: 'run-end', completed: report.counts.completed, total: report.counts.total, makespan_ms: report.makespan_ms });
  return { report, interrupted: options.signal.aborted, tasks: final, state, startedAt, endedAt };
}

/** The plan's tasks as the store has them, in plan order. */
async function planTasks(store: TaskBackend, ids: readonly string[]): Promise<Task[]> {
  const wanted = new Set(ids);
  const byId = new Map((await store.list()).tasks.filter((task) => wanted.has(task.id)).map((task) => [task.id, task]));
  const missing = ids.filter((id) => !byId.has(id));
  if (missing.length > 0) throw new CliError('E_NOT_FOUND', `tasks ${missing.join(', ')} are not in ${store.description}; publish the plan first`);
  return ids.map((id) => byId.get(id)!);
}

async function finalStates(store: TaskBackend, tasks: readonly Task[]): Promise<Task[]> {
  const byId = new Map((await store.list()).tasks.map((task) => [task.id, task]));
  return tasks.map((task) => byId.get(task.id) ?? task);
}

/** Hands ready tasks to free agent slots while the rate limiter and the budget allow. */
function startAttempts(ctx: AttemptContext, options: RunnerOptions): void {
  const { state } = ctx;
  while (state.hasFreeAgent() && state.controller.canStart(state.running.size, state.now())) {
    const next = state.scheduler.next();
    if (next === undefined) return;
    if (!state.budget.allowsStart()) {
      if (!state.budgetAnnounced) ctx.view.event({ event: 'budget-stop', spent_usd: state.budget.spentUsd, budget_usd: options.budgetUsd ?? 0 });
      state.budgetAnnounced = true;
      return;
    }
    const agent = state.startTask(next);
    state.track(agent, next, runAttempt(ctx, agent, next));
  }
}
