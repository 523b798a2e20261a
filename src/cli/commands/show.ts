import { CliError } from '../../errors.ts';
import { defineCommand } from '../command.ts';
import { requireString } from '../args.ts';
import { openStore } from '../open-store.ts';
import { taskJson, taskText } from '../task-view.ts';
import { readWorktreeRecord } from '../../git/worktree-registry.ts';

export const command = defineCommand('show', {
  options: {
    task: { type: 'string', value: 'ID', required: true, help: 'the task to print, with its state, claim and worktree' },
  },
  async run(ctx) {
    const id = requireString(ctx.values, 'task', command.usage);
    const store = openStore(ctx);
    const task = await store.get(id);
    if (!task) throw new CliError('E_NOT_FOUND', `task "${id}" does not exist in ${store.description}`);
    // The worktree record lives beside the task (the git layer owns it); the task view joins them.
    const worktree = readWorktreeRecord(store.localDir, id);
    return { data: { task: { ...taskJson(task, Date.now(), worktree), body: task.body } }, text: taskText(task, Date.now(), worktree) };
  },
});
