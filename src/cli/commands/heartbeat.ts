import type { CommandModule } from '../command.ts';
import { requireString, stringOption } from '../args.ts';
import { holderRequest } from '../caller.ts';
import { openStore } from '../open-store.ts';
import { taskJson } from '../task-view.ts';

const usage = 'parallel-agents heartbeat --agent NAME --task ID [--token TOKEN] [--json]';

export const command: CommandModule = {
  usage,
  options: { agent: { type: 'string' }, task: { type: 'string' }, token: { type: 'string' } },
  async run(ctx) {
    const store = openStore(ctx);
    const task = await store.heartbeat(holderRequest(ctx, store, { agent: requireString(ctx.values, 'agent', usage), task: requireString(ctx.values, 'task', usage), token: stringOption(ctx.values, 'token') }));
    return { data: { task: taskJson(task) }, text: `lease renewed on ${task.id}` };
  },
};
