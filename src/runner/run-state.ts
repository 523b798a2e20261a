import { existsSync } from 'node:fs';
import type { Task } from '../store/backend.ts';
import { timerDelay } from '../text/duration.ts';
import { Budget } from './budget.ts';
import { ConcurrencyController } from './rate-limit.ts';
import type { AttemptRecord } from './run-report.ts';
import { DependencyScheduler } from './scheduler.ts';
import type { PreparedWorkspace, TaskWorkspace } from './task-workspace.ts';
import { agentName } from './prompt.ts';

// Everything a run knows while it runs, in one place, so the loop (runner.ts) and one attempt
// (attempt.ts) read as steps: which tasks may start (scheduler, rate limits, budget), which agent
// slots are free, the worktrees being prepared, what every attempt took, and how the loop wakes.

export interface RunStateOptions {
  agents: number;
  budgetUsd?: number | undefined;
  backoffBaseMs?: number | undefined;
  backoffMaxMs?: number | undefined;
  estimateOf: (task: Task) => number;
  now: () => number;
  /** The store is shared with runners on other machines (shared-run.ts). */
  shared?: boolean | undefined;
  /** The run's interrupt: it stops worktree set-up commands under way. */
  signal?: AbortSignal | undefined;
}

function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(Math.random() * (index + 1));
    [copy[index], copy[other]] = [copy[other]!, copy[index]!];
  }
  return copy;
}

export class RunState {
  readonly scheduler: DependencyScheduler;
  readonly controller: ConcurrencyController;
  readonly budget: Budget;
  readonly now: () => number;
  readonly tasks: ReadonlyMap<string, Task>;
  readonly shared: boolean;
  private readonly signal: AbortSignal | undefined;
  /** Every attempt, in the order they ended. */
  readonly attempts: AttemptRecord[] = [];
  /** Tasks whose claim an interruption gave back. */
  readonly released: string[] = [];
  /** Evidence commits of completed tasks: where their dependents start. */
  readonly completedCommits = new Map<string, string>();
  /** Per task: time it was ready to run but no agent had started it. */
  readonly waitMs = new Map<string, number>();
  readonly running = new Set<Promise<void>>();
  /** The first unexpected error of an attempt: the run stops starting work and rethrows it. */
  failure: unknown;
  budgetAnnounced = false;
  private readonly freeAgents: string[];
  private readonly readySince = new Map<string, number>();
  private readonly preparing = new Map<string, Promise<PreparedWorkspace>>();
  /** Started tasks that do not have their worktree yet: preparing ahead must not compete with them. */
  private readonly awaitingCheckout = new Set<string>();
  private wake: () => void = () => {};
  private wakeup: Promise<void>;

  private readonly workspace: TaskWorkspace;

  constructor(tasks: readonly Task[], workspace: TaskWorkspace, options: RunStateOptions) {
    this.workspace = workspace;
    this.now = options.now;
    this.shared = options.shared === true;
    this.signal = options.signal;
    this.tasks = new Map(tasks.map((task) => [task.id, task]));
    this.scheduler = new DependencyScheduler(
      tasks.map((task) => ({ id: task.id, dependsOn: task.depends_on, estimateMs: options.estimateOf(task) })),
      tasks.filter((task) => task.state === 'completed').map((task) => task.id),
      // Runners on other machines would all reach for the same task first: each takes ties in its own order.
      this.shared ? shuffled(tasks.map((task) => task.id)) : undefined,
    );
    for (const task of tasks) {
      if (task.state === 'blocked') this.scheduler.block(task.id);
      if (task.state === 'completed' && task.commit) this.completedCommits.set(task.id, task.commit);
    }
    this.controller = new ConcurrencyController({
      max: options.agents,
      ...(options.backoffBaseMs !== undefined ? { baseDelayMs: options.backoffBaseMs } : {}),
      ...(options.backoffMaxMs !== undefined ? { maxDelayMs: options.backoffMaxMs } : {}),
    });
    this.budget = new Budget(options.budgetUsd);
    this.freeAgents = Array.from({ length: options.agents }, (_, index) => agentName(index + 1));
    this.wakeup = new Promise<void>((resolve) => (this.wake = resolve));
    this.noteReady();
  }

  /** Wakes the loop: an attempt ended, a worktree is ready, or the run was interrupted. */
  readonly notify = (): void => {
    this.noteReady();
    this.wake();
    this.wakeup = new Promise<void>((resolve) => (this.wake = resolve));
  };

  /** Resolves at the next notify, when a rate-limit pause that holds back a start ends, or after `atMostMs`. */
  async nextEvent(atMostMs = Number.POSITIVE_INFINITY): Promise<void> {
    const pause = this.controller.pauseRemaining(this.now());
    const delay = Math.min(atMostMs, pause > 0 && this.freeAgents.length > 0 ? pause : Number.POSITIVE_INFINITY);
    if (delay === Number.POSITIVE_INFINITY) return this.wakeup;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([this.wakeup, new Promise<void>((resolve) => (timer = setTimeout(resolve, timerDelay(delay))))]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The store took the task from this run: someone outside it holds or finished it. On a shared
   * store that is another machine, and the next re-list says what became of it; on this machine's
   * own store nobody else is meant to run the plan, so the run leaves it alone.
   */
  lose(id: string): void {
    if (this.shared) this.scheduler.hold(id);
    else this.scheduler.block(id);
    this.noteReady();
  }

  hasFreeAgent(): boolean {
    return this.freeAgents.length > 0;
  }

  /** Takes the lowest-numbered free agent slot for the task and starts its clock. */
  startTask(id: string): string {
    this.scheduler.start(id);
    const since = this.readySince.get(id);
    if (since !== undefined) this.waitMs.set(id, (this.waitMs.get(id) ?? 0) + (this.now() - since));
    this.readySince.delete(id);
    this.awaitingCheckout.add(id);
    return this.freeAgents.shift()!;
  }

  /** Runs an attempt in the agent's slot; the slot comes back (and the loop wakes) when it ends. */
  track(agent: string, id: string, attempt: Promise<void>): void {
    const promise: Promise<void> = attempt
      .catch((error: unknown) => {
        this.failure ??= error;
      })
      .finally(() => {
        this.awaitingCheckout.delete(id);
        this.running.delete(promise);
        this.freeAgents.push(agent);
        this.freeAgents.sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));
        this.notify();
      });
    this.running.add(promise);
  }

  /** The task's worktree: one preparation per task, shared by preparing ahead and the attempt. */
  workspaceFor(id: string): Promise<PreparedWorkspace> {
    let pending = this.preparing.get(id);
    if (!pending) {
      const task = this.tasks.get(id)!;
      const dependencies = task.depends_on.map((dep) => ({ id: dep, state: this.completedCommits.has(dep) ? 'completed' as const : 'available' as const, commit: this.completedCommits.get(dep) }));
      pending = this.workspace.prepare(task, dependencies, this.signal);
      this.preparing.set(id, pending);
      // A failed preparation is retried by the next attempt, not cached.
      pending.catch(() => this.preparing.delete(id));
    }
    return pending;
  }

  /** What an attempt waits on for its worktree; preparing ahead pauses meanwhile. */
  async awaitWorkspace(id: string): Promise<PreparedWorkspace> {
    try {
      const ready = await this.workspaceFor(id);
      if (existsSync(ready.path)) return ready;
      // Gone since it was prepared (an earlier attempt deleted it): prepared afresh from the branch.
      this.preparing.delete(id);
      return await this.workspaceFor(id);
    } finally {
      this.awaitingCheckout.delete(id);
      this.notify();
    }
  }

  /**
   * Worktrees of the next ready tasks are created while the agents work, so a free agent starts
   * at once. Never while an attempt waits for its own checkout: both would share the disk and the
   * repository lock, and the waiting agent matters more.
   */
  prepareAhead(count: number): void {
    if (this.awaitingCheckout.size > 0) return;
    for (const id of this.scheduler.ready().slice(0, count)) {
      if (!this.preparing.has(id)) this.workspaceFor(id).catch(() => {});
    }
  }

  /** Worktrees being created ahead finish (and are recorded) before the run reports and exits. */
  async settle(): Promise<void> {
    await Promise.allSettled(this.preparing.values());
  }

  /**
   * Opens the wait of every task that became ready and closes it for every task that stopped being
   * ready without starting here (held or done elsewhere): a task waits only while it could start.
   * Called after every change of the scheduler's states.
   */
  noteReady(): void {
    const now = this.now();
    const ready = new Set(this.scheduler.ready());
    for (const id of ready) if (!this.readySince.has(id)) this.readySince.set(id, now);
    for (const [id, since] of this.readySince) {
      if (ready.has(id)) continue;
      this.waitMs.set(id, (this.waitMs.get(id) ?? 0) + (now - since));
      this.readySince.delete(id);
    }
  }
}
