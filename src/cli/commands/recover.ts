import type { CommandModule } from '../command.ts';
import { durationOption } from '../args.ts';
import { openStore } from '../open-store.ts';

export const DEFAULT_STALE_MS = 30 * 60_000;

export const command: CommandModule = {
  usage: 'parallel-agents recover [--stale-after 30m] [--json]',
  options: { 'stale-after': { type: 'string' } },
  async run(ctx) {
    const staleAfterMs = durationOption(ctx.values, 'stale-after', DEFAULT_STALE_MS);
    const report = await openStore(ctx).recover({ staleAfterMs });
    const lines = [
      ...report.recovered.map((item) => `recovered ${item.id} from ${item.agent} -> ${item.to} (attempt ${item.attempts}): ${item.reason}`),
      ...report.repaired,
    ];
    if (lines.length === 0) lines.push('nothing to recover');
    return { data: report, text: lines.join('\n') };
  },
};
