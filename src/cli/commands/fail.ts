import { defineCommand } from '../command.ts';
import { requireString, stringOption } from '../args.ts';
import { holderRequest } from '../caller.ts';
import { openStore } from '../open-store.ts';
import { taskJson } from '../task-view.ts';

export const command = defineCommand('fail', {
  options: {
    agent: { type: 'string', value: 'NAME', required: true, help: 'the name the task was claimed with' },
    task: { type: 'string', value: 'ID', required: true, help: 'the claimed task' },
    reason: { type: 'string', value: 'TEXT', required: true, help: 'why it failed, for the next attempt and for people (counts an attempt)' },
    token: { type: 'string', value: 'TOKEN', help: 'the token claim printed (a subagent its hooks bound to NAME may leave it out)' },
  },
  async run(ctx) {
    const store = openStore(ctx);
    const proof = holderRequest(ctx, store, { agent: requireString(ctx.values, 'agent', command.usage), task: requireString(ctx.values, 'task', command.usage), token: stringOption(ctx.values, 'token') });
    const task = await store.fail({ ...proof, reason: requireString(ctx.values, 'reason', command.usage) });
    const text = task.state === 'blocked'
      ? `${task.id} is blocked after ${task.attempts} failed attempts: a person must look at it`
      : `${task.id} failed (attempt ${task.attempts} of ${task.max_attempts}); it can be claimed again`;
    return { data: { task: taskJson(task) }, text };
  },
});
