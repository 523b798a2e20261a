import { CliError } from '../errors.ts';
import { ownershipViolations } from './ownership.ts';
import { precheckConflicts, type PrecheckConflict } from './conflict-precheck.ts';
import { buildIntegrationChain, integrationRefName, orderByDependencies, type IntegrationStep } from './integrate.ts';
import type { RepoContext } from './repo-context.ts';
import { branchRefName, controlDirs } from './repo-context.ts';
import { requireMergeTreeSupport, resolveCommit, runGit } from '../repo/run-git.ts';
import { fastForwardTarget } from './target-update.ts';
import { runTestGate, type TestGateResult } from './test-gate.ts';

// verify: ownership -> conflict pre-check -> dependency-ordered integration on a scratch ref -> test
// gate -> fast-forward. Any problem stops before the last step, so the target's commit id is the
// same as before; nothing is ever resolved automatically.

export interface VerifyCandidate {
  task: string;
  title: string;
  /** Branch name, or the commit id when the task recorded a commit without a branch. */
  branch: string;
  head: string;
  /** Declared write scope; empty = undeclared (not checked). */
  scope: readonly string[];
  depends_on: readonly string[];
  /**
   * Commit the task's branch started from, when it did not start from the target (the runner
   * stacks a task on its dependencies' commits): ownership counts only what the task itself
   * changed after that commit, not its dependencies' work.
   */
  base?: string | undefined;
  /** Task worktree, for the cleanup hint. */
  worktree?: string | undefined;
}

export interface VerifyOptions {
  target: string;
  candidates: readonly VerifyCandidate[];
  /** Tasks set aside before verify (not completed, branch gone, already merged...). */
  skipped?: { task: string; reason: string }[];
  test?: { command: string; mode: 'each' | 'once'; timeoutMs: number } | undefined;
  dryRun?: boolean;
  allowScopeDrift?: boolean;
  emit?: (event: Record<string, unknown> & { event: string }, human?: string) => void;
}

export type VerifyStatus = 'merged' | 'clean-dry-run' | 'nothing-to-merge' | 'stopped';

export interface VerifyReport {
  status: VerifyStatus;
  /** Codes: scope-violations, conflicts, test-failure, target-refused. */
  stopped_because: string[];
  /** Why the target could not be fast-forwarded (dirty checkout, target moved). */
  refusal: string | null;
  target: { branch: string; before: string; after: string; updated_worktree: string | null };
  order: string[];
  merged: { task: string; branch: string; head: string; how: IntegrationStep['how'] }[];
  changes: { task: string; branch: string; head: string; changed: number; deleted: number; scope_checked: boolean }[];
  skipped: { task: string; reason: string }[];
  violations: { task: string; files: string[] }[];
  scope_drift_allowed: boolean;
  conflicts: (PrecheckConflict | { tasks: string[]; against: 'integration'; files: string[]; kinds: string[] })[];
  precheck: { merges_checked: number; pairs_skipped: number; duration_ms: number };
  /** null when no --test was given. */
  test: (Omit<TestGateResult, 'failed_run' | 'failed_task'> & { failed_task: string | null; exit_code: number | null; output_tail: string }) | null;
  /** Worktrees whose work is merged and that are still there, with the command that removes each. */
  cleanup: { task: string; worktree: string; command: string; reason?: string }[];
  duration_ms: number;
}

export async function runVerify(context: RepoContext, options: VerifyOptions): Promise<VerifyReport> {
  const started = Date.now();
  const emit = options.emit ?? (() => undefined);
  const cwd = context.repoRoot;
  requireMergeTreeSupport(cwd);
  const before = resolveCommit(branchRefName(options.target), cwd);
  if (!before) throw new CliError('E_NOT_FOUND', `target branch "${options.target}" does not exist; name an existing branch with --into`);

  const ordered = orderByDependencies(options.candidates);
  const report: VerifyReport = {
    status: 'stopped',
    stopped_because: [],
    target: { branch: options.target, before, after: before, updated_worktree: null },
    order: ordered.map((candidate) => candidate.task),
    merged: [],
    changes: [],
    skipped: options.skipped ?? [],
    violations: [],
    scope_drift_allowed: options.allowScopeDrift === true,
    conflicts: [],
    precheck: { merges_checked: 0, pairs_skipped: 0, duration_ms: 0 },
    test: null,
    refusal: null,
    cleanup: [],
    duration_ms: 0,
  };
  const finish = (): VerifyReport => {
    report.duration_ms = Date.now() - started;
    return report;
  };
  if (ordered.length === 0) {
    report.status = 'nothing-to-merge';
    return finish();
  }

  // 1+2. One batched pre-check yields both what each branch changes (ownership) and every conflict
  // against the target or between branches; both always run, so one report lists every problem.
  const precheckStart = Date.now();
  const precheck = await precheckConflicts(cwd, before, ordered.map((candidate) => ({ task: candidate.task, head: candidate.head, base: candidate.base })));
  report.precheck = { merges_checked: precheck.merges_checked, pairs_skipped: precheck.pairs_skipped, duration_ms: Date.now() - precheckStart };
  const control = controlDirs(context);
  ordered.forEach((candidate, index) => {
    const changes = precheck.changes[index]!;
    report.changes.push({ task: candidate.task, branch: candidate.branch, head: candidate.head, changed: changes.changed.length, deleted: changes.deleted.length, scope_checked: candidate.scope.length > 0 });
    const outside = ownershipViolations(changes.changed, candidate.scope, control);
    if (outside.length > 0) report.violations.push({ task: candidate.task, files: outside });
  });
  // A task without a write scope cannot be checked: say so rather than "every branch stays in scope".
  const unchecked = report.changes.filter((change) => !change.scope_checked).map((change) => change.task);
  const uncheckedNote = unchecked.length > 0 ? `; not checked (no files scope): ${unchecked.join(', ')}` : '';
  emit({ event: 'ownership', violations: report.violations.length, unchecked }, `ownership: ${report.violations.length === 0 ? 'every scoped branch stays in its scope' : `${report.violations.length} task(s) changed files outside their scope`}${uncheckedNote}`);
  if (report.violations.length > 0 && !options.allowScopeDrift) report.stopped_because.push('scope-violations');
  report.conflicts.push(...precheck.conflicts);
  emit({ event: 'precheck', ...report.precheck, conflicts: precheck.conflicts.length }, `conflict pre-check: ${precheck.merges_checked} merge(s) checked, ${precheck.conflicts.length} conflict(s)`);
  if (precheck.conflicts.length > 0) report.stopped_because.push('conflicts');
  if (report.stopped_because.length > 0) return finish();

  // 3. Integration on a scratch ref.
  const ref = integrationRefName();
  try {
    const chain = buildIntegrationChain(cwd, before, ordered, {
      ref,
      onStep: (step) => emit({ event: 'merged', task: step.task, how: step.how, commit: step.commit }, `integrated ${step.task} (${step.how})`),
    });
    if (chain.conflict) {
      report.conflicts.push({ tasks: [...chain.conflict.after, chain.conflict.task], against: 'integration', files: chain.conflict.files, kinds: chain.conflict.kinds });
      report.stopped_because.push('conflicts');
      return finish();
    }

    // 4. Test gate.
    if (options.test) {
      const gate = await runTestGate(context, before, chain.steps, {
        ...options.test,
        onRun: (phase, run) => {
          if (phase === 'start') emit({ event: 'test-start', task: run.task, commit: run.commit }, `testing after ${run.task}...`);
          else emit({ event: 'test-end', task: run.task, exit_code: run.exit_code, duration_ms: run.duration_ms }, `test after ${run.task}: exit ${run.exit_code} (${run.duration_ms} ms)`);
        },
      });
      const last = gate.failed_run ?? gate.runs[gate.runs.length - 1];
      report.test = { command: gate.command, mode: gate.mode, runs: gate.runs, failed_task: gate.failed_task ?? null, exit_code: last?.exit_code ?? null, output_tail: last?.output_tail ?? '' };
      if (gate.failed_task) {
        report.stopped_because.push('test-failure');
        return finish();
      }
    }

    const byTask = new Map(ordered.map((candidate) => [candidate.task, candidate]));
    report.merged = chain.steps.map((step) => ({ task: step.task, branch: byTask.get(step.task)!.branch, head: byTask.get(step.task)!.head, how: step.how }));
    report.cleanup = ordered
      .filter((candidate) => candidate.worktree)
      .map((candidate) => ({ task: candidate.task, worktree: candidate.worktree!, command: `parallel-agents worktree remove --task ${candidate.task}` }));
    if (options.dryRun) {
      report.status = 'clean-dry-run';
      report.target.after = before;
      return finish();
    }

    // 5. Fast-forward.
    try {
      const updated = await fastForwardTarget(context, options.target, before, chain.head);
      report.target.updated_worktree = updated.worktree ?? null;
    } catch (error) {
      if (!(error instanceof CliError) || error.code !== 'E_REFUSED') throw error;
      report.stopped_because.push('target-refused');
      report.refusal = error.message;
      report.merged = [];
      report.cleanup = [];
      return finish();
    }
    report.target.after = chain.head;
    report.status = 'merged';
    return finish();
  } finally {
    runGit(['update-ref', '-d', ref], { cwd, okExitCodes: [1, 128] });
  }
}
