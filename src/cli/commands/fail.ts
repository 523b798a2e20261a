import type { CommandModule } from '../command.ts';
import { requireString, stringOption } from '../args.ts';
import { holderRequest } from '../caller.ts';
import { openStore } from '../open-store.ts';
import { taskJson } from '../task-view.ts';

const usage = 'parallel-agents fail --agent NAME --task ID --reason TEXT [--token TOKEN] [--json]';

export const command: CommandModule = {
  usage,
  options: { agent: { type: 'string' }, task: { type: 'string' }, reason: { type: 'string' }, token: { type: 'string' } },
  async run(ctx) {
    const store = openStore(ctx);
    const proof = holderRequest(ctx, store, { agent: requireString(ctx.values, 'agent', usage), task: requireString(ctx.values, 'task', usage), token: stringOption(ctx.values, 'token') });
    const task = await store.fail({ ...proof, reason: requireString(ctx.values, 'reason', usage) });
    const text = task.state === 'blocked'
      ? `${task.id} is blocked after ${task.attempts} failed attempts: a person must look at it`
      : `${task.id} failed (attempt ${task.attempts} of ${task.max_attempts}); it can be claimed again`;
    return { data: { task: taskJson(task) }, text };
  },
};
