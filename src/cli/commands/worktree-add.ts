import { listOption, requireString, stringOption } from '../args.ts';
import type { CommandModule } from '../command.ts';
import { openRepoContext } from '../../git/repo-context.ts';
import { addWorktree, displayPath } from '../../git/worktree.ts';

const usage = 'parallel-agents worktree add --task ID [--base REF] [--sparse DIR,...] [--worktrees-dir DIR] [--json]';

export const command: CommandModule = {
  usage,
  options: {
    task: { type: 'string' },
    base: { type: 'string' },
    sparse: { type: 'string' },
    'worktrees-dir': { type: 'string' },
  },
  async run(ctx) {
    const taskId = requireString(ctx.values, 'task', usage);
    const context = openRepoContext({
      cwd: ctx.cwd,
      env: ctx.env,
      tasksDir: stringOption(ctx.values, 'tasks-dir'),
      worktreesDir: stringOption(ctx.values, 'worktrees-dir'),
    });
    const record = await addWorktree(context, {
      taskId,
      base: stringOption(ctx.values, 'base'),
      sparse: listOption(ctx.values, 'sparse'),
    });
    const sparseNote = record.sparse.length > 0 ? `\nsparse:  ${record.sparse.join(', ')}` : '';
    return {
      data: record,
      text: `worktree for task ${record.task}\npath:    ${displayPath(context, record.path)}\nbranch:  ${record.branch}\nbase:    ${record.base.slice(0, 12)} (${record.base_ref})${sparseNote}\n\ncd ${record.path}`,
    };
  },
};
