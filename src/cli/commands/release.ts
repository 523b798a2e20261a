import { defineCommand } from '../command.ts';
import { requireString, stringOption } from '../args.ts';
import { holderRequest } from '../caller.ts';
import { openStore } from '../open-store.ts';
import { taskJson } from '../task-view.ts';

export const command = defineCommand('release', {
  options: {
    agent: { type: 'string', value: 'NAME', required: true, help: 'the name the task was claimed with' },
    task: { type: 'string', value: 'ID', required: true, help: 'the claimed task' },
    token: { type: 'string', value: 'TOKEN', help: 'the token claim printed (a subagent its hooks bound to NAME may leave it out)' },
  },
  async run(ctx) {
    const store = openStore(ctx);
    const task = await store.release(holderRequest(ctx, store, { agent: requireString(ctx.values, 'agent', command.usage), task: requireString(ctx.values, 'task', command.usage), token: stringOption(ctx.values, 'token') }));
    return { data: { task: taskJson(task) }, text: `released ${task.id} (no attempt counted)` };
  },
});
