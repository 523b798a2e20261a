import { defineCommand, type CommandContext } from '../command.ts';
import { CliError } from '../../errors.ts';
import { listWorktreeRecords } from '../../git/worktree-registry.ts';
import type { Task, TaskBackend, TaskProblem } from '../../store/backend.ts';
import { DEFAULT_LEASE_MS, isClaimable, isOpen, openWork } from '../../store/rules.ts';
import { hostSubagentCap, launchNow } from '../../plan/launch-limit.ts';
import { formatDuration } from '../../text/duration.ts';
import { printable } from '../../text/printable.ts';
import { durationOption, integerOption } from '../args.ts';
import { openStore } from '../open-store.ts';
import { writeJson } from '../output.ts';
import { attemptsUsed, taskJson } from '../task-view.ts';

// "N completed / M total (K in progress, F failed)", one row per task, and every claim flagged
// that recover would take back now (dead holder, lease run out) or that has been held longer than
// the lease.

interface StatusSnapshot {
  store: string;
  summary: string;
  counts: Record<string, number>;
  claimable: number;
  total: number;
  done: boolean;
  tasks: Record<string, unknown>[];
  flags: { id: string; flag: string }[];
  problems: TaskProblem[];
}

async function snapshot(store: TaskBackend, staleAfterMs: number): Promise<StatusSnapshot & { list: Task[] }> {
  const { tasks, problems } = await store.list({ staleAfterMs });
  const now = Date.now(); // after the listing: a shared store's claim times are when it saw them
  const counts = { available: 0, claimed: 0, completed: 0, failed: 0, blocked: 0 };
  const flags: { id: string; flag: string }[] = [];
  for (const task of tasks) {
    counts[task.state]++;
    if (!task.claim) continue;
    if (task.claim.stale) flags.push({ id: task.id, flag: `${task.claim.stale.kind === 'dead' ? 'dead' : 'stale'}: ${task.claim.stale.reason}` });
    else if (now - task.claim.claimedAt > staleAfterMs) flags.push({ id: task.id, flag: `claimed ${task.claim.claimerStamp === undefined ? '' : 'at least '}${formatDuration(now - task.claim.claimedAt)} ago` });
  }
  const worktrees = new Map(listWorktreeRecords(store.localDir).records.map((record) => [record.task, record]));
  const stateById = new Map(tasks.map((task) => [task.id, task.state]));
  const claimable = (task: Task): boolean => isClaimable(task, (id) => stateById.get(id));
  const total = tasks.length;
  // Done as claim judges it (exit 4): nothing held, and every open task waits on a blocked one.
  const open = new Map(tasks.filter((task) => isOpen(task.state)).map((task) => [task.id, task.depends_on]));
  const { waiting, stuck } = openWork(open, (id) => stateById.get(id));
  const waitingOnBlocked = stuck.size > 0 ? `, ${stuck.size} waiting on blocked tasks` : '';
  const summary = `${counts.completed} completed / ${total} total (${counts.claimed} in progress, ${counts.failed} failed, ${counts.blocked} blocked${waitingOnBlocked})`;
  const done = counts.claimed === 0 && waiting.length === 0;
  return {
    store: store.description,
    summary,
    counts,
    claimable: tasks.filter(claimable).length,
    total,
    done,
    tasks: tasks.map((task) => ({ ...taskJson(task, now, worktrees.get(task.id)), claimable: claimable(task) })),
    flags,
    problems,
    list: tasks,
  };
}

function render(snap: StatusSnapshot, tasks: Task[]): string {
  const now = Date.now();
  const flagged = new Map<string, string[]>();
  for (const { id, flag } of snap.flags) flagged.set(id, [...(flagged.get(id) ?? []), flag]);
  const rows = tasks.map((task) => [
    printable(task.id),
    task.state,
    task.claim?.agent ?? task.completed_by ?? '',
    `${attemptsUsed(task)} of ${task.max_attempts}`,
    task.claim ? formatDuration(now - task.claim.claimedAt) : '',
    (flagged.get(task.id) ?? []).map((flag) => `! ${flag}`).join('; ') || printable(task.state === 'blocked' || task.state === 'failed' ? task.last_error ?? '' : ''),
  ]);
  const header = ['TASK', 'STATE', 'AGENT', 'ATTEMPTS USED', 'AGE', 'NOTE'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const format = (row: string[]): string => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd();
  const lines = [snap.summary, `store: ${snap.store}`, '', format(header), ...rows.map(format)];
  if (tasks.length === 0) lines.push('(no tasks yet)');
  for (const problem of snap.problems) lines.push(`problem: ${printable(problem.message)}`);
  return lines.join('\n');
}

async function watch(ctx: CommandContext, store: TaskBackend, staleAfterMs: number): Promise<Awaited<ReturnType<typeof snapshot>>> {
  const tty = !ctx.json && ctx.stdout.isTTY;
  let last = '';
  for (;;) {
    const snap = await snapshot(store, staleAfterMs);
    const key = JSON.stringify([snap.counts, snap.flags]);
    if (tty) {
      ctx.stdout.write(`\x1b[H\x1b[2J${render(snap, snap.list)}\n`);
    } else if (key !== last) {
      // With --json the watch's stream is its output: JSON lines on stdout, the last document included.
      const event = { event: 'status', summary: snap.summary, counts: snap.counts, flags: snap.flags };
      if (ctx.json) writeJson(ctx.stdout, event);
      else ctx.emit(event, snap.summary);
    }
    last = key;
    if (snap.done) return snap;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

export const command = defineCommand('status', {
  options: {
    watch: { type: 'boolean', help: 'redraw every second until no work is left (with --json: one JSON line per change on stdout)' },
    'stale-after': { type: 'string', value: '30m', help: `flag claims with no heartbeat for this long (default ${formatDuration(DEFAULT_LEASE_MS)})` },
    running: { type: 'string', value: 'N', help: 'agents launched that have not reported yet, for launch_limit (default: one per claim held)' },
  },
  async run(ctx) {
    const store = openStore(ctx);
    // A mistyped --tasks-dir must not read as "0 of 0 done".
    if (!(await store.exists())) {
      throw new CliError('E_NOT_FOUND', `no task store at ${store.description}; run \`parallel-agents init\` or \`plan publish\` first, or fix --tasks-dir / --store`);
    }
    const staleAfterMs = durationOption(ctx.values, 'stale-after', DEFAULT_LEASE_MS);
    // --running: the agents the caller launched that have not reported yet (default: one per claim held).
    const running = integerOption(ctx.values, 'running', 0);
    const { list, ...snap } = ctx.values.watch ? await watch(ctx, store, staleAfterMs) : await snapshot(store, staleAfterMs);
    // How many agents to launch now, within the host's concurrent subagent cap.
    const claimed = snap.counts.claimed ?? 0;
    const launch = { launch_limit: launchNow(snap.claimable, claimed, ctx.env, running ?? claimed), host_subagent_cap: hostSubagentCap(ctx.env) ?? null };
    return { data: { ...snap, ...launch }, text: ctx.values.watch && ctx.stdout.isTTY ? '' : render(snap, list) };
  },
});
