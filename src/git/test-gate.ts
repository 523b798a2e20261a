import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { withRepoLock } from './repo-lock.ts';
import { ensureWorktreesExcluded, type RepoContext } from './repo-context.ts';
import { runGit, runGitAsync } from '../repo/run-git.ts';
import { INTEGRATION_WORKTREE_PREFIX } from './worktree.ts';
import type { IntegrationStep } from './integrate.ts';
import { prepareWorktree } from './worktree-setup.ts';
import { runShell, tailOf } from '../process/run-shell.ts';

// The user's test command (their own input, run through `sh -c` like a Makefile line) runs in a
// temporary detached worktree of the integration commit, never in the user's or an agent's tree.

export const OUTPUT_TAIL_LINES = 40;

export interface TestRun {
  /** The task whose merge produced the tested commit; "(target)" for the target itself. */
  task: string;
  commit: string;
  exit_code: number;
  signal: string | null;
  duration_ms: number;
  output_tail: string;
}

export interface TestGateResult {
  command: string;
  mode: 'each' | 'once';
  runs: TestRun[];
  /** The task that made the test fail; "(target)" when the target already fails. */
  failed_task: string | undefined;
  failed_run: TestRun | undefined;
}

export const TARGET_LABEL = '(target)';

export interface TestGateOptions {
  command: string;
  mode: 'each' | 'once';
  timeoutMs: number;
  onRun?: (phase: 'start' | 'end', run: Partial<TestRun> & { task: string; commit: string }) => void;
}

export async function runTestGate(context: RepoContext, targetCommit: string, steps: readonly IntegrationStep[], options: TestGateOptions): Promise<TestGateResult> {
  const result: TestGateResult = { command: options.command, mode: options.mode, runs: [], failed_task: undefined, failed_run: undefined };
  const tested = steps.filter((step) => step.how !== 'already-contained');
  if (tested.length === 0) return result;
  // Created at the commit the first run tests, so that run needs no second checkout.
  let fresh: string | undefined = options.mode === 'each' ? tested[0]!.commit : tested[tested.length - 1]!.commit;
  const worktree = await createTestWorktree(context, fresh);
  try {
    const { env, setup } = await prepareWorktree(context, { path: worktree, scratch: true });
    // What a set-up command leaves is cleaned before every run, the first included.
    if (setup) fresh = undefined;
    const test = async (task: string, commit: string): Promise<TestRun> => {
      const run = await runTestAt(worktree, task, commit, options, env, commit === fresh);
      fresh = undefined;
      result.runs.push(run);
      return run;
    };
    const blame = async (index: number, run: TestRun): Promise<void> => {
      // A failure on the first merge may be the target's own: check before blaming the task.
      if (index === 0) {
        const baseline = await test(TARGET_LABEL, targetCommit);
        if (baseline.exit_code !== 0) {
          result.failed_task = TARGET_LABEL;
          result.failed_run = baseline;
          return;
        }
      }
      result.failed_task = tested[index]!.task;
      result.failed_run = run;
    };
    if (options.mode === 'each') {
      for (let index = 0; index < tested.length; index++) {
        const run = await test(tested[index]!.task, tested[index]!.commit);
        if (run.exit_code !== 0) {
          await blame(index, run);
          break;
        }
      }
    } else {
      const last = tested.length - 1;
      const final = await test(tested[last]!.task, tested[last]!.commit);
      if (final.exit_code !== 0) {
        // Bisect the chain: the first merge whose commit fails is the one that broke the test.
        let good = -1;
        let bad = last;
        let badRun = final;
        while (bad - good > 1) {
          const mid = Math.floor((good + bad) / 2);
          const run = await test(tested[mid]!.task, tested[mid]!.commit);
          if (run.exit_code === 0) good = mid;
          else {
            bad = mid;
            badRun = run;
          }
        }
        await blame(bad, badRun);
      }
    }
  } finally {
    await removeTestWorktree(context, worktree);
  }
  return result;
}

async function createTestWorktree(context: RepoContext, commit: string): Promise<string> {
  mkdirSync(context.worktreesDir, { recursive: true });
  const path = join(context.worktreesDir, `${INTEGRATION_WORKTREE_PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`);
  await withRepoLock(context, async () => {
    ensureWorktreesExcluded(context);
    await runGitAsync(['worktree', 'add', '--detach', '--no-checkout', path, commit], { cwd: context.repoRoot });
  });
  // The file checkout is the slow part: outside the lock, off the event loop.
  await runGitAsync(['read-tree', '-mu', 'HEAD'], { cwd: path });
  return path;
}

async function removeTestWorktree(context: RepoContext, path: string): Promise<void> {
  await withRepoLock(context, () => {
    runGit(['worktree', 'remove', '--force', path], { cwd: context.repoRoot, okExitCodes: [128] });
  });
  rmSync(path, { recursive: true, force: true });
}

async function runTestAt(worktree: string, task: string, commit: string, options: TestGateOptions, env: Record<string, string>, fresh: boolean): Promise<TestRun> {
  if (!fresh) {
    // Whatever the previous run built or changed must not leak into this one (ignored files such
    // as dependency folders stay, as they would in a normal checkout).
    await runGitAsync(['checkout', '--force', '--detach', '--quiet', commit], { cwd: worktree });
    await runGitAsync(['clean', '-fdq'], { cwd: worktree });
  }
  options.onRun?.('start', { task, commit });
  const started = Date.now();
  const outcome = await runShell(options.command, {
    cwd: worktree,
    env: { ...env, PARALLEL_VERIFY_TASK: task, PARALLEL_VERIFY_COMMIT: commit },
    timeoutMs: options.timeoutMs,
  });
  const run: TestRun = { task, commit, exit_code: outcome.exitCode, signal: outcome.signal, duration_ms: Date.now() - started, output_tail: tailOf(outcome.output, OUTPUT_TAIL_LINES) };
  options.onRun?.('end', run);
  return run;
}
