import { recommendAgents, DEFAULT_MAX_AGENTS } from './agent-count.ts';
import { BY_DEPENDS_ON, BY_READ_AFTER_WRITE, BY_SCOPE, BY_WRITE_AFTER_READ, EdgeSet } from './edge-set.ts';
import { formatDuration, parseEstimate } from './estimate.ts';
import type { EdgeKind, PlanAnalysis, PlanEdge, PlanTaskAnalysis, WorkAmount } from './plan-analysis.ts';
import type { Plan } from './plan-schema.ts';
import { scheduleShape } from './schedule-shape.ts';
import { addScopeEdges } from './scope-edges.ts';
import { chooseIsolation, chooseStrategy } from './strategy.ts';
import { orderTasks } from './task-order.ts';

export interface CheckPlanOptions {
  /** Upper bound for the recommended agent count (default 5). */
  maxAgents?: number | undefined;
}

// Above this the plan is hard to review and, with realistic scopes, collapses into serial chains
// (MEASUREMENTS §4: 10,000 generated tasks gave 401 waves of at most 56).
const LARGE_PLAN = 200;

function edgeKinds(reasons: number): EdgeKind[] {
  const kinds: EdgeKind[] = [];
  if (reasons & BY_DEPENDS_ON) kinds.push('depends_on');
  if (reasons & BY_SCOPE) kinds.push('scope');
  if (reasons & (BY_READ_AFTER_WRITE | BY_WRITE_AFTER_READ)) kinds.push('reads');
  return kinds;
}

function edgeReason(from: string, to: string, reasons: number, files: string[]): string {
  const shared = files.join(', ');
  const parts: string[] = [];
  if (reasons & BY_DEPENDS_ON) parts.push(`${to} depends on ${from}`);
  if (reasons & BY_SCOPE) parts.push(`both write ${shared}: ${to} runs after ${from} (plan order)`);
  if (reasons & BY_READ_AFTER_WRITE) parts.push(`${to} reads ${shared}, which ${from} writes`);
  if (reasons & BY_WRITE_AFTER_READ) parts.push(`${from} reads ${shared}, which ${to} writes: ${to} waits (plan order)`);
  return parts.join('; ');
}

/** Validates the graph and classifies the plan. Throws CliError E_DUPLICATE_ID, E_UNKNOWN_DEP or E_CYCLE. */
export function checkPlan(plan: Plan, options: CheckPlanOptions = {}): PlanAnalysis {
  const maxAgents = options.maxAgents ?? DEFAULT_MAX_AGENTS;
  const tasks = plan.tasks;
  const count = tasks.length;
  const taskOrder = orderTasks(plan);
  const { order, rank, dependencies } = taskOrder;

  const edges = new EdgeSet(count);
  dependencies.forEach((list, task) => {
    for (const dependency of list) edges.add(dependency, task, BY_DEPENDS_ON);
  });
  addScopeEdges(plan, taskOrder, edges);

  // Sorted by the task order so output and tests are stable.
  const edgeOrder = Array.from({ length: edges.size }, (_, index) => index).sort(
    (a, b) => rank[edges.from[a]!]! - rank[edges.from[b]!]! || rank[edges.to[a]!]! - rank[edges.to[b]!]!,
  );
  const predecessors: number[][] = Array.from({ length: count }, () => []);
  const touched = new Uint8Array(count);
  const planEdges: PlanEdge[] = edgeOrder.map((index) => {
    const from = edges.from[index]!;
    const to = edges.to[index]!;
    const reasons = edges.reasons[index]!;
    const files = edges.files[index] ?? [];
    predecessors[to]!.push(from);
    touched[from] = 1;
    touched[to] = 1;
    const kinds = edgeKinds(reasons);
    const fromId = tasks[from]!.id;
    const toId = tasks[to]!.id;
    return { from: fromId, to: toId, kind: kinds[0]!, kinds, reason: edgeReason(fromId, toId, reasons, files), files: [...files] };
  });

  const warnings: string[] = [];
  const estimates = tasks.map((task) => (task.estimate === undefined ? undefined : parseEstimate(task.estimate)));
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
      after: predecessors[index]!.map((predecessor) => tasks[predecessor]!.id),
      ...(task.estimate === undefined ? {} : { estimate: task.estimate }),
      weight: weight[index]!,
    };
  });

  if (count > LARGE_PLAN) {
    warnings.push(`${count} tasks: plans above about ${LARGE_PLAN} tasks are hard to review and tend to collapse into long chains; consider splitting it`);
  }
  const agents = recommendAgents(shape.criticalLength, totalWork, maxAgents, amount);
  return {
    name: plan.name,
    ...(plan.base === undefined ? {} : { base: plan.base }),
    ...(plan.source === undefined ? {} : { source: plan.source }),
    tasks: taskAnalyses,
    edges: planEdges,
    waves,
    criticalPath: { tasks: shape.criticalPath.map((index) => tasks[index]!.id), length: amount(shape.criticalLength), basis },
    totalWork: amount(totalWork),
    agents,
    strategy: chooseStrategy(tasks, waves, planEdges, independentCount),
    isolation: chooseIsolation(tasks, planEdges, agents.recommended),
    warnings,
  };
}
