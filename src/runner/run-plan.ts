import { join } from 'node:path';
import { CliError, EXIT } from '../errors.ts';
import { branchRefName, currentBranch, openRepoContext } from '../git/repo-context.ts';
import { resolveCommit } from '../repo/run-git.ts';
import { fetchRemoteTarget } from '../git/remote-verify.ts';
import type { StoreVerifyReport } from '../git/verify-store.ts';
import { listWorktreeRecords } from '../git/worktree-registry.ts';
import type { CheckoutMode } from '../git/worktree-sparse.ts';
import { parseDuration } from '../text/duration.ts';
import { loadPlan } from '../plan/load-plan.ts';
import { publishPlan } from '../plan/publish-plan.ts';
import { openStore } from '../store/open-store.ts';
import { DEFAULT_LEASE_MS } from '../store/rules.ts';
import type { AgentAdapter } from './adapters/agent-adapter.ts';
import { reapOrphanAgents } from './orphan-agents.ts';
import type { ProgressView } from './progress-view.ts';
import { buildRunReport, formatRunReport, writeRunReport, type RunReport } from './run-report.ts';
import { runTasks } from './runner.ts';
import { verifyRun } from './run-verify.ts';
import { sharedTiming } from './shared-run.ts';
import { readProjectConfig } from '../repo/project-config.ts';
import { gitTaskWorkspace } from './task-workspace.ts';

// `run PLAN`: check and publish the plan, run its tasks with N agents, verify the merge behind the
// test command, and leave a report next to the store. The steps are the same CLI verbs a person
// would type (plan publish, worktree add, claim, complete, verify), so every intermediate state is
// one `status` away and `run --resume` can pick up from any of them. On a store shared through a
// git remote, runs on several machines share the plan (shared-run.ts, run-verify.ts).

export const REPORT_FILE = 'run-report.json';

export interface RunPlanOptions {
  cwd: string;
  tasksDir?: string | undefined;
  /** --store: "local" or "git:<remote>"; default PARALLEL_STORE, else local. */
  store?: string | undefined;
  env: NodeJS.ProcessEnv;
  planPath: string;
  /** Default: the count `plan check` recommends for this plan. */
  agents?: number | undefined;
  adapter: AgentAdapter;
  timeoutMs: number;
  /** Default: 30 s on this machine's store; on a shared store a few minutes (each one is a push; shared-run.ts). */
  heartbeatMs?: number | undefined;
  killGraceMs?: number;
  maxAttempts?: number | undefined;
  testCommand?: string | undefined;
  testTimeoutMs?: number;
  budgetUsd?: number | undefined;
  resume: boolean;
  /** Publish even while unfinished tasks of another plan are in the store (publish-plan.ts). */
  allowMixed?: boolean | undefined;
  /** Branch verify merges into; default the main worktree's current branch. */
  into?: string | undefined;
  /** What each task's worktree checks out (worktree-sparse.ts); default auto. */
  checkout?: CheckoutMode | undefined;
  /** Leave the merged tasks' worktrees and branches in place. */
  keepWorktrees?: boolean | undefined;
  /** When the run began, for its wall time: the CLI passes its own start, so start-up counts too. */
  startedAt?: number | undefined;
  staleAfterMs?: number;
  backoffBaseMs?: number;
  signal: AbortSignal;
  view: ProgressView;
  emit?: (event: Record<string, unknown> & { event: string }, human?: string) => void;
}

export interface RunPlanResult {
  report: RunReport;
  reportPath: string;
  exitCode: number;
  text: string;
}

export async function runPlan(options: RunPlanOptions): Promise<RunPlanResult> {
  // The report's wall time starts here: everything the run does counts, not only the agents.
  const runStartedAt = options.startedAt ?? Date.now();
  const plan = await loadPlan(options.planPath);
  if (options.maxAttempts !== undefined) for (const task of plan.tasks) task.max_attempts = options.maxAttempts;
  options.adapter.checkTasks?.(plan.tasks, options.planPath);
  const store = openStore({ cwd: options.cwd, tasksDir: options.tasksDir, store: options.store, env: options.env });
  const context = openRepoContext({ cwd: options.cwd, tasksDir: options.tasksDir, env: options.env });
  const target = options.into ?? currentBranch(context.repoRoot);
  if (!target) throw new CliError('E_GIT', `${context.repoRoot} is on a detached HEAD; check out the branch to merge into, or pass --into BRANCH`);
  // On a shared store the plan's work merges into the remote's target: the run starts from it, and
  // a local target with commits the remote lacks is refused before anything is published.
  const remoteTarget = store.shared ? (await fetchRemoteTarget(context, store.shared, target, 'run the plan again')).remote : undefined;
  if (!(await store.exists())) await store.init();
  const runBaseRef = plan.base ?? target;
  const runBase = runBaseRef === target ? remoteTarget ?? resolveCommit(branchRefName(target), context.repoRoot) : resolveCommit(runBaseRef, context.repoRoot);
  if (!runBase) throw new CliError('E_NOT_FOUND', `the plan's base "${runBaseRef}" names no commit; fix "base" in ${options.planPath}`);
  // Read now: a malformed .parallel-agents.json would otherwise fail every task's worktree, one attempt at a time.
  readProjectConfig(context.repoRoot);

  const ids = plan.tasks.map((task) => task.id);
  const before = new Map((await store.list()).tasks.map((task) => [task.id, task]));
  // A shared store's plan is started by other machines too: joining it is the point. It "ran here"
  // only where this machine has worktrees of its tasks.
  const here = store.shared ? new Set(listWorktreeRecords(context.storeDir).records.map((record) => record.task)) : undefined;
  const started = ids.filter((id) => before.has(id) && before.get(id)!.state !== 'available' && (here === undefined || here.has(id)));
  if (started.length > 0 && !options.resume) {
    throw new CliError('E_REFUSED', `plan "${plan.name}" already ran here (${started.length} task(s) not available, e.g. ${started.slice(0, 3).join(', ')}); continue it with "parallel-agents run ${options.planPath} --resume"`);
  }
  if (options.resume) {
    // A runner killed with -9 left its agents running in their own groups: stop them before
    // recovery hands their tasks to new attempts.
    const reaped = reapOrphanAgents(join(store.localDir, 'runner'));
    const recovered = await store.recover({ staleAfterMs: options.staleAfterMs ?? DEFAULT_LEASE_MS });
    options.emit?.({ event: 'resume', reaped, recovered: recovered.recovered.map((claim) => claim.id) },
      `resume: ${recovered.recovered.length} stale claim(s) recovered${reaped.length > 0 ? `, ${reaped.length} orphaned agent(s) stopped` : ''}`);
    // Claims still live after recovery belong to a run (or session) that is still going: resuming
    // beside it would only end "0 completed". On a shared store other machines' claims are normal.
    if (!store.shared) {
      const live = (await store.list({ staleAfterMs: options.staleAfterMs ?? DEFAULT_LEASE_MS })).tasks.filter((task) => ids.includes(task.id) && task.state === 'claimed' && !task.claim?.stale);
      if (live.length > 0) {
        const first = live[0]!;
        const holder = first.claim?.holder ? ` (process ${first.claim.holder.pid})` : '';
        throw new CliError('E_REFUSED', `plan "${plan.name}" is still being run: ${live.length} of its task(s) held by live agents, e.g. ${first.id} by ${first.claim?.agent}${holder}; wait for that run to end, or stop it, then resume`, { held: live.map((task) => task.id) });
      }
    }
  }
  const published = await publishPlan(store, plan, { allowMixed: options.allowMixed, run: { maxAttempts: options.maxAttempts } });
  options.emit?.({ event: 'publish', plan: published.plan, published: published.published, skipped: published.skipped },
    `plan ${published.plan}: ${published.published.length} task(s) published, ${published.skipped.length} already there`);
  const agents = options.agents ?? published.analysis.agents.recommended;
  if (options.agents === undefined) {
    options.emit?.({ event: 'agents', agents, reason: published.analysis.agents.reason }, `agents: ${agents} (${published.analysis.agents.reason})`);
  }
  const estimates = new Map(plan.tasks.map((task) => [task.id, task.estimate ? parseDuration(task.estimate, { unitRequired: true }) : undefined]));
  const known = [...estimates.values()].filter((value): value is number => value !== undefined);
  const fallbackEstimate = known.length > 0 ? known.reduce((sum, value) => sum + value, 0) / known.length : 1;
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_LEASE_MS;
  const shared = store.shared ? { staleAfterMs, ...sharedTiming(staleAfterMs) } : undefined;

  const outcome = await runTasks(
    { store, workspace: gitTaskWorkspace(context, runBase, options.checkout), adapter: options.adapter, view: options.view },
    {
      taskIds: ids,
      agents,
      timeoutMs: options.timeoutMs,
      heartbeatMs: options.heartbeatMs ?? shared?.heartbeatMs ?? 30_000,
      ...(options.killGraceMs !== undefined ? { killGraceMs: options.killGraceMs } : {}),
      ...(options.backoffBaseMs !== undefined ? { backoffBaseMs: options.backoffBaseMs } : {}),
      budgetUsd: options.budgetUsd,
      signal: options.signal,
      estimateOf: (task) => estimates.get(task.id) ?? fallbackEstimate,
      shared,
    },
  );

  let verify: StoreVerifyReport | undefined;
  let verifyNote: string | undefined;
  if (outcome.interrupted) {
    verifyNote = 'not run: the run was interrupted (continue with --resume)';
  } else {
    ({ verify, note: verifyNote } = await verifyRun(context, store, outcome.tasks, {
      target,
      taskIds: ids,
      keepWorktrees: options.keepWorktrees,
      cwd: options.cwd,
      test: options.testCommand ? { command: options.testCommand, mode: 'once', timeoutMs: options.testTimeoutMs ?? 10 * 60_000 } : undefined,
      emit: options.emit,
      view: options.view,
      signal: options.signal,
      pollMs: shared?.idlePollMs ?? 5_000,
      lockLeaseMs: staleAfterMs,
    }));
  }
  const runEndedAt = Date.now();
  const cleanupMs = verify?.cleanup_ms ?? 0;
  const whole = buildRunReport({
    agents, adapter: options.adapter.name, startedAt: runStartedAt, endedAt: runEndedAt,
    tasks: outcome.tasks.map((task) => ({ id: task.id, dependsOn: task.depends_on, state: task.state, commit: task.commit, waitMs: outcome.state.waitMs.get(task.id) })),
    attempts: outcome.state.attempts,
    // Before the first claim (process start, plan check, publish) and after the last attempt
    // (verify, cleanup) only the runner works: every slot waits on it.
    runSteps: { start: outcome.startedAt - runStartedAt, verify: runEndedAt - outcome.endedAt - cleanupMs, cleanup: cleanupMs },
    budgetUsd: options.budgetUsd,
    budgetStopped: outcome.report.budget_stopped,
    rateLimit: outcome.report.rate_limit,
  });
  const report: RunReport = { ...whole, verify: verify ? { ...verify, ...(verifyNote ? { note: verifyNote } : {}) } : { note: verifyNote } };
  const reportPath = join(store.localDir, REPORT_FILE);
  writeRunReport(reportPath, report);

  const lines = [formatRunReport(report), ''];
  if (verify) {
    lines.push(`verify: ${verify.status}${verify.stopped_because.length > 0 ? ` (${verify.stopped_because.join(', ')})` : ''}${verifyNote ? ` - ${verifyNote}` : ''}`);
    if (verify.status === 'merged') lines.push(`${target} moved ${verify.target.before.slice(0, 10)} -> ${verify.target.after.slice(0, 10)} with ${verify.merged.length} task(s)`);
    if (verify.test) lines.push(`tests: ${verify.test.command} exit ${verify.test.exit_code ?? '?'}`);
    for (const conflict of verify.conflicts) lines.push(`conflict: ${conflict.tasks.join(' x ')} in ${conflict.files.join(', ')}`);
    for (const violation of verify.violations) lines.push(`scope violation: ${violation.task} changed ${violation.files.join(', ')}`);
    if (verify.removed.length > 0) lines.push(`removed ${verify.removed.length} merged worktree(s) and their branches: ${verify.removed.map((entry) => entry.task).join(', ')} (--keep-worktrees keeps them)`);
    for (const entry of verify.removed) for (const ref of entry.backup_refs) lines.push(`backup of ${entry.task}'s work the target does not have: ${ref}`);
    if (verify.status === 'merged' || verify.status === 'nothing-to-merge') for (const entry of verify.cleanup) lines.push(`kept the worktree of ${entry.task}${entry.reason ? `: ${entry.reason}` : ''} (${entry.command})`);
  } else if (verifyNote) {
    lines.push(`verify: ${verifyNote}`);
  }
  lines.push(`report: ${reportPath}`);
  const success = !outcome.interrupted && verify !== undefined && (verify.status === 'merged' || verify.status === 'nothing-to-merge') && report.counts.completed === report.counts.total;
  return { report, reportPath, exitCode: success ? EXIT.ok : EXIT.failed, text: lines.join('\n') };
}
