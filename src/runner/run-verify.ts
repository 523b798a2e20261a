import { CliError } from '../errors.ts';
import type { RepoContext } from '../git/repo-context.ts';
import { verifyStore, type StoreVerifyReport } from '../git/verify-store.ts';
import { VERIFY_BUSY, type Task, type TaskBackend } from '../store/backend.ts';
import { timerDelay } from '../text/duration.ts';
import type { ProgressView } from './progress-view.ts';

// The end of a run: one verify of the plan's tasks, merging only when every one is completed (a
// partial plan is checked, never merged). On a store shared with other machines their runs end
// about together; the store's lock lets one verify merge. The others wait for it and verify again:
// the target then has every task's work (nothing to merge: another machine merged it), or that
// verify stopped and this one runs the same checks itself, so a machine that died mid-verify or a
// failed test gate is not taken for success.

export interface RunVerifyOptions {
  target: string;
  taskIds: readonly string[];
  keepWorktrees?: boolean | undefined;
  cwd: string;
  test?: { command: string; mode: 'once'; timeoutMs: number } | undefined;
  emit?: ((event: Record<string, unknown> & { event: string }, human?: string) => void) | undefined;
  view: ProgressView;
  signal: AbortSignal;
  /** How often to look again while another machine's verify holds the lock. */
  pollMs: number;
  /** The lease this run holds the verify lock under (its --stale-after). */
  lockLeaseMs?: number | undefined;
}

export interface RunVerifyResult {
  verify?: StoreVerifyReport | undefined;
  note?: string | undefined;
}

function waitOrAbort(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, timerDelay(ms));
    signal.addEventListener('abort', done, { once: true });
  });
}

export async function verifyRun(context: RepoContext, store: TaskBackend, tasks: readonly Task[], options: RunVerifyOptions): Promise<RunVerifyResult> {
  let current = tasks;
  let waited = false;
  let lastHolder: string | undefined;
  options.view.event({ event: 'verify-start', tasks: current.filter((task) => task.state === 'completed').length });
  for (;;) {
    const allDone = current.every((task) => task.state === 'completed');
    try {
      const verify = await verifyStore(context, store, {
        target: options.target,
        taskIds: options.taskIds,
        dryRun: !allDone,
        keepWorktrees: options.keepWorktrees,
        cwd: options.cwd,
        lockLeaseMs: options.lockLeaseMs,
        ...(options.test ? { test: options.test } : {}),
        ...(options.emit ? { emit: options.emit } : {}),
      });
      return { verify, note: noteFor(verify, allDone, waited) };
    } catch (error) {
      if (!(error instanceof CliError) || error.details?.reason !== VERIFY_BUSY) throw error;
      const holder = String(error.details.holder ?? 'another machine');
      // Said again when another holder takes the lock: who holds it now, and when it would be taken over.
      if (holder !== lastHolder) options.view.event({ event: 'verify-wait', holder, ...takeover(error.details) });
      lastHolder = holder;
      waited = true;
      await waitOrAbort(options.pollMs, options.signal);
      if (options.signal.aborted) return { note: 'not run: the run was interrupted while another verify was merging' };
      // That verify may have reopened tasks whose work it refused: judge the plan afresh.
      const wanted = new Set(options.taskIds);
      current = (await store.list()).tasks.filter((task) => wanted.has(task.id));
    }
  }
}

function takeover(details: Record<string, unknown>): { lease_ms?: number; takeover_in_ms?: number } {
  const lease = details.lease_ms;
  const takeoverIn = details.takeover_in_ms;
  return typeof lease === 'number' && typeof takeoverIn === 'number' ? { lease_ms: lease, takeover_in_ms: takeoverIn } : {};
}

function noteFor(verify: StoreVerifyReport, allDone: boolean, waited: boolean): string | undefined {
  if (!allDone) return 'dry run: not every task completed, so the target was not moved';
  if (verify.status !== 'nothing-to-merge' || !verify.remote) return undefined;
  const { branch, after } = verify.target;
  const where = `${verify.remote.name}/${branch} at ${after.slice(0, 10)}`;
  // verify brought the local target along when it could (remote-verify.ts), or says why not.
  const local = verify.remote.local === 'unchanged' ? '' : `; local ${branch}: ${verify.remote.local}`;
  return waited
    ? `another machine's verify merged the plan: ${where} has every task's work${local}`
    : `${where} already has every task's work (merged by an earlier verify, here or on another machine)${local}`;
}
