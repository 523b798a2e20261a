import { bottomLevels } from './scheduler.ts';
import type { AttemptStatus, AttemptUsage } from './adapters/agent-adapter.ts';
import { writeFileAtomic } from '../fs/atomic-write.ts';

// The report measures the speedup against the work the agents did, never against time spent on
// or waiting for the orchestrator. Every agent slot's share of the wall time is one of three
// things: an agent process running (agent time), the runner working for a task or the run
// (claims, checkouts, commits and scope checks, store transitions; publish, verify and cleanup
// hold every slot), or nothing to run (idle). The speedup is agent time / wall time: the agents'
// work done per second of the run. The same plan run with 1 and with N agents gives the same
// agent time, so the ratio of the two speedups is the ratio of their wall times.

export const SPEEDUP_FORMULA = 'speedup = agent time / wall time; agents x wall time = agent + orchestration + idle';

export interface AttemptPhases {
  claimMs: number;
  /** Waiting for the task's worktree (0 when it was prepared ahead). */
  checkoutMs: number;
  /** The agent process, start to exit. */
  agentMs: number;
  /** Committing what the agent left and checking it against the branch and scope. */
  evidenceMs: number;
  /** complete, fail or release in the store. */
  completeMs: number;
}

export interface AttemptRecord {
  task: string;
  attempt: number;
  agent: string;
  startedAt: number;
  endedAt: number;
  status: AttemptStatus | 'setup-failed';
  reason?: string | undefined;
  usage: AttemptUsage;
  /** Where the attempt's time went; without it the whole attempt counts as agent time. */
  phases?: AttemptPhases | undefined;
}

export interface ReportTask {
  id: string;
  dependsOn: readonly string[];
  /** Final state in the store. */
  state: string;
  commit?: string | undefined;
  /** Time the task was ready but no agent had started it. */
  waitMs?: number | undefined;
}

export interface TaskLine {
  id: string;
  state: string;
  attempts: number;
  /** Attempts' wall time: agent plus orchestration. */
  time_ms: number;
  agent_ms: number;
  orchestration_ms: number;
  /** Ready, waiting for a free agent. */
  wait_ms: number;
  cost_usd: number;
  input_tokens: number;
  output_tokens: number;
  turns: number;
  commit?: string | undefined;
  last_error?: string | undefined;
}

export interface RunReport {
  agents: number;
  adapter: string;
  started_at: string;
  /** Wall time of what the report covers (the whole run in run-report.json). */
  makespan_ms: number;
  /** Agent time: the agents' work, the speedup's numerator. */
  work_ms: number;
  /** Slot time on the runner's work; `orchestration` splits it. */
  orchestration_ms: number;
  idle_ms: number;
  orchestration: { claim_ms: number; checkout_ms: number; evidence_ms: number; store_ms: number; run_ms: number; run_steps: Record<string, number> };
  speedup: number;
  formula: string;
  critical_path_ms: number;
  lower_bound_ms: number;
  efficiency: number;
  utilization: Record<string, number>;
  counts: { total: number; completed: number; failed: number; blocked: number; other: number };
  cost_usd: number;
  budget_usd?: number | undefined;
  budget_stopped: boolean;
  rate_limit: { hits: number; lowest_concurrency: number };
  tasks: TaskLine[];
  verify?: unknown;
}

export interface ReportInput {
  agents: number;
  adapter: string;
  startedAt: number;
  endedAt: number;
  tasks: readonly ReportTask[];
  attempts: readonly AttemptRecord[];
  /** Steps of the run outside any attempt (start and publish, verify, cleanup), in ms: every slot waits on them. */
  runSteps?: Record<string, number> | undefined;
  budgetUsd?: number | undefined;
  budgetStopped: boolean;
  rateLimit: RunReport['rate_limit'];
}

function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** max(critical path, work / agents), with each task weighted by its agent time. */
export function lowerBound(tasks: readonly { id: string; dependsOn: readonly string[] }[], timeOf: (id: string) => number, agents: number): { criticalPathMs: number; workMs: number; lowerBoundMs: number } {
  const levels = bottomLevels(tasks.map((task) => ({ id: task.id, dependsOn: task.dependsOn, estimateMs: timeOf(task.id) })));
  let criticalPathMs = 0;
  for (const level of levels.values()) criticalPathMs = Math.max(criticalPathMs, level);
  const workMs = tasks.reduce((sum, task) => sum + timeOf(task.id), 0);
  return { criticalPathMs, workMs, lowerBoundMs: Math.max(criticalPathMs, workMs / Math.max(1, agents)) };
}

// A throttled or interrupted attempt is neither the task's attempt nor its work (the store does
// not count it either): its agent time is idle time, waiting on the provider or the user.
const counts = (record: AttemptRecord): boolean => record.status !== 'rate-limited' && record.status !== 'interrupted';
const spanOf = (record: AttemptRecord): number => Math.max(0, record.endedAt - record.startedAt);
const agentOf = (record: AttemptRecord): number => (record.phases ? Math.min(record.phases.agentMs, spanOf(record)) : spanOf(record));

export function buildRunReport(input: ReportInput): RunReport {
  const byTask = new Map<string, AttemptRecord[]>();
  for (const record of input.attempts) byTask.set(record.task, [...(byTask.get(record.task) ?? []), record]);
  const agentTimeOf = (id: string): number => (byTask.get(id) ?? []).filter(counts).reduce((sum, record) => sum + agentOf(record), 0);
  // Only tasks this run worked on count toward the bound: a resumed run does not get credit for
  // (or blame for) work an earlier run did.
  const bound = lowerBound(input.tasks.filter((task) => byTask.has(task.id)), agentTimeOf, input.agents);
  const makespanMs = Math.max(0, input.endedAt - input.startedAt);

  const phase = (pick: (phases: AttemptPhases) => number): number => input.attempts.reduce((sum, record) => sum + (record.phases ? pick(record.phases) : 0), 0);
  const runSteps = input.runSteps ?? {};
  const runMs = Object.values(runSteps).reduce((sum, ms) => sum + ms, 0);
  const taskOrchestrationMs = input.attempts.reduce((sum, record) => sum + spanOf(record) - agentOf(record), 0);
  const orchestrationMs = taskOrchestrationMs + input.agents * runMs;
  const idleMs = Math.max(0, input.agents * makespanMs - bound.workMs - orchestrationMs);

  const busy = new Map<string, number>();
  for (let index = 1; index <= input.agents; index++) busy.set(`agent-${index}`, 0);
  for (const record of input.attempts) busy.set(record.agent, (busy.get(record.agent) ?? 0) + spanOf(record));
  const tasks: TaskLine[] = input.tasks.map((task) => {
    const records = byTask.get(task.id) ?? [];
    const sum = (pick: (usage: AttemptUsage) => number | undefined): number => records.reduce((total, record) => total + (pick(record.usage) ?? 0), 0);
    const lastError = [...records].reverse().find((record) => record.status !== 'ok')?.reason;
    const timeMs = records.filter(counts).reduce((total, record) => total + spanOf(record), 0);
    return {
      id: task.id,
      state: task.state,
      attempts: records.filter(counts).length,
      time_ms: timeMs,
      agent_ms: agentTimeOf(task.id),
      orchestration_ms: records.reduce((total, record) => total + spanOf(record) - agentOf(record), 0),
      wait_ms: Math.round(task.waitMs ?? 0),
      cost_usd: round(sum((usage) => usage.costUsd), 6),
      input_tokens: sum((usage) => usage.inputTokens),
      output_tokens: sum((usage) => usage.outputTokens),
      turns: sum((usage) => usage.turns),
      ...(task.commit ? { commit: task.commit } : {}),
      ...(lastError && task.state !== 'completed' ? { last_error: lastError } : {}),
    };
  });
  const count = (state: string): number => input.tasks.filter((task) => task.state === state).length;
  const completed = count('completed');
  const failed = count('failed');
  const blocked = count('blocked');
  return {
    agents: input.agents,
    adapter: input.adapter,
    started_at: new Date(input.startedAt).toISOString(),
    makespan_ms: makespanMs,
    work_ms: bound.workMs,
    orchestration_ms: Math.round(orchestrationMs),
    idle_ms: Math.round(idleMs),
    orchestration: {
      claim_ms: phase((p) => p.claimMs),
      checkout_ms: phase((p) => p.checkoutMs),
      evidence_ms: phase((p) => p.evidenceMs),
      store_ms: phase((p) => p.completeMs),
      run_ms: Math.round(runMs),
      run_steps: runSteps,
    },
    speedup: makespanMs > 0 ? round(bound.workMs / makespanMs) : 0,
    formula: SPEEDUP_FORMULA,
    critical_path_ms: bound.criticalPathMs,
    lower_bound_ms: round(bound.lowerBoundMs, 0),
    efficiency: makespanMs > 0 ? round(Math.min(1, bound.lowerBoundMs / makespanMs)) : 0,
    utilization: Object.fromEntries([...busy].map(([agent, ms]) => [agent, makespanMs > 0 ? round(ms / makespanMs) : 0])),
    counts: { total: input.tasks.length, completed, failed, blocked, other: input.tasks.length - completed - failed - blocked },
    cost_usd: round(input.attempts.reduce((total, record) => total + (record.usage.costUsd ?? 0), 0), 6),
    budget_usd: input.budgetUsd,
    budget_stopped: input.budgetStopped,
    rate_limit: input.rateLimit,
    tasks,
  };
}

export function writeRunReport(path: string, report: RunReport): void {
  writeFileAtomic(path, `${JSON.stringify(report, null, 2)}\n`);
}

export { formatRunReport } from './run-report-text.ts';
