import { WORKTREES_DIR_OPTION, listOption, requireString, stringOption } from '../args.ts';
import { defineCommand } from '../command.ts';
import { openRepoContext } from '../../git/repo-context.ts';
import { addWorktree, displayPath } from '../../git/worktree.ts';
import { chooseCheckout, parseCheckoutMode, sparseNote } from '../../git/worktree-sparse.ts';
import { CliError } from '../../errors.ts';
import { validateTaskId } from '../../store/task-schema.ts';
import { resolveCommit } from '../../repo/run-git.ts';
import { taskStart } from '../../git/stacked-base.ts';
import { openStore } from '../open-store.ts';
import { formatDuration } from '../../text/duration.ts';

export const command = defineCommand('worktree add', {
  options: {
    task: { type: 'string', value: 'ID', required: true, help: 'the task the worktree and its branch parallel/ID are for' },
    base: { type: 'string', value: 'REF', help: "the commit to start from (default: HEAD, or the work of the task's dependencies)" },
    checkout: { type: 'string', value: 'auto|full|scoped', help: "scoped: only the task's folders; full: everything; auto (default): scoped above 5,000 tracked files" },
    sparse: { type: 'string', value: 'DIR,...', help: 'with a scoped checkout: more folders to check out' },
    'worktrees-dir': WORKTREES_DIR_OPTION,
  },
  async run(ctx) {
    const taskId = requireString(ctx.values, 'task', command.usage);
    const mode = parseCheckoutMode(stringOption(ctx.values, 'checkout'));
    const context = openRepoContext({
      cwd: ctx.cwd,
      env: ctx.env,
      tasksDir: stringOption(ctx.values, 'tasks-dir'),
      worktreesDir: stringOption(ctx.values, 'worktrees-dir'),
    });
    // With a store, the id must name a task (a typo would otherwise create an orphan branch);
    // without one, worktrees work for ad-hoc ids too.
    const store = openStore(ctx);
    const hasStore = await store.exists();
    const task = hasStore ? await store.get(validateTaskId(taskId)) : undefined;
    if (hasStore && !task) {
      throw new CliError('E_NOT_FOUND', `task "${taskId}" is not in ${store.description}; check the id with "parallel-agents status" or add the task first`);
    }
    let base = stringOption(ctx.values, 'base');
    let stackedOn: string[] = [];
    if (base === undefined && task && task.depends_on.length > 0) {
      const head = resolveCommit('HEAD', context.repoRoot);
      const deps = await Promise.all(task.depends_on.map((dep) => store.get(dep)));
      if (head) ({ base, stackedOn } = taskStart(context.repoRoot, head, deps.filter((dep) => dep !== undefined)));
    }
    const checkout = chooseCheckout(context, { mode, files: task?.files ?? [], reads: task?.reads ?? [], folders: listOption(ctx.values, 'sparse') });
    const record = await addWorktree(context, { taskId, base, sparse: checkout.sparse });
    const sparseLines = checkout.sparse ? `\nsparse:  ${checkout.sparse.length > 0 ? checkout.sparse.join(', ') : '(top-level files only)'}\n${sparseNote(checkout.sparse, context.repoRoot)}` : '';
    const stackNote = stackedOn.length > 0 ? `\nstarts from the work of: ${stackedOn.join(', ')}` : '';
    const portNote = record.ports ? `\nports:   ${record.ports.from}${record.ports.count > 1 ? `-${record.ports.from + record.ports.count - 1}` : ''} (PARALLEL_PORT, PARALLEL_PORT_COUNT)` : '';
    const prepared = record.prepared;
    const readyNote = prepared
      ? `\nready:   ${[
        ...(prepared.copied > 0 ? [`${prepared.copied} file(s) copied from .worktreeinclude`] : []),
        ...(prepared.setup ? [`set-up "${prepared.setup}" ran (${formatDuration(prepared.setup_ms ?? 0)})`] : []),
      ].join('; ')}${(prepared.skipped ?? []).map((entry) => `\nnot copied: ${entry.path} (${entry.reason})`).join('')}`
      : '';
    return {
      data: { ...record, stacked_on: stackedOn, checkout_reason: checkout.reason, ...(checkout.sparse ? { main_checkout: context.repoRoot } : {}) },
      text: `worktree for task ${record.task}\npath:    ${displayPath(context, record.path)}\nbranch:  ${record.branch}\nbase:    ${record.base.slice(0, 12)} (${record.base_ref})\ncheckout: ${checkout.reason}${sparseLines}${stackNote}${portNote}${readyNote}\n\ncd ${record.path}`,
    };
  },
});
