import { requireString, stringOption } from '../args.ts';
import type { CommandModule } from '../command.ts';
import { openRepoContext } from '../../git/repo-context.ts';
import { removeWorktree } from '../../git/worktree-remove.ts';
import { requireOrchestrator } from '../caller.ts';

const usage = 'parallel-agents worktree remove --task ID [--into BRANCH] [--force] [--json]';

export const command: CommandModule = {
  usage,
  options: {
    task: { type: 'string' },
    into: { type: 'string' },
    force: { type: 'boolean' },
  },
  async run(ctx) {
    if (ctx.values.force === true) requireOrchestrator(ctx, 'worktree remove --force');
    const context = openRepoContext({ cwd: ctx.cwd, env: ctx.env, tasksDir: stringOption(ctx.values, 'tasks-dir') });
    const result = await removeWorktree(context, {
      taskId: requireString(ctx.values, 'task', usage),
      target: stringOption(ctx.values, 'into'),
      force: ctx.values.force === true,
    });
    const lines = [`removed the worktree of task ${result.task} (${result.path})`];
    if (result.branch_deleted) lines.push(`deleted branch ${result.branch}: all its commits are in ${result.target}`);
    else lines.push(`kept branch ${result.branch}${result.unmerged_commits > 0 ? `: ${result.unmerged_commits} commit(s) not in ${result.target}` : ''}`);
    for (const ref of result.backup_refs) lines.push(`backup: ${ref}`);
    return { data: result, text: lines.join('\n') };
  },
};
