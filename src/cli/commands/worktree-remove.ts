import { requireString, stringOption } from '../args.ts';
import { defineCommand } from '../command.ts';
import { openRepoContext } from '../../git/repo-context.ts';
import { removeWorktree } from '../../git/worktree-remove.ts';
import { requireOrchestrator } from '../caller.ts';

export const command = defineCommand('worktree remove', {
  options: {
    task: { type: 'string', value: 'ID', required: true, help: 'the task whose worktree goes' },
    into: { type: 'string', value: 'BRANCH', help: "delete the task's branch when all its commits are in BRANCH (default: the main worktree's branch)" },
    force: { type: 'boolean', help: 'remove even with uncommitted or unmerged work, kept under refs/parallel/backup/ (never from a subagent)' },
  },
  async run(ctx) {
    if (ctx.values.force === true) requireOrchestrator(ctx, 'worktree remove --force');
    const context = openRepoContext({ cwd: ctx.cwd, env: ctx.env, tasksDir: stringOption(ctx.values, 'tasks-dir') });
    const result = await removeWorktree(context, {
      taskId: requireString(ctx.values, 'task', command.usage),
      target: stringOption(ctx.values, 'into'),
      force: ctx.values.force === true,
    });
    const lines = [`removed the worktree of task ${result.task} (${result.path})`];
    if (result.branch_deleted) lines.push(`deleted branch ${result.branch}: all its commits are in ${result.target}`);
    else lines.push(`kept branch ${result.branch}${result.unmerged_commits > 0 ? `: ${result.unmerged_commits} commit(s) not in ${result.target}` : ''}`);
    for (const ref of result.backup_refs) lines.push(`backup: ${ref}`);
    return { data: result, text: lines.join('\n') };
  },
});
