import { CliError } from '../errors.ts';
import { describeProcess } from '../process/liveness.ts';
import type { ClaimResult, HolderRequest, Task, TaskBackend } from '../store/backend.ts';
import { timerDelay } from '../text/duration.ts';
import type { RunState } from './run-state.ts';

// An attempt's claim from start to settle: taking it (only the task the scheduler chose), keeping
// its lease fresh while the attempt lasts, and recording a failure against it.

export type Holder = Required<Pick<HolderRequest, 'agent' | 'task' | 'token'>>;

export function isCode(error: unknown, ...codes: string[]): boolean {
  return error instanceof CliError && codes.includes(error.code);
}

export async function claimTask(state: RunState, store: TaskBackend, agent: string, wanted: string, leaseMs?: number): Promise<ClaimResult | undefined> {
  let claim: ClaimResult;
  try {
    claim = await store.claim({ agent, holder: describeProcess(process.pid), task: wanted, leaseMs });
  } catch (error) {
    if (!isCode(error, 'E_NOTHING_CLAIMABLE', 'E_NO_WORK')) throw error;
    // Someone outside this run holds it (or finished it): leave it to them.
    state.lose(wanted);
    return undefined;
  }
  if (claim.task.id === wanted) return claim;
  // The store handed out another task than the one asked for: only take it if it is ours to run.
  state.scheduler.requeue(wanted);
  if (state.scheduler.stateOf(claim.task.id) !== 'ready') {
    await store.release({ agent, task: claim.task.id, token: claim.token });
    state.lose(wanted);
    return undefined;
  }
  state.scheduler.start(claim.task.id);
  return claim;
}

/**
 * Heartbeats from the claim until the attempt settles it, one at a time. A failed heartbeat means
 * the claim was taken from us (recovered as stale): the attempt's result will then be refused by
 * the store. `stop` waits for a heartbeat in flight, so it never races the settling transition.
 */
export function keepClaimAlive(store: TaskBackend, holder: Holder, everyMs: number): { stop(): Promise<void> } {
  let inFlight: Promise<void> | undefined;
  const timer = setInterval(() => {
    inFlight ??= store.heartbeat(holder).then(() => undefined, () => undefined).finally(() => (inFlight = undefined));
  }, timerDelay(everyMs));
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
    },
  };
}

/** Records the failure; undefined when the claim was already taken from us (recovered as stale). */
export async function failClaim(store: TaskBackend, holder: Holder, reason: string): Promise<Task | undefined> {
  try {
    return await store.fail({ ...holder, reason });
  } catch (error) {
    if (isCode(error, 'E_NOT_HOLDER', 'E_NOT_FOUND')) return undefined;
    throw error;
  }
}
