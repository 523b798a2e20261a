import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../errors.ts';
import { writeFileAtomic } from '../fs/atomic-write.ts';
import type { ClaimResult, Task, TaskBackend } from '../store/backend.ts';
import { EXIT_STATUS_INSTRUCTIONS, type AgentAdapter, type AttemptOutcome } from './adapters/agent-adapter.ts';
import { Budget } from './budget.ts';
import type { ProgressView } from './progress-view.ts';
import { ConcurrencyController } from './rate-limit.ts';
import { buildRunReport, type AttemptRecord, type RunReport } from './run-report.ts';
import { DependencyScheduler } from './scheduler.ts';
import type { PreparedWorkspace, TaskWorkspace } from './task-workspace.ts';
import { forgetAgentProcess, recordAgentProcess } from './orphan-agents.ts';
import { describeProcess } from '../process/liveness.ts';

// The headless runner: N agent slots pull tasks through the store (so `status`, hooks and a
// resumed run all see the same truth), the scheduler decides which ready task goes next, and every
// attempt ends in exactly one store transition: complete with its commit, fail with a reason, or
// release (rate limit, Ctrl-C) without counting an attempt.

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
}

export interface RunnerDeps {
  store: RunnerStore;
  workspace: TaskWorkspace;
  adapter: AgentAdapter;
  view: ProgressView;
  now?: () => number;
}

export interface RunOutcome {
  report: RunReport;
  interrupted: boolean;
  /** Final store state of every plan task. */
  tasks: Task[];
}

export function agentName(slot: number): string {
  return `agent-${slot}`;
}

export function buildPrompt(task: Task, workspace: PreparedWorkspace, finishInstructions = EXIT_STATUS_INSTRUCTIONS): string {
  const scope = task.files.length > 0 ? task.files.join(', ') : '(no declared scope: keep changes minimal)';
  return [
    `# Task ${task.id}: ${task.title}`,
    '',
    task.body.trim(),
    '',
    '---',
    `You are working in a git worktree at ${workspace.path} on branch ${workspace.branch}.`,
    'It is your current directory: run every command there, without cd.',
    `Only change files in this task's write scope: ${scope}.`,
    'Commit your work when done (anything left uncommitted is committed for you).',
    finishInstructions,
    '',
  ].join('\n');
}

/** Rate limits in a row on one task before the next one counts as that task's failure. */
export const MAX_FREE_RATE_LIMITS = 8;

function isCode(error: unknown, ...codes: string[]): boolean {
  return error instanceof CliError && codes.includes(error.code);
}

export async function runTasks(deps: RunnerDeps, options: RunnerOptions): Promise<RunOutcome> {
  const { store, workspace, adapter, view } = deps;
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const planIds = new Set(options.taskIds);
  const listed = (await store.list()).tasks.filter((task) => planIds.has(task.id));
  const byId = new Map(listed.map((task) => [task.id, task]));
  const missing = options.taskIds.filter((id) => !byId.has(id));
  if (missing.length > 0) throw new CliError('E_NOT_FOUND', `tasks ${missing.join(', ')} are not in ${store.description}; publish the plan first`);
  const ordered = options.taskIds.map((id) => byId.get(id)!);
  const estimateOf = options.estimateOf ?? (() => 1);
  const scheduler = new DependencyScheduler(
    ordered.map((task) => ({ id: task.id, dependsOn: task.depends_on, estimateMs: estimateOf(task) })),
    ordered.filter((task) => task.state === 'completed').map((task) => task.id),
  );
  for (const task of ordered) if (task.state === 'blocked') scheduler.block(task.id);

  const controller = new ConcurrencyController({
    max: options.agents,
    ...(options.backoffBaseMs !== undefined ? { baseDelayMs: options.backoffBaseMs } : {}),
    ...(options.backoffMaxMs !== undefined ? { maxDelayMs: options.backoffMaxMs } : {}),
  });
  const budget = new Budget(options.budgetUsd);
  const attempts: AttemptRecord[] = [];
  const consecutiveRateLimits = (id: string): number => {
    let count = 0;
    for (let i = attempts.length - 1; i >= 0; i--) {
      const record = attempts[i]!;
      if (record.task !== id) continue;
      if (record.status !== 'rate-limited') break;
      count++;
    }
    return count;
  };
  const freeAgents = Array.from({ length: options.agents }, (_, index) => agentName(index + 1));
  const running = new Set<Promise<void>>();
  const released: string[] = [];
  const runDir = join(store.localDir, 'runner');
  mkdirSync(runDir, { recursive: true });

  let wake: () => void = () => {};
  let wakeup = new Promise<void>((resolve) => (wake = resolve));
  const notify = (): void => {
    wake();
    wakeup = new Promise<void>((resolve) => (wake = resolve));
  };
  options.signal.addEventListener('abort', notify, { once: true });

  view.event({ event: 'run-start', total: ordered.length, toRun: ordered.length - scheduler.count('done'), agents: options.agents, adapter: adapter.name });

  // Task time runs from the claim to the final store transition (commit and complete included):
  // orchestration is part of the work, so the report's utilization and overhead are honest.
  async function attemptTask(agent: string, wanted: string): Promise<void> {
    const tracked: { record?: AttemptRecord } = {};
    try {
      await attemptTaskSteps(agent, wanted, tracked);
    } finally {
      if (tracked.record) tracked.record.endedAt = now();
    }
  }

  async function attemptTaskSteps(agent: string, wanted: string, tracked: { record?: AttemptRecord }): Promise<void> {
    const started = now();
    let claim: ClaimResult;
    try {
      claim = await store.claim({ agent, holder: describeProcess(process.pid), task: wanted });
    } catch (error) {
      if (!isCode(error, 'E_NOTHING_CLAIMABLE', 'E_NO_WORK')) throw error;
      // Someone outside this run holds it (or finished it): leave it to them.
      scheduler.block(wanted);
      return;
    }
    const id = claim.task.id;
    if (id !== wanted) {
      scheduler.requeue(wanted);
      if (scheduler.stateOf(id) !== 'ready') {
        await store.release({ agent, task: id, token: claim.token });
        scheduler.block(wanted);
        return;
      }
      scheduler.start(id);
    }
    const task = claim.task;
    const attempt = task.attempts + 1;
    const holder = { agent, task: id, token: claim.token };
    view.event({ event: 'task-start', task: id, agent, attempt });

    let prepared: PreparedWorkspace;
    try {
      starting++;
      try {
        prepared = await prepareWorkspace(id, task.depends_on);
      } finally {
        starting--;
        // Preparing ahead waits for started tasks (they share one repo lock): let it go now.
        notify();
      }
    } catch (error) {
      const reason = `could not prepare the worktree: ${(error as Error).message}`;
      tracked.record = { task: id, attempt, agent, startedAt: started, endedAt: now(), status: 'setup-failed', reason, usage: {} };
      attempts.push(tracked.record);
      finishFailure(id, agent, attempt, started, reason, await failClaim(holder, reason));
      return;
    }
    const prompt = buildPrompt(task, prepared, adapter.finishInstructions);
    const promptFile = join(runDir, `${id}.attempt-${attempt}.prompt.md`);
    writeFileAtomic(promptFile, prompt);
    // Keep the lease fresh while the agent works; a failed heartbeat means the claim was taken
    // from us (recovered as stale): the attempt's result will then be refused by the store.
    const heartbeat = setInterval(() => {
      store.heartbeat(holder).catch(() => {});
    }, options.heartbeatMs);
    heartbeat.unref();
    let outcome: AttemptOutcome;
    try {
      outcome = await adapter.run({
        taskId: id, title: task.title, role: task.role, prompt, promptFile, taskFile: task.file,
        worktree: prepared.path, ports: prepared.ports, attempt, timeoutMs: options.timeoutMs, signal: options.signal,
        onStart: (pid: number) => recordAgentProcess(runDir, id, pid),
      });
    } finally {
      clearInterval(heartbeat);
      forgetAgentProcess(runDir, id);
    }
    const ended = now();
    budget.record(outcome.usage.costUsd);
    tracked.record = { task: id, attempt, agent, startedAt: started, endedAt: ended, status: outcome.status, reason: outcome.reason, usage: outcome.usage };
    attempts.push(tracked.record);

    if (outcome.status === 'interrupted') {
      // Ctrl-C: the work in the worktree stays as it is for the resumed run.
      await store.release(holder).catch(() => {});
      released.push(id);
      scheduler.requeue(id);
      return;
    }
    if (outcome.status === 'rate-limited' && consecutiveRateLimits(id) >= MAX_FREE_RATE_LIMITS) {
      // A throttle that never lifts for this task is treated as a failure, so a misread error or
      // an endless 429 can never loop forever without counting.
      const reason = `rate limited ${MAX_FREE_RATE_LIMITS} times in a row: ${outcome.reason}`;
      const capped = { ...tracked.record, status: 'failed' as const, reason };
      attempts[attempts.indexOf(tracked.record)] = capped;
      tracked.record = capped;
      finishFailure(id, agent, attempt, started, reason, await failClaim(holder, reason));
      return;
    }
    if (outcome.status === 'rate-limited') {
      // Not the task's fault: keep what it did (committed on its branch) and give the claim back.
      // Best effort: if the commit fails, the changes still sit in the worktree for the retry.
      await workspace.commitLeftovers(prepared, `parallel-agents: work in progress on ${id} (rate limited, attempt ${attempt})`).catch(() => undefined);
      await store.release(holder).catch(() => {});
      scheduler.requeue(id);
      const decision = controller.onRateLimited(now());
      view.event({ event: 'rate-limited', task: id, agent, limit: decision.limit, delayMs: decision.delayMs });
      return;
    }
    if (outcome.status === 'ok') {
      let head: string;
      try {
        head = await workspace.commitLeftovers(prepared, `${id}: ${task.title}`);
      } catch (error) {
        const reason = `could not commit the agent's changes: ${(error as Error).message}`;
        finishFailure(id, agent, attempt, started, reason, await failClaim(holder, reason));
        return;
      }
      if (head === prepared.base) {
        const reason = 'agent exited 0 but changed nothing: no commit to use as evidence';
        finishFailure(id, agent, attempt, started, reason, await failClaim(holder, reason));
        return;
      }
      try {
        await store.complete({ ...holder, commit: head, summary: `${adapter.name} agent, attempt ${attempt}` });
      } catch (error) {
        if (!isCode(error, 'E_NOT_HOLDER', 'E_EVIDENCE')) throw error;
        const reason = `completion refused: ${(error as Error).message}`;
        const after = isCode(error, 'E_EVIDENCE') ? await failClaim(holder, reason) : undefined;
        finishFailure(id, agent, attempt, started, reason, after);
        return;
      }
      controller.onSuccess();
      completedCommits.set(id, head);
      scheduler.complete(id);
      view.event({ event: 'task-complete', task: id, agent, attempt, ms: now() - started, commit: head });
      return;
    }
    const reason = outcome.reason ?? outcome.status;
    finishFailure(id, agent, attempt, started, reason, await failClaim(holder, reason));
  }

  /** Records the failure; undefined when the claim was already taken from us (recovered as stale). */
  async function failClaim(holder: { agent: string; task: string; token: string }, reason: string): Promise<Task | undefined> {
    try {
      return await store.fail({ ...holder, reason });
    } catch (error) {
      if (isCode(error, 'E_NOT_HOLDER', 'E_NOT_FOUND')) return undefined;
      throw error;
    }
  }

  const completedCommits = new Map<string, string>();
  for (const task of listed) if (task.state === 'completed' && task.commit) completedCommits.set(task.id, task.commit);
  function finalCommitOf(id: string): string | undefined {
    return completedCommits.get(id);
  }

  // Worktrees of ready tasks are created ahead, while the agents work, so a free agent starts at
  // once instead of waiting on git. One promise per task: the attempt awaits the same one.
  const preparing = new Map<string, Promise<PreparedWorkspace>>();
  function prepareWorkspace(id: string, dependsOn: readonly string[]): Promise<PreparedWorkspace> {
    let pending = preparing.get(id);
    if (!pending) {
      const depCommits = dependsOn.map((dep) => finalCommitOf(dep)).filter((commit): commit is string => commit !== undefined);
      pending = workspace.prepare(id, depCommits);
      preparing.set(id, pending);
      // A failed preparation is retried by the next attempt, not cached.
      pending.catch(() => preparing.delete(id));
    }
    return pending;
  }
  let starting = 0;
  function prepareAhead(): void {
    if (starting > 0) return;
    for (const id of scheduler.ready().slice(0, options.agents)) {
      if (!preparing.has(id)) prepareWorkspace(id, byId.get(id)!.depends_on).catch(() => {});
    }
  }

  function finishFailure(id: string, agent: string, attempt: number, started: number, reason: string, after: Task | undefined): void {
    const blocked = after === undefined || after.state === 'blocked';
    if (blocked) scheduler.block(id);
    else scheduler.requeue(id);
    view.event({ event: 'task-fail', task: id, agent, attempt, ms: now() - started, reason, blocked });
  }

  let budgetAnnounced = false;
  let failure: unknown;
  for (;;) {
    const stopping = options.signal.aborted || failure !== undefined;
    while (!stopping && freeAgents.length > 0 && controller.canStart(running.size, now())) {
      const next = scheduler.next();
      if (next === undefined) break;
      if (!budget.allowsStart()) {
        if (!budgetAnnounced) view.event({ event: 'budget-stop', spentUsd: budget.spentUsd, budgetUsd: options.budgetUsd ?? 0 });
        budgetAnnounced = true;
        break;
      }
      const agent = freeAgents.shift()!;
      scheduler.start(next);
      const promise: Promise<void> = attemptTask(agent, next)
        .catch((error: unknown) => {
          failure ??= error;
        })
        .finally(() => {
          running.delete(promise);
          freeAgents.push(agent);
          freeAgents.sort();
          notify();
        });
      running.add(promise);
    }
    if (!stopping) prepareAhead();
    if (running.size === 0) {
      const pause = controller.pauseRemaining(now());
      const canContinue = !stopping && !budget.exhausted && scheduler.next() !== undefined;
      if (!canContinue) break;
      if (pause > 0) await Promise.race([wakeup, new Promise((resolve) => setTimeout(resolve, pause))]);
      continue;
    }
    const pause = controller.pauseRemaining(now());
    const waits: Promise<unknown>[] = [wakeup];
    if (pause > 0 && freeAgents.length > 0) waits.push(new Promise((resolve) => setTimeout(resolve, pause)));
    await Promise.race(waits);
  }
  options.signal.removeEventListener('abort', notify);
  // Worktrees being created ahead finish (and are recorded) before the run reports and exits.
  await Promise.allSettled(preparing.values());
  if (failure !== undefined) throw failure;

  const endedAt = attempts.reduce((latest, record) => Math.max(latest, record.endedAt), startedAt);
  const final = (await store.list()).tasks.filter((task) => planIds.has(task.id));
  const finalById = new Map(final.map((task) => [task.id, task]));
  const report = buildRunReport({
    agents: options.agents,
    adapter: adapter.name,
    startedAt,
    endedAt,
    tasks: ordered.map((task) => {
      const current = finalById.get(task.id) ?? task;
      return { id: task.id, dependsOn: task.depends_on, state: current.state, commit: current.commit };
    }),
    attempts,
    budgetUsd: options.budgetUsd,
    budgetStopped: budget.exhausted,
    rateLimit: { hits: controller.rateLimitedCount, lowestConcurrency: controller.lowestLimit },
  });
  if (options.signal.aborted) view.event({ event: 'interrupted', signal: String(options.signal.reason ?? 'SIGINT'), released });
  view.event({ event: 'run-end', completed: report.counts.completed, total: report.counts.total, makespanMs: report.makespanMs });
  return { report, interrupted: options.signal.aborted, tasks: options.taskIds.map((id) => finalById.get(id)!).filter(Boolean) };
}
