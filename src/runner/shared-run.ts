import type { Task, TaskBackend } from '../store/backend.ts';
import type { StoreVerdict } from './scheduler.ts';
import type { ProgressView } from './progress-view.ts';
import type { RunState } from './run-state.ts';

// A run on a store shared through a git remote: runners on other machines work on the same plan,
// so this one re-lists the store every few seconds and follows it for every task it is not
// running itself: done elsewhere (its dependents may start, from its recorded commit), blocked,
// held elsewhere (waiting, not lost), or open again. A claim this machine has watched go silent
// for the lease is taken back, so a machine that died does not hold its tasks for ever.

/** Each heartbeat on a shared store is a push: a few minutes apart, and still several per lease. */
export const SHARED_HEARTBEAT_MS = 5 * 60_000;
/** How often a runner on a shared store re-lists it (one fetch) to learn other machines' work. */
export const SHARED_POLL_MS = 5_000;
/** As often, while an agent of this runner has nothing to start: it waits on other machines. */
export const SHARED_IDLE_POLL_MS = 2_000;

/**
 * The heartbeat and re-list intervals on a shared store for a given lease (--stale-after, the same
 * on every machine): at least three heartbeats per lease, and at least four looks per lease, so a
 * silent claim is taken back soon after its lease and never before.
 */
export function sharedTiming(staleAfterMs: number): { heartbeatMs: number; pollMs: number; idlePollMs: number } {
  const pollMs = Math.max(100, Math.min(SHARED_POLL_MS, Math.floor(staleAfterMs / 4)));
  return {
    heartbeatMs: Math.max(100, Math.min(SHARED_HEARTBEAT_MS, Math.floor(staleAfterMs / 3))),
    pollMs,
    idlePollMs: Math.min(pollMs, SHARED_IDLE_POLL_MS),
  };
}

export interface SharedRunOptions {
  pollMs: number;
  idlePollMs: number;
  staleAfterMs: number;
}

function verdictOf(task: Task): StoreVerdict {
  switch (task.state) {
    case 'completed': return 'done';
    case 'blocked': return 'blocked';
    case 'claimed': return 'held';
    default: return 'open';
  }
}

/** The store as the runner sees it between its own transitions: one re-list at a time, in the background. */
export class StoreWatch {
  private readonly store: TaskBackend;
  private readonly state: RunState;
  private readonly view: ProgressView;
  private readonly options: SharedRunOptions;
  private readonly ids: ReadonlySet<string>;
  private lastAt: number;
  private pending: Promise<void> | undefined;

  constructor(store: TaskBackend, state: RunState, view: ProgressView, options: SharedRunOptions) {
    this.store = store;
    this.state = state;
    this.view = view;
    this.options = options;
    this.ids = new Set(state.tasks.keys());
    this.lastAt = state.now();
  }

  /** Ms until the next re-list is due (the loop sleeps no longer than that). */
  dueIn(): number {
    if (this.pending) return Number.POSITIVE_INFINITY;
    const idle = this.state.hasFreeAgent() && this.state.scheduler.next() === undefined;
    return Math.max(0, this.lastAt + (idle ? this.options.idlePollMs : this.options.pollMs) - this.state.now());
  }

  /** Starts a re-list when one is due; it wakes the loop when it has news. */
  poll(): void {
    if (this.dueIn() > 0) return;
    this.pending = this.relist()
      .catch((error: unknown) => this.view.event({ event: 'store-error', reason: (error as Error).message }))
      .finally(() => {
        this.pending = undefined;
        this.lastAt = this.state.now();
        this.state.notify();
      });
  }

  /** The re-list in flight, if any, finishes before the run reports. */
  async settle(): Promise<void> {
    await this.pending;
  }

  /** Follows the store for every plan task this runner is not running. */
  apply(tasks: readonly Task[]): void {
    const { scheduler } = this.state;
    for (const task of tasks) {
      if (!this.ids.has(task.id)) continue;
      const before = scheduler.stateOf(task.id);
      if (task.state === 'completed' && task.commit && before !== 'done' && before !== 'running') this.state.completedCommits.set(task.id, task.commit);
      scheduler.follow(task.id, verdictOf(task));
      const after = scheduler.stateOf(task.id);
      if (after !== before && (after === 'done' || after === 'blocked')) {
        this.view.event({ event: 'elsewhere', task: task.id, state: task.state, by: task.completed_by ?? task.claim?.agent });
      }
    }
    this.state.noteReady();
  }

  private async relist(): Promise<void> {
    const { staleAfterMs } = this.options;
    let { tasks } = await this.store.list({ staleAfterMs });
    const stale = tasks.filter((task) => this.ids.has(task.id) && task.claim?.stale !== undefined && this.state.scheduler.stateOf(task.id) !== 'running');
    for (const task of stale) {
      const report = await this.store.recover({ staleAfterMs, task: task.id });
      for (const taken of report.recovered) this.view.event({ event: 'recovered', task: taken.id, from: taken.agent, reason: taken.reason, to: taken.to });
    }
    if (stale.length > 0) ({ tasks } = await this.store.list({ staleAfterMs }));
    this.apply(tasks);
  }
}
