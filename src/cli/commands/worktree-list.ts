import { stringOption } from '../args.ts';
import { defineCommand } from '../command.ts';
import { openRepoContext } from '../../git/repo-context.ts';
import { displayPath, listWorktrees } from '../../git/worktree.ts';
import { listBackupRefs } from '../../git/backup-ref.ts';

export const command = defineCommand('worktree list', {
  options: {},
  async run(ctx) {
    const context = openRepoContext({ cwd: ctx.cwd, env: ctx.env, tasksDir: stringOption(ctx.values, 'tasks-dir') });
    const { worktrees, problems } = listWorktrees(context);
    // Work kept by forced removals, so it can be found again (git branch NAME REF restores it).
    const backups = listBackupRefs(context.repoRoot);
    const rows = worktrees.map((worktree) => {
      const state = worktree.missing ? 'missing (run worktree prune)' : worktree.registered ? 'ok' : 'not registered in git';
      return `${worktree.task}\t${worktree.branch}\t${worktree.head?.slice(0, 12) ?? '-'}\t${displayPath(context, worktree.path)}\t${state}`;
    });
    const text = [
      worktrees.length === 0 ? 'no task worktrees' : ['task\tbranch\thead\tpath\tstate', ...rows].join('\n'),
      ...backups.map((backup) => `backup: ${backup.ref} (${backup.commit.slice(0, 12)})`),
      ...problems.map((problem) => `problem: ${problem.message}`),
    ].join('\n');
    return { data: { worktrees, backups, problems }, text };
  },
});
