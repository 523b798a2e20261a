import { CliError } from '../../errors.ts';
import { integerOption } from '../args.ts';
import { defineCommand } from '../command.ts';

export const command = defineCommand('demo', {
  options: {
    agents: { type: 'string', value: 'N', help: 'agents working at once (default 4)' },
    keep: { type: 'boolean', help: 'keep the demo repository to look around (its path is printed)' },
  },
  // `demo agent` is the scripted agent the demo spawns (a real child process, like a model CLI).
  allowPositionals: true,
  async run(ctx) {
    const [mode, ...extra] = ctx.positionals;
    if (mode === 'agent' && extra.length === 0) {
      const { runScriptedAgent } = await import('../../demo/scripted-agent.ts');
      const result = await runScriptedAgent(ctx.env, ctx.cwd);
      ctx.stderr.write(`${result.message}\n`);
      return { data: { exit_code: result.exitCode, message: result.message }, text: '', exitCode: result.exitCode };
    }
    if (mode !== undefined) throw new CliError('E_USAGE', `unexpected argument "${mode}"; usage: ${command.usage}`);
    const agents = integerOption(ctx.values, 'agents', 1, 4)!;
    const { runDemo } = await import('../../demo/demo-run.ts');
    const { createProgressView } = await import('../../runner/progress-view.ts');
    const { interruptOnSignals } = await import('./run.ts');
    const view = createProgressView({ json: ctx.json, emit: ctx.emit, stream: ctx.stderr });
    const interrupt = interruptOnSignals();
    try {
      const result = await runDemo({
        agents,
        keep: ctx.values.keep === true,
        selfArgv: [process.execPath, process.argv[1]!],
        env: ctx.env,
        signal: interrupt.signal,
        view,
        emit: ctx.emit,
      });
      return {
        data: { repo: result.repo, kept: result.kept, report: result.report, report_file: result.kept ? result.reportPath : undefined },
        text: result.text,
        exitCode: result.exitCode,
      };
    } finally {
      view.close();
      interrupt.dispose();
    }
  },
});
