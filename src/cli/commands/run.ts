import { CliError } from '../../errors.ts';
import { durationOption, integerOption, stringOption } from '../args.ts';
import type { CommandContext, CommandModule } from '../command.ts';
import { requireOrchestrator } from '../caller.ts';

// One line: errors quote it, and every error is one line.
const usage = 'parallel-agents run PLAN (--agent-cmd CMD | --claude [--plugin-dir DIR] [--permission-mode MODE] [--allowed-tools LIST]) [--agents N] [--timeout 30m] [--max-attempts N] [--test CMD] [--test-timeout 10m] [--budget-usd X] [--into BRANCH] [--checkout auto|full|scoped] [--keep-worktrees] [--resume] [--heartbeat 30s] [--backoff 2s] [--stale-after 30m] [--json]';

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

export const command: CommandModule = {
  usage,
  options: {
    agents: { type: 'string' },
    'agent-cmd': { type: 'string' },
    claude: { type: 'boolean' },
    'plugin-dir': { type: 'string' },
    'permission-mode': { type: 'string' },
    'allowed-tools': { type: 'string' },
    timeout: { type: 'string' },
    'max-attempts': { type: 'string' },
    test: { type: 'string' },
    'test-timeout': { type: 'string' },
    'budget-usd': { type: 'string' },
    into: { type: 'string' },
    checkout: { type: 'string' },
    'keep-worktrees': { type: 'boolean' },
    resume: { type: 'boolean' },
    heartbeat: { type: 'string' },
    backoff: { type: 'string' },
    'stale-after': { type: 'string' },
  },
  allowPositionals: true,
  async run(ctx) {
    requireOrchestrator(ctx, 'running a plan');
    const [planPath, ...extra] = ctx.positionals;
    if (!planPath || extra.length > 0) throw new CliError('E_USAGE', `give exactly one plan file; usage: ${usage}`);
    const agentCmd = stringOption(ctx.values, 'agent-cmd');
    const claude = ctx.values.claude === true;
    if ((agentCmd === undefined) === !claude) throw new CliError('E_USAGE', `choose the agent with exactly one of --agent-cmd CMD or --claude; usage: ${usage}`);
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
        startedAt: Date.now() - process.uptime() * 1000,
        cwd: ctx.cwd,
        tasksDir: stringOption(ctx.values, 'tasks-dir'),
        store: stringOption(ctx.values, 'store'),
        env: ctx.env,
        planPath,
        agents,
        adapter,
        ...options,
        resume: ctx.values.resume === true,
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
};
