import { CliError } from '../../errors.ts';
import type { CommandModule } from '../command.ts';
import { requireString } from '../args.ts';
import { openStore } from '../open-store.ts';
import { taskJson, taskText } from '../task-view.ts';

const usage = 'parallel-agents show --task ID [--json]';

export const command: CommandModule = {
  usage,
  options: { task: { type: 'string' } },
  async run(ctx) {
    const id = requireString(ctx.values, 'task', usage);
    const store = openStore(ctx);
    const task = store.get(id);
    if (!task) throw new CliError('E_NOT_FOUND', `task "${id}" does not exist in ${store.dir}`);
    return { data: { task: { ...taskJson(task), body: task.body } }, text: taskText(task) };
  },
};
