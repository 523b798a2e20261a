import { WORKTREES_DIR_OPTION, stringOption } from '../args.ts';
import { defineCommand } from '../command.ts';
import { openRepoContext } from '../../git/repo-context.ts';
import { pruneWorktrees } from '../../git/worktree-prune.ts';

export const command = defineCommand('worktree prune', {
  options: {
    'worktrees-dir': WORKTREES_DIR_OPTION,
  },
  async run(ctx) {
    const context = openRepoContext({
      cwd: ctx.cwd,
      env: ctx.env,
      tasksDir: stringOption(ctx.values, 'tasks-dir'),
      worktreesDir: stringOption(ctx.values, 'worktrees-dir'),
    });
    const result = await pruneWorktrees(context);
    const lines = [
      ...result.forgotten.map((entry) => `forgot task ${entry.task}: ${entry.path} is gone (branch ${entry.branch} kept)`),
      ...result.integration_worktrees_removed.map((path) => `removed leftover test worktree ${path}`),
      ...result.integration_refs_removed.map((ref) => `deleted leftover verify ref ${ref}`),
      ...result.removals_finished.map((path) => `finished an interrupted removal: deleted ${path}`),
      ...result.removals_restored.map((path) => `put back ${path}: its removal was interrupted before its work was backed up`),
      ...result.head_backups.map((entry) => `kept the detached HEAD ${entry.commit.slice(0, 12)} of ${entry.path} (folder not found) under ${entry.ref}`),
    ];
    return { data: result, text: lines.length > 0 ? lines.join('\n') : 'nothing to prune' };
  },
});
