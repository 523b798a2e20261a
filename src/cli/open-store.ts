import { TaskStore } from '../store/task-store.ts';
import { stringOption } from './args.ts';
import type { CommandContext } from './command.ts';

export function openStore(ctx: CommandContext): TaskStore {
  return TaskStore.open({ cwd: ctx.cwd, tasksDir: stringOption(ctx.values, 'tasks-dir'), env: ctx.env });
}
