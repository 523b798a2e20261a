import { CliError } from '../errors.ts';
import { ScopeIndex } from '../scope/scope-index.ts';
import { describeSharedScope } from '../scope/overlap.ts';
import { BY_READ_AFTER_WRITE, BY_SCOPE, BY_WRITE_AFTER_READ, type EdgeSet } from './edge-set.ts';
import type { Plan } from './plan-schema.ts';
import type { TaskOrder } from './task-order.ts';

// Tasks whose write scopes overlap, or where one reads what the other writes, must not run at
// the same time. Instead of one edge per conflicting pair (k² for a file k tasks write), the
// writers of each entry are chained in order (k-1 edges), and each task on the other side of an
// overlap is hooked to its two neighbours in that chain. The transitive closure is the same as
// ordering every conflicting pair (bench/RESULTS.md, plan classification), at a cost linear in the entries.

/** Lists of positions in the task order, ascending, per scope entry id. */
type PositionLists = Array<number[] | undefined>;

function register(lists: PositionLists, id: number, position: number): void {
  const list = lists[id];
  if (!list) lists[id] = [position];
  else if (list[list.length - 1] !== position) list.push(position);
}

/** First index in the ascending list whose value is >= target. */
function lowerBound(list: number[], target: number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (list[middle]! < target) low = middle + 1;
    else high = middle;
  }
  return low;
}

export function addScopeEdges(plan: Plan, taskOrder: TaskOrder, edges: EdgeSet): void {
  const { order } = taskOrder;
  const index = new ScopeIndex();
  const writers: PositionLists = [];
  const readers: PositionLists = [];
  for (let position = 0; position < order.length; position++) {
    const task = plan.tasks[order[position]!]!;
    if (task.files.length === 0) {
      throw new CliError('E_INVALID', `${plan.source ?? 'plan'}: task "${task.id}" files: must list at least one path or glob the task writes (its write scope)`);
    }
    try {
      for (const entry of task.files) register(writers, index.add(entry), position);
      for (const entry of task.reads) register(readers, index.add(entry), position);
    } catch (error) {
      // loadPlan's schema reports these first; a plan built in code gets the same one-line error.
      throw new CliError('E_INVALID', `${plan.source ?? 'plan'}: task "${task.id}": ${(error as Error).message}`);
    }
  }

  // Put `position` between its neighbours in a chain of writers (never next to itself).
  const hook = (position: number, chain: number[], file: string, before: number, after: number): void => {
    const at = lowerBound(chain, position);
    const previous = chain[at - 1];
    const next = chain[chain[at] === position ? at + 1 : at];
    if (previous !== undefined) edges.add(order[previous]!, order[position]!, before, file);
    if (next !== undefined) edges.add(order[position]!, order[next]!, after, file);
  };

  index.patterns.forEach((pattern, id) => {
    const chain = writers[id];
    if (chain) {
      for (let k = 1; k < chain.length; k++) edges.add(order[chain[k - 1]!]!, order[chain[k]!]!, BY_SCOPE, pattern.entry);
      for (const position of readers[id] ?? []) hook(position, chain, pattern.entry, BY_READ_AFTER_WRITE, BY_WRITE_AFTER_READ);
    }
  });

  index.forEachOverlap((a, b) => {
    const writersA = writers[a];
    const writersB = writers[b];
    const readersA = readers[a];
    const readersB = readers[b];
    const linksWrites = writersA !== undefined && writersB !== undefined;
    const linksReads = (readersA !== undefined && writersB !== undefined) || (readersB !== undefined && writersA !== undefined);
    if (!linksWrites && !linksReads) return;
    const file = describeSharedScope(index.patterns[a]!, index.patterns[b]!);
    if (writersA && writersB) {
      const [small, large] = writersA.length <= writersB.length ? [writersA, writersB] : [writersB, writersA];
      for (const position of small) hook(position, large, file, BY_SCOPE, BY_SCOPE);
    }
    if (readersA && writersB) for (const position of readersA) hook(position, writersB, file, BY_READ_AFTER_WRITE, BY_WRITE_AFTER_READ);
    if (readersB && writersA) for (const position of readersB) hook(position, writersA, file, BY_READ_AFTER_WRITE, BY_WRITE_AFTER_READ);
  });
}
