import { defineCommand } from '../command.ts';
import { CliError } from '../../errors.ts';
import { DEFAULT_LEASE_MS } from '../../store/rules.ts';
import { formatDuration } from '../../text/duration.ts';
import { durationOption, stringOption } from '../args.ts';
import { checkCallerOf, requireOrchestrator } from '../caller.ts';
import { openStore } from '../open-store.ts';

export const command = defineCommand('recover', {
  options: {
    'stale-after': { type: 'string', value: '30m', help: `take back claims with no heartbeat for this long (default ${formatDuration(DEFAULT_LEASE_MS)}); dead holders at once` },
    task: { type: 'string', value: 'ID', help: 'only this task' },
    force: { type: 'boolean', help: 'with --task: take that claim back even if it is live (never from a subagent)' },
  },
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
});
