import type { CommandModule } from '../command.ts';
import { requireString, stringOption } from '../args.ts';
import { openStore } from '../open-store.ts';
import { taskJson } from '../task-view.ts';
import { verifyCommitEvidence } from '../../git/evidence.ts';
import { commitTaskWorktree } from '../../git/commit-worktree.ts';
import { CliError } from '../../errors.ts';

const usage = 'parallel-agents complete --agent NAME --task ID [--commit SHA | --commit-worktree] [--summary TEXT] [--token TOKEN] [--json]';

export const command: CommandModule = {
  usage,
  options: {
    agent: { type: 'string' },
    task: { type: 'string' },
    commit: { type: 'string' },
    'commit-worktree': { type: 'boolean' },
    summary: { type: 'string' },
    token: { type: 'string' },
  },
  async run(ctx) {
    const store = openStore(ctx);
    const request = {
      agent: requireString(ctx.values, 'agent', usage),
      task: requireString(ctx.values, 'task', usage),
      token: stringOption(ctx.values, 'token'),
      commit: stringOption(ctx.values, 'commit'),
      summary: stringOption(ctx.values, 'summary'),
    };
    if (ctx.values['commit-worktree'] && request.commit !== undefined) {
      throw new CliError('E_USAGE', `give --commit or --commit-worktree, not both; usage: ${usage}`);
    }
    // A sha, or a name such as HEAD that the evidence check resolves in the task's worktree.
    if (request.commit !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_./~^@{}-]{0,199}$/.test(request.commit)) {
      throw new CliError('E_INVALID', `--commit "${request.commit}" is not a commit id; pass the full or abbreviated hex sha (git rev-parse HEAD)`);
    }
    // Only the holder may commit in the task's worktree or have its evidence checked: a stale
    // holder hears "not yours" (exit 5) before anything else.
    await store.heartbeat({ agent: request.agent, task: request.task, token: request.token });
    const held = ctx.values['commit-worktree'] || request.commit !== undefined ? store.get(request.task) : undefined;
    if (ctx.values['commit-worktree']) {
      request.commit = commitTaskWorktree(store.dir, request.task, `${request.task}: ${held?.title ?? 'task work'}`);
    }
    // "Done" needs evidence: a commit on the task's own branch, checked before the state moves.
    if (request.commit !== undefined) {
      request.commit = await verifyCommitEvidence(store, request.task, request.commit, held?.files ?? []);
    }
    const task = await store.complete(request);
    return {
      data: { task: taskJson(task) },
      text: `completed ${task.id}${task.commit ? ` at ${task.commit}` : ''}; claim the next task with parallel-agents claim --agent ${request.agent}`,
    };
  },
};
