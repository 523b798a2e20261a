import type { CommandModule } from '../command.ts';
import { integerOption, requireString, stringOption } from '../args.ts';
import { openStore } from '../open-store.ts';
import { taskJson, taskText } from '../task-view.ts';

const usage = 'parallel-agents claim --agent NAME [--role ROLE] [--task ID] [--holder-pid PID] [--json]';

export const command: CommandModule = {
  usage,
  options: {
    agent: { type: 'string' },
    role: { type: 'string' },
    task: { type: 'string' },
    'holder-pid': { type: 'string' },
  },
  async run(ctx) {
    const store = openStore(ctx);
    const agent = requireString(ctx.values, 'agent', usage);
    const { task, token } = await store.claim({
      agent,
      role: stringOption(ctx.values, 'role'),
      task: stringOption(ctx.values, 'task'),
      holderPid: integerOption(ctx.values, 'holder-pid', 1),
    });
    const next = `when done: parallel-agents complete --agent ${agent} --task ${task.id} --token ${token} --commit-worktree (or --commit <sha>)` +
      ` | on failure: parallel-agents fail --agent ${agent} --task ${task.id} --token ${token} --reason "<why>"`;
    return {
      data: { task: taskJson(task), token, agent },
      text: `claimed ${task.id} (attempt ${task.attempts + 1} of ${task.max_attempts}) as ${agent}\n${taskText(task)}\n\n${next}`,
    };
  },
};
