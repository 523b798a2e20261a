import { stringOption } from '../args.ts';
import type { CommandModule } from '../command.ts';
import { openRepoContext } from '../../git/repo-context.ts';
import { displayPath, listWorktrees } from '../../git/worktree.ts';

export const command: CommandModule = {
  usage: 'parallel-agents worktree list [--json]',
  options: {},
  async run(ctx) {
    const context = openRepoContext({ cwd: ctx.cwd, env: ctx.env, tasksDir: stringOption(ctx.values, 'tasks-dir') });
    const { worktrees, problems } = listWorktrees(context);
    const rows = worktrees.map((worktree) => {
      const state = worktree.missing ? 'missing (run worktree prune)' : worktree.registered ? 'ok' : 'not registered in git';
      return `${worktree.task}\t${worktree.branch}\t${worktree.head?.slice(0, 12) ?? '-'}\t${displayPath(context, worktree.path)}\t${state}`;
    });
    const text = [
      worktrees.length === 0 ? 'no task worktrees' : ['task\tbranch\thead\tpath\tstate', ...rows].join('\n'),
      ...problems.map((problem) => `problem: ${problem.message}`),
    ].join('\n');
    return { data: { worktrees, problems }, text };
  },
};
