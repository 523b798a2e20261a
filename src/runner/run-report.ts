import { bottomLevels } from './scheduler.ts';
import type { AttemptStatus, AttemptUsage } from './adapters/agent-adapter.ts';
import { writeFileAtomic } from '../fs/atomic-write.ts';

// The report proves the speedup instead of claiming it: the lower bound max(critical path,
// work / N) is what no scheduler can beat with these task times, so efficiency = LB / makespan says
// how much of the possible parallelism the run actually got (MEASUREMENTS §5).

export interface AttemptRecord {
  task: string;
  attempt: number;
  agent: string;
  startedAt: number;
  endedAt: number;
  status: AttemptStatus | 'setup-failed';
  reason?: string | undefined;
  usage: AttemptUsage;
}

export interface ReportTask {
  id: string;
  dependsOn: readonly string[];
  /** Final state in the store. */
  state: string;
  commit?: string | undefined;
}

export interface TaskLine {
  id: string;
  state: string;
  attempts: number;
  timeMs: number;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  turns: number;
  commit?: string | undefined;
  lastError?: string | undefined;
}

export interface RunReport {
  agents: number;
  adapter: string;
  startedAt: string;
  makespanMs: number;
  workMs: number;
  speedup: number;
  criticalPathMs: number;
  lowerBoundMs: number;
  efficiency: number;
  utilization: Record<string, number>;
  counts: { total: number; completed: number; failed: number; blocked: number; other: number };
  costUsd: number;
  budgetUsd?: number | undefined;
  budgetStopped: boolean;
  rateLimit: { hits: number; lowestConcurrency: number };
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
  budgetUsd?: number | undefined;
  budgetStopped: boolean;
  rateLimit: { hits: number; lowestConcurrency: number };
}

function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** max(critical path, work / agents), with each task weighted by the time it really took. */
export function lowerBound(tasks: readonly { id: string; dependsOn: readonly string[] }[], timeOf: (id: string) => number, agents: number): { criticalPathMs: number; workMs: number; lowerBoundMs: number } {
  const levels = bottomLevels(tasks.map((task) => ({ id: task.id, dependsOn: task.dependsOn, estimateMs: timeOf(task.id) })));
  let criticalPathMs = 0;
  for (const level of levels.values()) criticalPathMs = Math.max(criticalPathMs, level);
  const workMs = tasks.reduce((sum, task) => sum + timeOf(task.id), 0);
  return { criticalPathMs, workMs, lowerBoundMs: Math.max(criticalPathMs, workMs / Math.max(1, agents)) };
}

export function buildRunReport(input: ReportInput): RunReport {
  const byTask = new Map<string, AttemptRecord[]>();
  for (const record of input.attempts) {
    const list = byTask.get(record.task) ?? [];
    list.push(record);
    byTask.set(record.task, list);
  }
  // A throttled or interrupted attempt is neither the task's attempt nor its work: counting it
  // would inflate the work, the speedup and the bound (the store does not count it either).
  const counts = (record: AttemptRecord): boolean => record.status !== 'rate-limited' && record.status !== 'interrupted';
  const timeOf = (id: string): number => (byTask.get(id) ?? []).filter(counts).reduce((sum, record) => sum + (record.endedAt - record.startedAt), 0);
  // Only tasks this run worked on count toward the bound: a resumed run does not get credit for
  // (or blame for) work an earlier run did.
  const worked = input.tasks.filter((task) => byTask.has(task.id));
  const bound = lowerBound(worked, timeOf, input.agents);
  const makespanMs = Math.max(0, input.endedAt - input.startedAt);
  const busy = new Map<string, number>();
  for (let index = 1; index <= input.agents; index++) busy.set(`agent-${index}`, 0);
  for (const record of input.attempts) busy.set(record.agent, (busy.get(record.agent) ?? 0) + (record.endedAt - record.startedAt));
  const tasks: TaskLine[] = input.tasks.map((task) => {
    const records = byTask.get(task.id) ?? [];
    const sum = (pick: (usage: AttemptUsage) => number | undefined): number => records.reduce((total, record) => total + (pick(record.usage) ?? 0), 0);
    const lastError = [...records].reverse().find((record) => record.status !== 'ok')?.reason;
    return {
      id: task.id,
      state: task.state,
      attempts: records.filter(counts).length,
      timeMs: timeOf(task.id),
      costUsd: round(sum((usage) => usage.costUsd), 6),
      inputTokens: sum((usage) => usage.inputTokens),
      outputTokens: sum((usage) => usage.outputTokens),
      turns: sum((usage) => usage.turns),
      ...(task.commit ? { commit: task.commit } : {}),
      ...(lastError && task.state !== 'completed' ? { lastError } : {}),
    };
  });
  const count = (state: string): number => input.tasks.filter((task) => task.state === state).length;
  const completed = count('completed');
  const failed = count('failed');
  const blocked = count('blocked');
  return {
    agents: input.agents,
    adapter: input.adapter,
    startedAt: new Date(input.startedAt).toISOString(),
    makespanMs,
    workMs: bound.workMs,
    speedup: makespanMs > 0 ? round(bound.workMs / makespanMs) : 0,
    criticalPathMs: bound.criticalPathMs,
    lowerBoundMs: round(bound.lowerBoundMs, 0),
    efficiency: makespanMs > 0 ? round(Math.min(1, bound.lowerBoundMs / makespanMs)) : 0,
    utilization: Object.fromEntries([...busy].map(([agent, ms]) => [agent, makespanMs > 0 ? round(ms / makespanMs) : 0])),
    counts: { total: input.tasks.length, completed, failed, blocked, other: input.tasks.length - completed - failed - blocked },
    costUsd: round(input.attempts.reduce((total, record) => total + (record.usage.costUsd ?? 0), 0), 6),
    budgetUsd: input.budgetUsd,
    budgetStopped: input.budgetStopped,
    rateLimit: input.rateLimit,
    tasks,
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

export function formatRunReport(report: RunReport): string {
  const lines = [
    `${report.counts.completed}/${report.counts.total} tasks completed` +
      (report.counts.failed + report.counts.blocked > 0 ? ` (${report.counts.failed} failed, ${report.counts.blocked} blocked)` : '') +
      ` with ${report.agents} agents (${report.adapter})`,
    `makespan ${seconds(report.makespanMs)}, sum of task times ${seconds(report.workMs)}, speedup ${report.speedup.toFixed(2)}x`,
    `lower bound ${seconds(report.lowerBoundMs)} = max(critical path ${seconds(report.criticalPathMs)}, work/${report.agents} ${seconds(report.workMs / report.agents)}), efficiency ${report.efficiency.toFixed(2)}`,
    `utilization: ${Object.entries(report.utilization).map(([agent, value]) => `${agent} ${Math.round(value * 100)}%`).join(', ')}`,
  ];
  if (report.rateLimit.hits > 0) lines.push(`rate limited ${report.rateLimit.hits} time(s); concurrency went down to ${report.rateLimit.lowestConcurrency}`);
  if (report.costUsd > 0 || report.budgetUsd !== undefined) {
    lines.push(`cost $${report.costUsd.toFixed(4)}${report.budgetUsd !== undefined ? ` of a $${report.budgetUsd} budget${report.budgetStopped ? ' (budget reached: no new attempts were started)' : ''}` : ''}`);
  }
  const width = Math.max(4, ...report.tasks.map((task) => task.id.length));
  // Agents that report no cost (a plain --agent-cmd) get no cost column full of zeros.
  const showCost = report.costUsd > 0;
  lines.push('', `${'task'.padEnd(width)}  state      attempts  time     ${showCost ? 'cost      ' : ''}commit`);
  for (const task of report.tasks) {
    const cost = showCost ? `${`$${task.costUsd.toFixed(4)}`.padStart(8)}  ` : '';
    lines.push(`${task.id.padEnd(width)}  ${task.state.padEnd(9)}  ${String(task.attempts).padStart(8)}  ${seconds(task.timeMs).padStart(7)}  ${cost}${task.commit?.slice(0, 10) ?? (task.lastError ? `- ${task.lastError.slice(0, 80)}` : '-')}`);
  }
  return lines.join('\n');
}

export function writeRunReport(path: string, report: RunReport): void {
  writeFileAtomic(path, `${JSON.stringify(report, null, 2)}\n`);
}
