import { existsSync } from 'node:fs';
import { WORKTREES_DIR_OPTION, durationOption, requireString, stringOption } from '../args.ts';
import { defineCommand } from '../command.ts';
import { CliError } from '../../errors.ts';
import { displayPath } from '../../git/worktree.ts';
import { openRepoContext } from '../../git/repo-context.ts';
import { readWorktreeRecord } from '../../git/worktree-registry.ts';
import { worktreeEnvironment, worktreePorts } from '../../git/worktree-setup.ts';
import { runShell, tailOf } from '../../process/run-shell.ts';
import { PROJECT_CONFIG_FILE, readProjectConfig } from '../../repo/project-config.ts';
import { validateTaskId } from '../../store/task-schema.ts';
import { formatDuration } from '../../text/duration.ts';
import { openStore } from '../open-store.ts';

// An agent's checks, run in its task's worktree by the CLI: Claude Code refuses `cd <worktree> &&
// npm test` unless the project's tools are allowed one by one, while `Bash(parallel-agents:*)`
// covers this. The command is the task's `check` (from the plan the user approved) or the
// project's (.parallel-agents.json), never one given on the command line: that would turn the
// CLI's permission into permission to run anything.

export const CHECK_OUTPUT_TAIL_LINES = 40;

export const command = defineCommand('check', {
  options: {
    task: { type: 'string', value: 'ID', required: true, help: 'the task whose check runs, in its worktree' },
    timeout: { type: 'string', value: '10m', help: "stop the check after this long (default: the project's check_timeout, else 10m)" },
    'worktrees-dir': WORKTREES_DIR_OPTION,
  },
  async run(ctx) {
    const taskId = validateTaskId(requireString(ctx.values, 'task', command.usage));
    const context = openRepoContext({ cwd: ctx.cwd, env: ctx.env, tasksDir: stringOption(ctx.values, 'tasks-dir'), worktreesDir: stringOption(ctx.values, 'worktrees-dir') });
    const record = readWorktreeRecord(context.storeDir, taskId);
    if (!record) throw new CliError('E_NOT_FOUND', `task ${taskId} has no worktree; create it with "parallel-agents worktree add --task ${taskId}", then check again`);
    if (!existsSync(record.path)) throw new CliError('E_NOT_FOUND', `the worktree of task ${taskId} (${record.path}) is gone; run "parallel-agents worktree prune", then "parallel-agents worktree add --task ${taskId}"`);
    const store = openStore(ctx);
    const task = (await store.exists()) ? await store.get(taskId) : undefined;
    const config = readProjectConfig(context.repoRoot);
    const check = task?.check ?? config.check;
    if (!check) {
      throw new CliError('E_NOT_FOUND', `no check is declared for task ${taskId}: give the task a "check" in its plan (or the plan one for all its tasks), or the project a "check" in ${PROJECT_CONFIG_FILE}`);
    }
    const timeoutMs = durationOption(ctx.values, 'timeout', config.checkTimeoutMs);
    const ports = await worktreePorts(context, record, config);
    const run = await runShell(check, { cwd: record.path, env: worktreeEnvironment(context.repoRoot, { path: record.path, task: taskId, ports }), timeoutMs });
    const passed = run.exitCode === 0;
    const outputTail = tailOf(run.output, CHECK_OUTPUT_TAIL_LINES);
    const data = {
      task: taskId,
      worktree: record.path,
      command: check,
      source: task?.check ? 'task' : 'project',
      passed,
      exit_code: run.exitCode,
      signal: run.signal,
      timed_out: run.timedOut,
      duration_ms: run.durationMs,
      ports: ports ?? null,
      output_tail: outputTail,
    };
    const how = run.timedOut ? `timed out after ${formatDuration(timeoutMs)}` : `exit ${run.exitCode}`;
    const lines = [`${passed ? 'PASSED' : 'FAILED'}: check of task ${taskId} in ${displayPath(context, record.path)}: ${check} (${how}, ${formatDuration(run.durationMs)})`];
    if (!passed && outputTail) lines.push(...outputTail.split('\n').map((line) => `  | ${line}`));
    return { data, text: lines.join('\n'), exitCode: passed ? 0 : 1 };
  },
});
