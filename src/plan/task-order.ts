import { CliError } from '../errors.ts';
import type { Plan } from './plan-schema.ts';

// The one total order every implied edge follows: depends_on first (a dependency always comes
// before its dependents), plan order among the rest. Orienting every scope and reads overlap
// along this order can never close a cycle, so only depends_on can make a plan unschedulable.

export interface TaskOrder {
  indexById: Map<string, number>;
  /** Plan indices of each task's depends_on, without duplicates. */
  dependencies: number[][];
  /** order[k]: plan index of the task at position k. */
  order: Int32Array;
  /** rank[i]: position of plan task i in `order`. */
  rank: Int32Array;
}

function where(plan: Plan): string {
  return plan.source ?? 'plan';
}

/** Validates ids and depends_on, then sorts topologically with plan order breaking ties. */
export function orderTasks(plan: Plan): TaskOrder {
  const count = plan.tasks.length;
  const indexById = new Map<string, number>();
  plan.tasks.forEach((task, index) => {
    const first = indexById.get(task.id);
    if (first !== undefined) {
      throw new CliError('E_DUPLICATE_ID', `${where(plan)}: task id "${task.id}" is used twice (tasks[${first}] and tasks[${index}]); give each task its own id`, { id: task.id });
    }
    indexById.set(task.id, index);
  });

  const dependencies: number[][] = new Array(count);
  const dependents: number[][] = Array.from({ length: count }, () => []);
  const inDegree = new Int32Array(count);
  plan.tasks.forEach((task, index) => {
    const seen = new Set<number>();
    for (const dependency of task.depends_on) {
      const target = indexById.get(dependency);
      if (target === undefined) {
        throw new CliError('E_UNKNOWN_DEP', `${where(plan)}: task "${task.id}" depends_on "${dependency}", which is not a task in this plan; add that task or remove the dependency`, { task: task.id, dependency });
      }
      if (seen.has(target)) continue;
      seen.add(target);
      dependents[target]!.push(index);
      inDegree[index]!++;
    }
    dependencies[index] = [...seen];
  });

  // Kahn with a min-heap on plan index: the earliest-listed ready task always goes next.
  const heap = new MinHeap(count);
  for (let index = 0; index < count; index++) if (inDegree[index] === 0) heap.push(index);
  const order = new Int32Array(count);
  const rank = new Int32Array(count).fill(-1);
  let placed = 0;
  while (heap.size > 0) {
    const index = heap.pop();
    rank[index] = placed;
    order[placed++] = index;
    for (const dependent of dependents[index]!) {
      if (--inDegree[dependent]! === 0) heap.push(dependent);
    }
  }
  if (placed < count) {
    const cycle = findCycle(plan, dependencies, rank);
    throw new CliError('E_CYCLE', `${where(plan)}: depends_on cycle: ${cycle.join(' -> ')} (each task depends on the next); remove one of these dependencies`, { cycle });
  }
  return { indexById, dependencies, order, rank };
}

/** Names one whole cycle among the tasks Kahn could not place, starting at its earliest-listed task. */
function findCycle(plan: Plan, dependencies: number[][], rank: Int32Array): string[] {
  const unplaced = (index: number): boolean => rank[index] === -1;
  let start = 0;
  while (!unplaced(start)) start++;
  // Every unplaced task waits on at least one unplaced dependency, so this walk must repeat.
  const stepOf = new Map<number, number>();
  const walk: number[] = [];
  let current = start;
  while (!stepOf.has(current)) {
    stepOf.set(current, walk.length);
    walk.push(current);
    current = dependencies[current]!.find(unplaced)!;
  }
  const cycle = walk.slice(stepOf.get(current));
  const first = cycle.indexOf(Math.min(...cycle));
  const rotated = [...cycle.slice(first), ...cycle.slice(0, first)];
  return [...rotated, rotated[0]!].map((index) => plan.tasks[index]!.id);
}

class MinHeap {
  private readonly items: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.items = new Int32Array(Math.max(1, capacity));
  }

  push(value: number): void {
    const items = this.items;
    let at = this.size++;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (items[parent]! <= value) break;
      items[at] = items[parent]!;
      at = parent;
    }
    items[at] = value;
  }

  pop(): number {
    const items = this.items;
    const top = items[0]!;
    const last = items[--this.size]!;
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && items[child + 1]! < items[child]!) child++;
      if (items[child]! >= last) break;
      items[at] = items[child]!;
      at = child;
    }
    items[at] = last;
    return top;
  }
}
