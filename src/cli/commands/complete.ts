import type { CommandModule } from '../command.ts';
import { requireString, stringOption } from '../args.ts';
import { openStore } from '../open-store.ts';
import { taskJson } from '../task-view.ts';
import { verifyCommitEvidence } from '../../git/evidence.ts';

const usage = 'parallel-agents complete --agent NAME --task ID [--commit SHA] [--summary TEXT] [--token TOKEN] [--json]';

export const command: CommandModule = {
  usage,
  options: {
    agent: { type: 'string' },
    task: { type: 'string' },
    commit: { type: 'string' },
    summary: { type: 'string' },
    token: { type: 'string' },
  },
  async run(ctx) {
    const store = openStore(ctx);
    const request = {
      agent: requireString(ctx.values, 'agent', usage),
      task: requireString(ctx.values, 'task', usage),
      token: stringOption(ctx.values, 'token'),
      commit: stringOption(ctx.values, 'commit'),
      summary: stringOption(ctx.values, 'summary'),
    };
    // "Done" needs evidence: a commit on the task's own branch, checked before the state moves.
    if (request.commit !== undefined) request.commit = await verifyCommitEvidence(store, request.task, request.commit);
    const task = await store.complete(request);
    return {
      data: { task: taskJson(task) },
      text: `completed ${task.id}${task.commit ? ` at ${task.commit}` : ''}; claim the next task with parallel-agents claim --agent ${request.agent}`,
    };
  },
};
