import { resolve } from 'node:path';
import { CliError } from '../../errors.ts';
import { integerOption, stringOption } from '../args.ts';
import { defineCommand } from '../command.ts';
import { JSON_SCHEMA_VERSION } from '../output.ts';
import { DEFAULT_MAX_AGENTS } from '../../plan/agent-count.ts';
import { checkPlan } from '../../plan/check-plan.ts';
import { hostSubagentCap, launchLimit } from '../../plan/launch-limit.ts';
import { loadPlan } from '../../plan/load-plan.ts';
import { planJson } from '../../plan/render-json.ts';
import { renderPlanMermaid } from '../../plan/render-mermaid.ts';
import { renderPlanText } from '../../plan/render-text.ts';

const FORMATS = ['text', 'mermaid', 'json'] as const;

export const command = defineCommand('plan check', {
  args: 'PLAN',
  options: {
    format: { type: 'string', value: 'text|mermaid|json', help: 'text (default): waves, critical path, agents; mermaid: the graph; json: every edge with its reason' },
    'max-agents': { type: 'string', value: 'N', help: `the most agents to recommend (default ${DEFAULT_MAX_AGENTS})` },
  },
  allowPositionals: true,
  async run(ctx) {
    if (ctx.positionals.length !== 1) throw new CliError('E_USAGE', `give exactly one plan file; usage: ${command.usage}`);
    const format = stringOption(ctx.values, 'format') ?? 'text';
    if (!(FORMATS as readonly string[]).includes(format)) {
      throw new CliError('E_USAGE', `--format must be one of ${FORMATS.join(', ')} (got "${format}"); usage: ${command.usage}`);
    }
    const maxAgents = integerOption(ctx.values, 'max-agents', 1, DEFAULT_MAX_AGENTS)!;
    const path = ctx.positionals[0]!;
    const plan = await loadPlan(resolve(ctx.cwd, path), { source: path });
    const analysis = checkPlan(plan, { maxAgents });
    // The full JSON (every edge record with its reason) is built only when it is printed: on a
    // 10,000-task plan it is a third of the call.
    // launch_limit: the recommended agents that the host runs at once (the rest wait for a free slot).
    const launch = { launch_limit: launchLimit(analysis.agents.recommended, ctx.env), host_subagent_cap: hostSubagentCap(ctx.env) ?? null };
    const build = () => ({ schema: JSON_SCHEMA_VERSION, ...planJson(analysis), ...launch, ...(format === 'mermaid' ? { mermaid: renderPlanMermaid(analysis) } : {}) });
    if (ctx.json) return { data: build(), text: '' };
    if (format === 'json') return { data: undefined, text: JSON.stringify(build(), null, 2) };
    return { data: undefined, text: format === 'mermaid' ? renderPlanMermaid(analysis) : renderPlanText(analysis) };
  },
});
