import { recommendAgents, DEFAULT_MAX_AGENTS } from './agent-count.ts';
import { BY_DEPENDS_ON, BY_READ_AFTER_WRITE, BY_SCOPE, BY_WRITE_AFTER_READ, EdgeSet } from './edge-set.ts';
import { formatDuration, parseDuration } from '../text/duration.ts';
import type { EdgeKind, PlanAnalysis, PlanEdge, PlanTaskAnalysis, WorkAmount } from './plan-analysis.ts';
import type { Plan, PlanTask } from './plan-schema.ts';
import { scheduleShape, type Predecessors } from './schedule-shape.ts';
import { addScopeEdges } from './scope-edges.ts';
import { chooseIsolation, chooseStrategy } from './strategy.ts';
import { orderTasks } from './task-order.ts';

export interface CheckPlanOptions {
  /** Upper bound for the recommended agent count (default 5). */
  maxAgents?: number | undefined;
}

// Above this the plan is hard to review and, with realistic scopes, collapses into serial chains
// (bench/RESULTS.md, plan classification: thousands of generated tasks give thousands of narrow waves).
const LARGE_PLAN = 200;

function kindsOf(reasons: number): readonly EdgeKind[] {
  const kinds: EdgeKind[] = [];
  if (reasons & BY_DEPENDS_ON) kinds.push('depends_on');
  if (reasons & BY_SCOPE) kinds.push('scope');
  if (reasons & (BY_READ_AFTER_WRITE | BY_WRITE_AFTER_READ)) kinds.push('reads');
  return Object.freeze(kinds);
}

// Sixteen reason combinations: one frozen list each, shared by every edge that has it.
const KINDS_BY_REASONS: ReadonlyArray<readonly EdgeKind[]> = Array.from({ length: 16 }, (_, reasons) => kindsOf(reasons));

function edgeReason(from: string, to: string, reasons: number, files: string[]): string {
  const shared = files.length === 1 ? files[0]! : files.join(', ');
  // One reason is by far the common case: a single template, no list to join.
  switch (reasons) {
    case BY_DEPENDS_ON:
      return `${to} depends on ${from}`;
    case BY_SCOPE:
      return `both write ${shared}: ${to} runs after ${from} (plan order)`;
    case BY_READ_AFTER_WRITE:
      return `${to} reads ${shared}, which ${from} writes`;
    case BY_WRITE_AFTER_READ:
      return `${from} reads ${shared}, which ${to} writes: ${to} waits (plan order)`;
  }
  const parts: string[] = [];
  if (reasons & BY_DEPENDS_ON) parts.push(`${to} depends on ${from}`);
  if (reasons & BY_SCOPE) parts.push(`both write ${shared}: ${to} runs after ${from} (plan order)`);
  if (reasons & BY_READ_AFTER_WRITE) parts.push(`${to} reads ${shared}, which ${from} writes`);
  if (reasons & BY_WRITE_AFTER_READ) parts.push(`${from} reads ${shared}, which ${to} writes: ${to} waits (plan order)`);
  return parts.join('; ');
}

/** Edge numbers by (rank of from, rank of to), so output and tests are stable: a counting sort on
 * `from`, then a sort of each task's few outgoing edges. */
function sortEdges(edges: EdgeSet, rank: Int32Array): Int32Array {
  const count = rank.length;
  const start = new Int32Array(count + 1);
  for (let index = 0; index < edges.size; index++) start[rank[edges.from[index]!]! + 1]!++;
  for (let position = 0; position < count; position++) start[position + 1]! += start[position]!;
  const fill = start.slice(0, count);
  const sorted = new Int32Array(edges.size);
  for (let index = 0; index < edges.size; index++) sorted[fill[rank[edges.from[index]!]!]!++] = index;
  for (let position = 0; position < count; position++) {
    if (start[position + 1]! - start[position]! > 1) {
      sorted.subarray(start[position]!, start[position + 1]!).sort((a, b) => rank[edges.to[a]!]! - rank[edges.to[b]!]!);
    }
  }
  return sorted;
}

/** Validates the graph and classifies the plan. Throws CliError E_DUPLICATE_ID, E_UNKNOWN_DEP or E_CYCLE. */
export function checkPlan(plan: Plan, options: CheckPlanOptions = {}): PlanAnalysis {
  const maxAgents = options.maxAgents ?? DEFAULT_MAX_AGENTS;
  const tasks = plan.tasks;
  const count = tasks.length;
  const taskOrder = orderTasks(plan);
  const { order, rank, dependencies } = taskOrder;

  const edges = new EdgeSet();
  dependencies.forEach((list, task) => {
    for (const dependency of list) edges.add(dependency, task, BY_DEPENDS_ON);
  });
  addScopeEdges(plan, taskOrder, edges);

  const predecessors = predecessorsOf(edges, rank);
  const touched = new Uint8Array(count);
  for (let index = 0; index < edges.size; index++) {
    touched[edges.from[index]!] = 1;
    touched[edges.to[index]!] = 1;
  }

  const warnings: string[] = [];
  const estimates = tasks.map((task) => (task.estimate === undefined ? undefined : parseDuration(task.estimate, { unitRequired: true })));
  const known = estimates.filter((value): value is number => value !== undefined).sort((a, b) => a - b);
  const basis: 'estimate' | 'count' = known.length > 0 ? 'estimate' : 'count';
  const fallback = known.length > 0 ? known[Math.floor(known.length / 2)]! : 1;
  if (known.length > 0 && known.length < count) {
    warnings.push(`${count - known.length} of ${count} tasks have no estimate; they count as the median estimate, ${formatDuration(fallback)}`);
  }
  const weight = new Float64Array(count);
  estimates.forEach((value, index) => {
    weight[index] = basis === 'count' ? 1 : (value ?? fallback);
  });
  const amount = (value: number): WorkAmount =>
    basis === 'estimate'
      ? { amount: Math.round(value), unit: 'ms', text: formatDuration(value) }
      : { amount: Math.round(value * 100) / 100, unit: 'tasks', text: `${Number.isInteger(value) ? value : value.toFixed(1)} task${value === 1 ? '' : 's'}` };

  const shape = scheduleShape(order, predecessors, weight);
  const waves: string[][] = Array.from({ length: shape.waveCount }, () => []);
  for (let position = 0; position < count; position++) {
    const task = order[position]!;
    waves[shape.wave[task]!]!.push(tasks[task]!.id);
  }
  let totalWork = 0;
  for (let index = 0; index < count; index++) totalWork += weight[index]!;

  let independentCount = 0;
  const taskAnalyses: PlanTaskAnalysis[] = tasks.map((task, index) => {
    if (!touched[index]) independentCount++;
    return {
      id: task.id,
      title: task.title,
      ...(task.role === undefined ? {} : { role: task.role }),
      wave: shape.wave[index]! + 1,
      class: touched[index] ? 'dependent' : 'independent',
      after: idsBetween(tasks, predecessors.list, predecessors.start[index]!, predecessors.start[index + 1]!),
      ...(task.estimate === undefined ? {} : { estimate: task.estimate }),
      weight: weight[index]!,
    };
  });

  if (count > LARGE_PLAN) {
    warnings.push(`${count} tasks: plans above about ${LARGE_PLAN} tasks are hard to review and tend to collapse into long chains; consider splitting it`);
  }
  const agents = recommendAgents(shape.criticalLength, totalWork, maxAgents, amount);
  const edgeCount = edges.size;
  let planEdges: PlanEdge[] | undefined;
  // Edge records are for people and JSON; a 100,000-task plan implies over a million edges, so
  // they are built on first read. Everything the schedule needs is already in tasks[].after.
  const materialize = (): PlanEdge[] => (planEdges ??= planEdgesOf(tasks, edges, rank));
  const analysis: PlanAnalysis = {
    name: plan.name,
    ...(plan.base === undefined ? {} : { base: plan.base }),
    ...(plan.source === undefined ? {} : { source: plan.source }),
    tasks: taskAnalyses,
    get edges(): PlanEdge[] {
      return materialize();
    },
    edge_count: edgeCount,
    waves,
    critical_path: { tasks: shape.criticalPath.map((index) => tasks[index]!.id), length: amount(shape.criticalLength), basis },
    total_work: amount(totalWork),
    agents,
    strategy: chooseStrategy(tasks, waves, edgeCount, () => sharedByAll(edges), independentCount),
    isolation: chooseIsolation(tasks, edges.count(BY_SCOPE | BY_READ_AFTER_WRITE | BY_WRITE_AFTER_READ), agents.recommended),
    warnings,
  };
  return analysis;
}

function idsBetween(tasks: readonly PlanTask[], list: Int32Array, from: number, to: number): string[] {
  const ids: string[] = new Array(to - from);
  for (let at = from; at < to; at++) ids[at - from] = tasks[list[at]!]!.id;
  return ids;
}

/** Each task's predecessors, in task order, as one flat array with offsets. */
function predecessorsOf(edges: EdgeSet, rank: Int32Array): Predecessors {
  const count = rank.length;
  const start = new Int32Array(count + 1);
  for (let index = 0; index < edges.size; index++) start[edges.to[index]! + 1]!++;
  for (let task = 0; task < count; task++) start[task + 1]! += start[task]!;
  const fill = start.slice(0, count);
  const list = new Int32Array(edges.size);
  for (let index = 0; index < edges.size; index++) list[fill[edges.to[index]!]!++] = edges.from[index]!;
  for (let task = 0; task < count; task++) {
    if (start[task + 1]! - start[task]! > 1) list.subarray(start[task]!, start[task + 1]!).sort((a, b) => rank[a]! - rank[b]!);
  }
  return { start, list };
}

/** Files every scope edge shares, for "every task writes X"; computed only for sequential plans. */
function sharedByAll(edges: EdgeSet): string[] {
  let common: Set<string> | undefined;
  for (let index = 0; index < edges.size; index++) {
    if (!(edges.reasons[index]! & BY_SCOPE)) return [];
    const files = edges.files(index);
    common = common ? new Set(files.filter((file) => common!.has(file))) : new Set(files);
    if (common.size === 0) return [];
  }
  return [...(common ?? [])];
}

function planEdgesOf(tasks: readonly PlanTask[], edges: EdgeSet, rank: Int32Array): PlanEdge[] {
  const sorted = sortEdges(edges, rank);
  const records: PlanEdge[] = new Array(sorted.length);
  for (let at = 0; at < sorted.length; at++) {
    const index = sorted[at]!;
    const reasons = edges.reasons[index]!;
    const kinds = KINDS_BY_REASONS[reasons]!;
    const from = tasks[edges.from[index]!]!.id;
    const to = tasks[edges.to[index]!]!.id;
    const files = edges.files(index);
    records[at] = { from, to, kind: kinds[0]!, kinds, reason: edgeReason(from, to, reasons, files), files };
  }
  return records;
}
