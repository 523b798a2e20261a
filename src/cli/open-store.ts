import type { TaskBackend } from '../store/backend.ts';
import { openStore as openBackend } from '../store/open-store.ts';
import { stringOption } from './args.ts';
import type { CommandContext } from './command.ts';

/** The store a command works on, from --store / --tasks-dir and the environment. */
export function openStore(ctx: CommandContext): TaskBackend {
  return openBackend({ cwd: ctx.cwd, tasksDir: stringOption(ctx.values, 'tasks-dir'), store: stringOption(ctx.values, 'store'), env: ctx.env });
}
