import { resolve } from 'node:path';
import { CliError } from '../../errors.ts';
import { integerOption } from '../args.ts';
import { defineCommand } from '../command.ts';
import { openStore } from '../open-store.ts';
import { DEFAULT_MAX_AGENTS } from '../../plan/agent-count.ts';
import { loadPlan } from '../../plan/load-plan.ts';
import { publishPlan } from '../../plan/publish-plan.ts';
import { requireOrchestrator } from '../caller.ts';

export const command = defineCommand('plan publish', {
  args: 'PLAN',
  options: {
    'allow-mixed': { type: 'boolean', help: 'publish even while unfinished tasks of another plan are in the store' },
    'max-agents': { type: 'string', value: 'N', help: `the most agents to recommend (default ${DEFAULT_MAX_AGENTS})` },
  },
  allowPositionals: true,
  async run(ctx) {
    requireOrchestrator(ctx, 'publishing a plan');
    if (ctx.positionals.length !== 1) throw new CliError('E_USAGE', `give exactly one plan file; usage: ${command.usage}`);
    const path = ctx.positionals[0]!;
    const plan = await loadPlan(resolve(ctx.cwd, path), { source: path });
    const store = openStore(ctx);
    const result = await publishPlan(store, plan, {
      allowMixed: ctx.values['allow-mixed'] === true,
      maxAgents: integerOption(ctx.values, 'max-agents', 1, DEFAULT_MAX_AGENTS),
    });
    const { analysis } = result;
    const data = {
      plan: result.plan,
      store: store.description,
      published: result.published,
      skipped: result.skipped,
      edges: analysis.edges.length,
      waves: analysis.waves.length,
      agents: analysis.agents.recommended,
      strategy: analysis.strategy.kind,
    };
    const text =
      result.published.length === 0
        ? `plan ${result.plan}: nothing to publish, all ${result.skipped.length} tasks are already in ${store.description}`
        : `plan ${result.plan}: published ${result.published.length} task${result.published.length === 1 ? '' : 's'} to ${store.description}` +
          `${result.skipped.length > 0 ? ` (${result.skipped.length} already there)` : ''}; ${analysis.edges.length} ordering edges written into depends_on; ` +
          `recommended agents: ${analysis.agents.recommended} (${analysis.strategy.kind})`;
    return { data, text };
  },
});
