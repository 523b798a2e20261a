import { WORKTREES_DIR_OPTION, durationOption, stringOption } from '../args.ts';
import { defineCommand } from '../command.ts';
import { CliError } from '../../errors.ts';
import { currentBranch, openRepoContext } from '../../git/repo-context.ts';
import type { VerifyReport } from '../../git/verify-run.ts';
import { verifyStore, type StoreVerifyReport } from '../../git/verify-store.ts';
import { openStore } from '../open-store.ts';
import { requireOrchestrator } from '../caller.ts';

export const command = defineCommand('verify', {
  options: {
    into: { type: 'string', value: 'BRANCH', help: "the branch to merge into (default: the main worktree's branch)" },
    test: { type: 'string', value: 'CMD', help: 'the test gate: a shell command that must pass on the merged result' },
    'test-mode': { type: 'string', value: 'each|once', help: 'each (default): test after every merge; once: test the result, bisect on failure' },
    'test-timeout': { type: 'string', value: '30m', help: 'stop the test command after this long (default 30m)' },
    'dry-run': { type: 'boolean', help: 'check ownership and conflicts only; change nothing' },
    'allow-scope-drift': { type: 'boolean', help: 'merge even when a task changed files outside its scope (reported as warnings)' },
    'keep-worktrees': { type: 'boolean', help: "keep the merged tasks' worktrees and branches" },
    'worktrees-dir': WORKTREES_DIR_OPTION,
  },
  async run(ctx) {
    requireOrchestrator(ctx, 'verify (merging into the target, running --test)');
    const tasksDir = stringOption(ctx.values, 'tasks-dir');
    const context = openRepoContext({ cwd: ctx.cwd, env: ctx.env, tasksDir, worktreesDir: stringOption(ctx.values, 'worktrees-dir') });
    const target = stringOption(ctx.values, 'into') ?? currentBranch(context.repoRoot);
    if (!target) throw new CliError('E_USAGE', `the main worktree has no branch checked out; name the branch to merge into with --into BRANCH`);
    const mode = stringOption(ctx.values, 'test-mode') ?? 'each';
    if (mode !== 'each' && mode !== 'once') throw new CliError('E_USAGE', `--test-mode must be "each" (test after every merge) or "once" (test the result, bisect on failure); got "${mode}"`);
    const testCommand = stringOption(ctx.values, 'test');
    const store = openStore(ctx);
    if (!(await store.exists())) throw new CliError('E_NOT_FOUND', `no task store at ${store.description}; run "parallel-agents init" (or pass --tasks-dir): verify merges the branches of completed tasks`);
    const report = await verifyStore(context, store, {
      target,
      test: testCommand ? { command: testCommand, mode, timeoutMs: durationOption(ctx.values, 'test-timeout', 30 * 60_000) } : undefined,
      dryRun: ctx.values['dry-run'] === true,
      allowScopeDrift: ctx.values['allow-scope-drift'] === true,
      keepWorktrees: ctx.values['keep-worktrees'] === true,
      cwd: ctx.cwd,
      emit: ctx.emit,
    });
    return { data: report, text: renderReport(report, report.store_problems.length), exitCode: report.status === 'stopped' ? 1 : 0 };
  },
});

function short(commit: string): string {
  return commit.slice(0, 12);
}

export function renderReport(report: VerifyReport & Partial<Pick<StoreVerifyReport, 'reopened' | 'remote' | 'removed'>>, problemCount: number): string {
  const lines: string[] = [];
  const headline: Record<VerifyReport['status'], string> = {
    merged: `MERGED ${report.merged.length} task(s) into ${report.target.branch}`,
    'clean-dry-run': `CLEAN (dry run): ${report.order.length} task(s) would merge into ${report.target.branch}`,
    'nothing-to-merge': `nothing to merge into ${report.target.branch}`,
    stopped: `STOPPED (${report.stopped_because.join(', ')}): ${report.target.branch} left unchanged`,
  };
  lines.push(headline[report.status]);
  lines.push(`target ${report.target.branch}: ${short(report.target.before)} -> ${short(report.target.after)}`);
  if (report.order.length > 0) lines.push(`order: ${report.order.join(' -> ')}`);
  for (const entry of report.merged) lines.push(`  merged ${entry.task} (${entry.branch === entry.head ? short(entry.head) : entry.branch}, ${entry.how})`);
  for (const violation of report.violations) {
    lines.push(`${report.scope_drift_allowed ? 'warning' : 'violation'}: ${violation.task} changed ${violation.files.length} file(s) outside its scope: ${violation.files.slice(0, 10).join(', ')}${violation.files.length > 10 ? ', ...' : ''}`);
  }
  for (const conflict of report.conflicts) {
    const who = conflict.against === 'target' ? `${conflict.tasks[0]} vs ${report.target.branch}` : conflict.against === 'branch' ? `${conflict.tasks.join(' vs ')}` : `${conflict.tasks[conflict.tasks.length - 1]} after ${conflict.tasks.slice(0, -1).join(', ') || report.target.branch}`;
    lines.push(`conflict: ${who}: ${conflict.files.join(', ')}${conflict.kinds.length > 0 ? ` [${conflict.kinds.join('; ')}]` : ''}`);
  }
  if (report.test) {
    const verdict = report.test.failed_task ? `FAILED, caused by ${report.test.failed_task}` : 'passed';
    lines.push(`test (${report.test.mode}): ${report.test.command} -> exit ${report.test.exit_code ?? '-'} (${verdict}; ${report.test.runs.length} run(s))`);
    if (report.test.failed_task && report.test.output_tail) lines.push(...report.test.output_tail.split('\n').map((line) => `  | ${line}`));
  }
  if (report.refusal) lines.push(`refused: ${report.refusal}`);
  if (report.remote && !report.remote.pushed && report.remote.local !== 'unchanged') lines.push(`local ${report.target.branch}: ${report.remote.local} (${report.remote.name}/${report.target.branch} at ${short(report.remote.after)})`);
  if (report.remote?.pushed) lines.push(`pushed to ${report.remote.name}/${report.target.branch}: ${short(report.remote.before)} -> ${short(report.remote.after)}; local ${report.target.branch}: ${report.remote.local}`);
  for (const entry of report.reopened ?? []) lines.push(`put back ${entry.task} to ${entry.state}: ${entry.reason}`);
  for (const entry of report.skipped) lines.push(`skipped ${entry.task}: ${entry.reason}`);
  const removed = report.removed ?? [];
  if (removed.length > 0) {
    lines.push(`removed ${removed.length} merged worktree(s) and their branches: ${removed.map((entry) => entry.task).join(', ')} (--keep-worktrees keeps them)`);
    for (const entry of removed) for (const ref of entry.backup_refs) lines.push(`  backup of ${entry.task}'s work the target does not have: ${ref}`);
  }
  for (const entry of report.cleanup.filter((item) => item.reason)) lines.push(`kept the worktree of ${entry.task}: ${entry.reason}`);
  if (report.cleanup.length > 0) lines.push(`cleanup: the merged worktrees can go: ${report.cleanup.map((entry) => entry.command).join('; ')}`);
  if (problemCount > 0) lines.push(`${problemCount} task file(s) could not be read; run parallel-agents status`);
  lines.push(`pre-check: ${report.precheck.merges_checked} merge(s), ${report.precheck.pairs_skipped} disjoint pair(s) skipped, ${report.precheck.duration_ms} ms; total ${report.duration_ms} ms`);
  return lines.join('\n');
}
