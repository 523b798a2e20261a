// Dependency-driven list scheduling with critical-path priority: starting a task as soon as its own
// dependencies are done, highest bottom level first, keeps random plans within a few percent of the
// lower bound where waves with a barrier lose far more (bench/RESULTS.md, runner). The class is pure
// state so the same code drives a simulated clock in tests and the benchmark, and real agent
// processes in the runner.

export interface SchedulableTask {
  id: string;
  dependsOn: readonly string[];
  /** Expected duration; only its relative size matters (it orders the ready tasks). */
  estimateMs: number;
}

/**
 * Bottom level of every task: its own estimate plus the longest chain of estimates below it to a
 * sink. Dependencies outside the set are ignored (they are already done or not ours to run).
 */
export function bottomLevels(tasks: readonly SchedulableTask[]): Map<string, number> {
  const byId = new Map(tasks.map((task) => [task.id, task]));
  const dependents = new Map<string, string[]>(tasks.map((task) => [task.id, []]));
  const pendingDeps = new Map<string, number>();
  for (const task of tasks) {
    const inside = task.dependsOn.filter((dep) => byId.has(dep));
    pendingDeps.set(task.id, inside.length);
    for (const dep of inside) dependents.get(dep)!.push(task.id);
  }
  // Reverse topological order: process sinks first through a Kahn pass, then walk it backwards.
  const order: string[] = [];
  const queue = tasks.filter((task) => pendingDeps.get(task.id) === 0).map((task) => task.id);
  const remaining = new Map(pendingDeps);
  while (queue.length > 0) {
    const id = queue.pop()!;
    order.push(id);
    for (const next of dependents.get(id)!) {
      const left = remaining.get(next)! - 1;
      remaining.set(next, left);
      if (left === 0) queue.push(next);
    }
  }
  const level = new Map<string, number>();
  for (let index = order.length - 1; index >= 0; index--) {
    const id = order[index]!;
    let below = 0;
    for (const next of dependents.get(id)!) below = Math.max(below, level.get(next) ?? 0);
    level.set(id, byId.get(id)!.estimateMs + below);
  }
  // Tasks on a cycle never become ready; give them a level so lookups stay total.
  for (const task of tasks) if (!level.has(task.id)) level.set(task.id, task.estimateMs);
  return level;
}

/** `held`: a task another runner holds (a shared store); neither ours to start nor lost. */
export type TaskProgress = 'waiting' | 'ready' | 'running' | 'done' | 'blocked' | 'held';

/** What the store says of a task this runner is not running: the scheduler follows it. */
export type StoreVerdict = 'done' | 'blocked' | 'held' | 'open';

/**
 * Tracks which tasks may start. A task is ready when every dependency inside the set is done
 * (dependencies outside the set count as done: the caller passes only what is left to run).
 */
export class DependencyScheduler {
  readonly priority: Map<string, number>;
  private readonly state = new Map<string, TaskProgress>();
  private readonly unmetDeps = new Map<string, Set<string>>();
  private readonly dependents = new Map<string, string[]>();
  private readonly order: string[];
  private readonly tieRank: Map<string, number>;

  /** `tieOrder`: the order equal priorities are taken in (default: plan order). */
  constructor(tasks: readonly SchedulableTask[], alreadyDone: Iterable<string> = [], tieOrder?: readonly string[]) {
    this.priority = bottomLevels(tasks);
    const ids = new Set(tasks.map((task) => task.id));
    const done = new Set(alreadyDone);
    this.order = tasks.map((task) => task.id);
    this.tieRank = new Map((tieOrder ?? this.order).map((id, index) => [id, index]));
    for (const task of tasks) {
      this.dependents.set(task.id, []);
    }
    for (const task of tasks) {
      const unmet = new Set(task.dependsOn.filter((dep) => ids.has(dep) && !done.has(dep)));
      this.unmetDeps.set(task.id, unmet);
      for (const dep of unmet) this.dependents.get(dep)!.push(task.id);
      this.state.set(task.id, done.has(task.id) ? 'done' : unmet.size === 0 ? 'ready' : 'waiting');
    }
  }

  /** Ready tasks, longest remaining path first; ties in the tie order (plan order unless given: reproducible runs). */
  ready(): string[] {
    return this.order
      .filter((id) => this.state.get(id) === 'ready')
      .sort((a, b) => this.priority.get(b)! - this.priority.get(a)! || (this.tieRank.get(a) ?? 0) - (this.tieRank.get(b) ?? 0));
  }

  next(): string | undefined {
    return this.ready()[0];
  }

  start(id: string): void {
    this.expect(id, 'ready');
    this.state.set(id, 'running');
  }

  /** The task finished for good: its dependents may become ready. */
  complete(id: string): void {
    this.expect(id, 'running');
    this.markDone(id);
  }

  /**
   * Someone else's word on a task this runner is not running (another machine on a shared
   * store): done, blocked, held elsewhere, or open again (ready once its dependencies are done).
   * A task running here is this runner's to settle, and a done task stays done.
   */
  follow(id: string, verdict: StoreVerdict): void {
    const current = this.state.get(id);
    if (current === undefined || current === 'running' || current === 'done') return;
    if (verdict === 'done') this.markDone(id);
    else if (verdict === 'open') this.state.set(id, this.unmetDeps.get(id)!.size === 0 ? 'ready' : 'waiting');
    else this.state.set(id, verdict);
  }

  /** Another runner holds the task: it waits for the store to say what became of it. */
  hold(id: string): void {
    if (this.state.get(id) !== 'done') this.state.set(id, 'held');
  }

  private markDone(id: string): void {
    this.state.set(id, 'done');
    for (const next of this.dependents.get(id)!) {
      const unmet = this.unmetDeps.get(next)!;
      unmet.delete(id);
      if (unmet.size === 0 && this.state.get(next) === 'waiting') this.state.set(next, 'ready');
    }
  }

  /** The attempt did not finish the task but it may run again (retry, rate limit, interruption). */
  requeue(id: string): void {
    this.expect(id, 'running');
    this.state.set(id, 'ready');
  }

  /** The task will not finish; everything downstream of it can never start. */
  block(id: string): void {
    this.state.set(id, 'blocked');
  }

  stateOf(id: string): TaskProgress | undefined {
    return this.state.get(id);
  }

  count(progress: TaskProgress): number {
    let total = 0;
    for (const value of this.state.values()) if (value === progress) total++;
    return total;
  }

  get size(): number {
    return this.state.size;
  }

  /** Nothing is running, nothing can start, and nobody else holds a task: the run is over (possibly with unreachable tasks). */
  finished(): boolean {
    return this.count('running') === 0 && this.count('ready') === 0 && this.count('held') === 0;
  }

  /** Tasks that can never start because a dependency is blocked. */
  unreachable(): string[] {
    return this.order.filter((id) => this.state.get(id) === 'waiting');
  }

  private expect(id: string, progress: TaskProgress): void {
    const current = this.state.get(id);
    if (current !== progress) throw new Error(`scheduler: task ${id} is ${current ?? 'unknown'}, expected ${progress}`);
  }
}

export interface SimulatedRun {
  makespan: number;
  /** Start time and worker of each task. */
  starts: Map<string, { at: number; worker: number }>;
  /** Task ids in the order they started. */
  order: string[];
}

/**
 * Runs the scheduler on a simulated clock: `durationOf` gives each task's real duration (which may
 * differ from its estimate). Used by tests (order and makespan on literal DAGs) and by the
 * benchmark as the model the real runs are compared against.
 */
export function simulateSchedule(
  tasks: readonly SchedulableTask[],
  workers: number,
  durationOf: (id: string) => number = (id) => tasks.find((task) => task.id === id)!.estimateMs,
): SimulatedRun {
  const scheduler = new DependencyScheduler(tasks);
  const freeWorkers = Array.from({ length: workers }, (_, index) => index);
  const running: { id: string; end: number; worker: number }[] = [];
  const starts = new Map<string, { at: number; worker: number }>();
  const order: string[] = [];
  let now = 0;
  for (;;) {
    let id: string | undefined;
    while (freeWorkers.length > 0 && (id = scheduler.next()) !== undefined) {
      const worker = freeWorkers.shift()!;
      scheduler.start(id);
      starts.set(id, { at: now, worker });
      order.push(id);
      running.push({ id, end: now + durationOf(id), worker });
    }
    if (running.length === 0) break;
    running.sort((a, b) => a.end - b.end || a.worker - b.worker);
    const first = running.shift()!;
    now = first.end;
    scheduler.complete(first.id);
    freeWorkers.push(first.worker);
    freeWorkers.sort((a, b) => a - b);
    // Finish every task ending at the same instant before choosing, so ties do not depend on order.
    while (running.length > 0 && running[0]!.end === now) {
      const same = running.shift()!;
      scheduler.complete(same.id);
      freeWorkers.push(same.worker);
      freeWorkers.sort((a, b) => a - b);
    }
  }
  return { makespan: now, starts, order };
}
