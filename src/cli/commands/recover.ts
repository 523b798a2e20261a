import type { CommandModule } from '../command.ts';
import { CliError } from '../../errors.ts';
import { DEFAULT_LEASE_MS } from '../../store/rules.ts';
import { durationOption, stringOption } from '../args.ts';
import { checkCallerOf, requireOrchestrator } from '../caller.ts';
import { openStore } from '../open-store.ts';

export const command: CommandModule = {
  usage: 'parallel-agents recover [--stale-after 30m] [--task ID --force] [--json]',
  options: { 'stale-after': { type: 'string' }, task: { type: 'string' }, force: { type: 'boolean' } },
  async run(ctx) {
    const staleAfterMs = durationOption(ctx.values, 'stale-after', DEFAULT_LEASE_MS);
    const task = stringOption(ctx.values, 'task');
    const force = ctx.values.force === true;
    if (force && task === undefined) throw new CliError('E_USAGE', '--force takes back one claim: name it with --task ID');
    // Taking a live claim away is a person's decision, never an agent's.
    if (force) requireOrchestrator(ctx, 'recover --force');
    const store = openStore(ctx);
    const caller = force ? checkCallerOf(ctx, store) : undefined;
    if (caller && caller.kind !== 'none' && (caller.kind === 'unverified' || caller.identity.agentId !== 'main')) {
      throw new CliError('E_IDENTITY', 'recover --force is refused inside a subagent: only the person running the session may take back a live claim');
    }
    const report = await store.recover({ staleAfterMs, task, force });
    const lines = [
      ...report.recovered.map((item) => `recovered ${item.id} from ${item.agent} -> ${item.to} (attempt ${item.attempts}): ${item.reason}`),
      ...report.repaired,
      ...report.reconciled.map((line) => `journal: ${line}`),
    ];
    if (lines.length === 0) lines.push('nothing to recover');
    return { data: report, text: lines.join('\n') };
  },
};
