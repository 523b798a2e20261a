import { CliError } from '../../errors.ts';
import { durationOption, integerOption, stringOption } from '../args.ts';
import { defineCommand, type CommandContext } from '../command.ts';
import { requireOrchestrator } from '../caller.ts';

function budgetOption(ctx: CommandContext): number | undefined {
  const text = stringOption(ctx.values, 'budget-usd');
  if (text === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(text) || Number(text) <= 0) throw new CliError('E_USAGE', `--budget-usd must be a positive amount in dollars such as 5 or 2.50 (got "${text}")`);
  return Number(text);
}

/** Ctrl-C and SIGTERM stop the run cleanly: agents terminated, claims released, worktrees kept. */
export function interruptOnSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((name) => {
    const handler = (): void => controller.abort(name);
    process.on(name, handler);
    return [name, handler] as const;
  });
  return {
    signal: controller.signal,
    dispose() {
      for (const [name, handler] of handlers) process.off(name, handler);
    },
  };
}

export const command = defineCommand('run', {
  args: 'PLAN',
  options: {
    'agent-cmd': { type: 'string', value: 'CMD', required: true, or: 'claude', help: 'run each task with this program (the prompt on stdin, the task in PARALLEL_TASK_ID)' },
    claude: { type: 'boolean', help: "run each task as headless Claude Code, as the plugin's agent for the task's role" },
    'plugin-dir': { type: 'string', value: 'DIR', help: 'with --claude: load the plugin from this folder (when it is not installed)' },
    'permission-mode': { type: 'string', value: 'MODE', help: "with --claude: the agents' permission mode (default acceptEdits)" },
    'allowed-tools': { type: 'string', value: 'LIST', help: "with --claude: the agents' allowed tools, comma-separated (default: edits, git add/commit/status/diff/log, parallel-agents, npm test/run, node, ls)" },
    agents: { type: 'string', value: 'N', help: 'agents working at once (default: the count plan check recommends)' },
    timeout: { type: 'string', value: '30m', help: "stop one task's agent after this long (default 30m)" },
    'max-attempts': { type: 'string', value: 'N', help: "attempts per task before it is blocked (default: the plan's)" },
    test: { type: 'string', value: 'CMD', help: "verify's test gate: a shell command that must pass on the merged result" },
    'test-timeout': { type: 'string', value: '10m', help: 'stop the test command after this long (default 10m)' },
    'budget-usd': { type: 'string', value: 'X', help: 'start an attempt only while the spent total plus an average attempt stays within this many dollars' },
    into: { type: 'string', value: 'BRANCH', help: "the branch to merge into (default: the main worktree's branch)" },
    checkout: { type: 'string', value: 'auto|full|scoped', help: "what each task's worktree checks out (see worktree add; default auto)" },
    'keep-worktrees': { type: 'boolean', help: "keep the merged tasks' worktrees and branches" },
    'allow-mixed': { type: 'boolean', help: 'publish the plan even while unfinished (e.g. blocked) tasks of another plan are in the store' },
    resume: { type: 'boolean', help: 'continue a run whose plan is already published, recovering its stale claims (refused while another run of the plan still holds live claims)' },
    heartbeat: { type: 'string', value: '30s', help: "renew each running task's lease this often (default 30s; on a git-remote store 5m, or a third of --stale-after if shorter: each one is a push)" },
    backoff: { type: 'string', value: '2s', help: 'the first wait after a rate limit, doubled each time (default 2s)' },
    'stale-after': { type: 'string', value: '30m', help: 'take back claims with no heartbeat for this long: with --resume, and on a git-remote store while the run works (default 30m; give every machine the same)' },
  },
  allowPositionals: true,
  async run(ctx) {
    requireOrchestrator(ctx, 'running a plan');
    const [planPath, ...extra] = ctx.positionals;
    if (!planPath || extra.length > 0) throw new CliError('E_USAGE', `give exactly one plan file; usage: ${command.usage}`);
    const agentCmd = stringOption(ctx.values, 'agent-cmd');
    const claude = ctx.values.claude === true;
    if ((agentCmd === undefined) === !claude) throw new CliError('E_USAGE', `choose the agent with exactly one of --agent-cmd CMD or --claude; usage: ${command.usage}`);
    const { splitCommandLine } = await import('../../runner/command-line.ts');
    const argv = agentCmd !== undefined ? splitCommandLine(agentCmd) : undefined;
    const agents = integerOption(ctx.values, 'agents', 1);
    const { parseCheckoutMode } = await import('../../git/worktree-sparse.ts');
    const checkout = parseCheckoutMode(stringOption(ctx.values, 'checkout'));
    const options = {
      timeoutMs: durationOption(ctx.values, 'timeout', 30 * 60_000),
      maxAttempts: integerOption(ctx.values, 'max-attempts', 1),
      testCommand: stringOption(ctx.values, 'test'),
      testTimeoutMs: durationOption(ctx.values, 'test-timeout', 10 * 60_000),
      budgetUsd: budgetOption(ctx),
      // Absent: the run picks it (a shared store heartbeats less often: each one is a push).
      heartbeatMs: stringOption(ctx.values, 'heartbeat') === undefined ? undefined : durationOption(ctx.values, 'heartbeat', 30_000),
      backoffBaseMs: durationOption(ctx.values, 'backoff', 2000),
      staleAfterMs: durationOption(ctx.values, 'stale-after', 30 * 60_000),
    };
    const adapter = argv
      ? (await import('../../runner/adapters/command-adapter.ts')).commandAdapter(argv)
      : (await import('../../runner/adapters/claude-adapter.ts')).claudeAdapter({
          pluginDir: stringOption(ctx.values, 'plugin-dir'),
          ...(stringOption(ctx.values, 'permission-mode') ? { permissionMode: stringOption(ctx.values, 'permission-mode')! } : {}),
          ...(stringOption(ctx.values, 'allowed-tools') ? { allowedTools: stringOption(ctx.values, 'allowed-tools')! } : {}),
        });
    const { runPlan } = await import('../../runner/run-plan.ts');
    const { createProgressView } = await import('../../runner/progress-view.ts');
    const view = createProgressView({ json: ctx.json, emit: ctx.emit, stream: ctx.stderr });
    const interrupt = interruptOnSignals();
    try {
      const result = await runPlan({
        // The process's own start: the report's wall time is what the user waited for.
        startedAt: Math.round(Date.now() - process.uptime() * 1000),
        cwd: ctx.cwd,
        tasksDir: stringOption(ctx.values, 'tasks-dir'),
        store: stringOption(ctx.values, 'store'),
        env: ctx.env,
        planPath,
        agents,
        adapter,
        ...options,
        resume: ctx.values.resume === true,
        allowMixed: ctx.values['allow-mixed'] === true,
        into: stringOption(ctx.values, 'into'),
        checkout,
        keepWorktrees: ctx.values['keep-worktrees'] === true,
        signal: interrupt.signal,
        view,
        emit: ctx.emit,
      });
      return { data: { report: result.report, report_file: result.reportPath }, text: result.text, exitCode: result.exitCode };
    } finally {
      view.close();
      interrupt.dispose();
    }
  },
});
