import { defineCommand } from '../command.ts';
import { CliError } from '../../errors.ts';
import { gatherEvidence } from '../../git/evidence.ts';
import { openRepoContext } from '../../git/repo-context.ts';
import { readWorktreeRecord } from '../../git/worktree-registry.ts';
import type { Task } from '../../store/backend.ts';
import { claimCommand } from '../../store/next-steps.ts';
import { completedByClaim } from '../../store/transitions.ts';
import { requireString, stringOption } from '../args.ts';
import { holderRequest } from '../caller.ts';
import { openStore } from '../open-store.ts';
import { taskJson } from '../task-view.ts';

export const command = defineCommand('complete', {
  options: {
    agent: { type: 'string', value: 'NAME', required: true, help: 'the name the task was claimed with' },
    task: { type: 'string', value: 'ID', required: true, help: 'the claimed task' },
    commit: { type: 'string', value: 'SHA', or: 'commit-worktree', help: "the work's commit, on the task's branch (needed when the task has files)" },
    'commit-worktree': { type: 'boolean', help: "commit what is left in the task's worktree and use that commit" },
    summary: { type: 'string', value: 'TEXT', help: 'one line on what was done, kept in the task file' },
    token: { type: 'string', value: 'TOKEN', help: 'the token claim printed (a subagent its hooks bound to NAME may leave it out)' },
  },
  async run(ctx) {
    const store = openStore(ctx);
    const proof = holderRequest(ctx, store, { agent: requireString(ctx.values, 'agent', command.usage), task: requireString(ctx.values, 'task', command.usage), token: stringOption(ctx.values, 'token') });
    let commit = stringOption(ctx.values, 'commit');
    const commitWorktree = ctx.values['commit-worktree'] === true;
    if (commitWorktree && commit !== undefined) throw new CliError('E_USAGE', `give --commit or --commit-worktree, not both; usage: ${command.usage}`);
    // A sha, or a name such as HEAD that the evidence check resolves in the task's worktree.
    if (commit !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9_./~^@{}-]{0,199}$/.test(commit)) {
      throw new CliError('E_INVALID', `--commit "${commit}" is not a commit id; pass the full or abbreviated hex sha (git rev-parse HEAD)`);
    }
    // Only the holder may commit in the task's worktree or have its evidence checked: a stale
    // holder hears "not yours" (exit 5) before anything else. A holder whose earlier complete
    // landed but whose answer was lost (a kill, a timeout) is told its completion stands.
    let held: Task;
    let earlier: Task | undefined;
    try {
      held = await store.heartbeat(proof);
    } catch (error) {
      earlier = error instanceof CliError && error.code === 'E_NOT_HOLDER' ? await store.get(proof.task) : undefined;
      if (!earlier || !completedByClaim(earlier, proof)) throw error;
      held = earlier;
    }
    const needsRepo = commitWorktree || commit !== undefined || held.files.length > 0;
    let evidence: { branch: string; base: string } | undefined;
    if (needsRepo) {
      const context = openRepoContext({ cwd: ctx.cwd, env: ctx.env, tasksDir: stringOption(ctx.values, 'tasks-dir') });
      commit = await gatherEvidence({ context, task: held, commit, commitWorktree });
      // A shared store publishes the task's branch with the record, and keeps the base for verify elsewhere.
      const record = readWorktreeRecord(context.storeDir, held.id);
      if (record && commit) evidence = { branch: record.branch, base: record.base };
    }
    if (earlier) return alreadyCompleted(earlier, commit, proof.agent);
    const task = await store.complete({ ...proof, commit, summary: stringOption(ctx.values, 'summary'), evidence });
    return {
      data: { task: taskJson(task) },
      text: `completed ${task.id}${task.commit ? ` at ${task.commit}` : ''}; claim the next task with ${claimCommand(proof.agent, task.role)}`,
    };
  },
});

/** The answer to a retried complete whose first try landed: the same completion, or a refusal when this try brings other work. */
function alreadyCompleted(task: Task, commit: string | undefined, agent: string): { data: Record<string, unknown>; text: string } {
  const same = commit === undefined ? task.commit === undefined : task.commit !== undefined && (task.commit.startsWith(commit) || commit.startsWith(task.commit));
  if (!same) {
    throw new CliError('E_REFUSED', `task "${task.id}" is already completed by your claim${task.commit ? ` at ${task.commit}` : ' with no commit'} (an earlier complete landed; its answer was lost); ${commit ?? 'no commit'} is not part of it and will not be merged: keep that work for another task`);
  }
  return {
    data: { task: taskJson(task), already_completed: true },
    text: `completed ${task.id}${task.commit ? ` at ${task.commit}` : ''} (by an earlier complete of yours, whose answer was lost); claim the next task with ${claimCommand(agent, task.role)}`,
  };
}
