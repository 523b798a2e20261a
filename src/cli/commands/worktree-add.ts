import { listOption, requireString, stringOption } from '../args.ts';
import type { CommandModule } from '../command.ts';
import { openRepoContext } from '../../git/repo-context.ts';
import { addWorktree, displayPath } from '../../git/worktree.ts';
import { CliError } from '../../errors.ts';
import { TaskStore } from '../../store/task-store.ts';
import { validateTaskId } from '../../store/task-schema.ts';
import { resolveCommit } from '../../repo/run-git.ts';
import { stackedBase } from '../../git/stacked-base.ts';

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
    // With a store, the id must name a task (a typo would otherwise create an orphan branch);
    // without one, worktrees work for ad-hoc ids too.
    const store = TaskStore.open({ cwd: ctx.cwd, tasksDir: stringOption(ctx.values, 'tasks-dir'), env: ctx.env });
    if (store.exists() && !store.locate(validateTaskId(taskId))) {
      throw new CliError('E_NOT_FOUND', `task "${taskId}" is not in ${store.dir}; check the id with "parallel-agents status" or add the task first`);
    }
    // Nothing merges before verify, so a task that depends on others starts from their commits
    // (stacked in memory), not from a target that does not have their work yet.
    let base = stringOption(ctx.values, 'base');
    let stackedOn: string[] = [];
    const task = base === undefined && store.exists() ? store.get(taskId) : undefined;
    if (task && task.depends_on.length > 0) {
      const done = task.depends_on.map((dep) => store.get(dep)).filter((dep) => dep?.state === 'completed' && dep.commit);
      if (done.length > 0) {
        const head = resolveCommit('HEAD', context.repoRoot);
        if (head) {
          base = stackedBase(context.repoRoot, head, done.map((dep) => dep!.commit!));
          stackedOn = done.map((dep) => dep!.id);
        }
      }
    }
    const record = await addWorktree(context, { taskId, base, sparse: listOption(ctx.values, 'sparse') });
    const sparseNote = record.sparse.length > 0 ? `\nsparse:  ${record.sparse.join(', ')}` : '';
    const stackNote = stackedOn.length > 0 ? `\nstarts from the work of: ${stackedOn.join(', ')}` : '';
    return {
      data: { ...record, stacked_on: stackedOn },
      text: `worktree for task ${record.task}\npath:    ${displayPath(context, record.path)}\nbranch:  ${record.branch}\nbase:    ${record.base.slice(0, 12)} (${record.base_ref})${sparseNote}${stackNote}\n\ncd ${record.path}`,
    };
  },
};
