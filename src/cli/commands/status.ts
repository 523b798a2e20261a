import type { CommandModule, CommandContext } from '../command.ts';
import { CliError } from '../../errors.ts';
import { durationOption } from '../args.ts';
import { openStore } from '../open-store.ts';
import { taskJson } from '../task-view.ts';
import type { TaskStore } from '../../store/task-store.ts';
import { formatDuration } from '../../text/duration.ts';
import type { Task, TaskProblem } from '../../store/types.ts';
import { processLiveness } from '../../process/liveness.ts';
import { listWorktreeRecords } from '../../git/worktree-registry.ts';

// The seeds' monitoring rule: report "N completed / M total (K in progress, F failed)" and flag
// any claim held for more than 30 minutes.
const LONG_CLAIM_MS = 30 * 60_000;

interface StatusSnapshot {
  summary: string;
  counts: Record<string, number>;
  claimable: number;
  total: number;
  done: boolean;
  tasks: Record<string, unknown>[];
  flags: { id: string; flag: string }[];
  problems: TaskProblem[];
}

function snapshot(store: TaskStore, staleAfterMs: number): StatusSnapshot & { list: Task[] } {
  const now = Date.now();
  const { tasks, problems } = store.listAll();
  const counts = { available: 0, claimed: 0, completed: 0, failed: 0, blocked: 0 };
  const flags: { id: string; flag: string }[] = [];
  for (const task of tasks) {
    counts[task.state]++;
    if (task.claim) {
      if (now - task.claim.claimedAt > LONG_CLAIM_MS) flags.push({ id: task.id, flag: `claimed ${formatDuration(now - task.claim.claimedAt)} ago` });
      if (now - task.claim.heartbeatAt > staleAfterMs) flags.push({ id: task.id, flag: `stale: no heartbeat for ${formatDuration(now - task.claim.heartbeatAt)}` });
      else if (task.claim.holder && processLiveness(task.claim.holder) === 'gone') flags.push({ id: task.id, flag: `stale: holder process ${task.claim.holder.pid} is gone` });
    }
  }
  const worktrees = new Map(listWorktreeRecords(store.dir).records.map((record) => [record.task, record]));
  // Ready now: open, and every dependency completed. The orchestrator launches agents for these.
  const stateById = new Map(tasks.map((task) => [task.id, task.state]));
  const claimable = (task: Task): boolean =>
    (task.state === 'available' || task.state === 'failed') && task.depends_on.every((dep) => stateById.get(dep) === 'completed');
  const total = tasks.length;
  const summary = `${counts.completed} completed / ${total} total (${counts.claimed} in progress, ${counts.failed} failed, ${counts.blocked} blocked)`;
  const done = counts.available + counts.claimed + counts.failed === 0;
  const ready = tasks.filter(claimable).length;
  return { summary, counts, claimable: ready, total, done, tasks: tasks.map((task) => ({ ...taskJson(task, now, worktrees.get(task.id)), claimable: claimable(task) })), flags, problems, list: tasks };
}

function render(store: TaskStore, snap: StatusSnapshot, tasks: Task[]): string {
  const now = Date.now();
  const flagged = new Map<string, string[]>();
  for (const { id, flag } of snap.flags) flagged.set(id, [...(flagged.get(id) ?? []), flag]);
  const rows = tasks.map((task) => [
    task.id,
    task.state,
    task.claim?.agent ?? task.completed_by ?? '',
    `${task.attempts}/${task.max_attempts}`,
    task.claim ? formatDuration(now - task.claim.claimedAt) : '',
    (flagged.get(task.id) ?? []).map((flag) => `! ${flag}`).join('; ') || (task.state === 'blocked' || task.state === 'failed' ? task.last_error ?? '' : ''),
  ]);
  const header = ['TASK', 'STATE', 'AGENT', 'TRIES', 'AGE', 'NOTE'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const format = (row: string[]): string => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  const lines = [snap.summary, '', format(header), ...rows.map(format)];
  if (tasks.length === 0) lines.push(`(no tasks in ${store.dir})`);
  for (const problem of snap.problems) lines.push(`problem: ${problem.message}`);
  return lines.join('\n');
}

async function watch(ctx: CommandContext, store: TaskStore, staleAfterMs: number): Promise<ReturnType<typeof snapshot>> {
  const tty = !ctx.json && ctx.stdout.isTTY;
  let last = '';
  for (;;) {
    const snap = snapshot(store, staleAfterMs);
    const tasks = snap.list;
    const key = JSON.stringify([snap.counts, snap.flags]);
    if (tty) {
      ctx.stdout.write(`\x1b[H\x1b[2J${render(store, snap, tasks)}\n`);
    } else if (key !== last) {
      ctx.emit({ event: 'status', summary: snap.summary, counts: snap.counts, flags: snap.flags }, snap.summary);
    }
    last = key;
    if (snap.done) return snap;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

export const command: CommandModule = {
  usage: 'parallel-agents status [--watch] [--stale-after 30m] [--json]',
  options: { watch: { type: 'boolean' }, 'stale-after': { type: 'string' } },
  async run(ctx) {
    const store = openStore(ctx);
    // A mistyped --tasks-dir must not read as "0 of 0 done".
    if (!store.exists()) {
      throw new CliError('E_NOT_FOUND', `no task store at ${store.dir}; run \`parallel-agents init\` or \`plan publish\` first, or fix --tasks-dir`);
    }
    const staleAfterMs = durationOption(ctx.values, 'stale-after', LONG_CLAIM_MS);
    const { list, ...snap } = ctx.values.watch ? await watch(ctx, store, staleAfterMs) : snapshot(store, staleAfterMs);
    return { data: snap, text: ctx.values.watch && ctx.stdout.isTTY ? '' : render(store, snap, list) };
  },
};
