import { CliError } from '../errors.ts';
import type { TaskState } from './backend.ts';
import { openWork } from './rules.ts';

// Why a claim found nothing: "wait, work remains" (exit 3) or "nothing will ever be claimable"
// (exit 4). Every contender ends here once the queue drains, so the snapshot is built from names
// and the open tasks' dependencies only, never from parsing the whole store. Pure: both backends
// build the snapshot their own way and share this verdict.

export interface ClaimSnapshot {
  /** Where each task id is. */
  stateOf: ReadonlyMap<string, TaskState>;
  /** Claimed id -> agent. */
  holders: ReadonlyMap<string, string>;
  /** Moves in flight toward an open or held state: still work, never "no work left". */
  moving: number;
  /** depends_on of each open task; undefined when its file cannot be read. */
  openDeps: ReadonlyMap<string, readonly string[] | undefined>;
  /** Where the store is, for messages. */
  where: string;
}

export function nothingClaimable(snapshot: ClaimSnapshot, request: { task?: string | undefined; role?: string | undefined }): CliError {
  const { stateOf, holders, openDeps } = snapshot;
  const counts = { available: 0, claimed: 0, completed: 0, failed: 0, blocked: 0 };
  for (const state of stateOf.values()) counts[state]++;
  const readable = new Map([...openDeps].filter((entry): entry is [string, readonly string[]] => entry[1] !== undefined));
  const unreadable = [...openDeps].filter(([, deps]) => deps === undefined).map(([id]) => `${stateOf.get(id)}/${id}.md`);
  const { waiting, stuck } = openWork(readable, (id) => stateOf.get(id));

  if (request.task) {
    const state = stateOf.get(request.task);
    if (!state) return new CliError('E_NOT_FOUND', `task "${request.task}" does not exist in ${snapshot.where}`);
    if (state === 'completed' || state === 'blocked') return new CliError('E_NO_WORK', `task "${request.task}" is ${state}; nothing to claim`);
    const why = state === 'claimed' ? `held by ${holders.get(request.task)}` : stuck.has(request.task) ? 'waiting on a blocked task' : 'waiting on depends_on or another role';
    return new CliError('E_NOTHING_CLAIMABLE', `task "${request.task}" is not claimable now (${why})`);
  }
  if (waiting.length === 0 && counts.claimed === 0 && snapshot.moving === 0) {
    const broken = unreadable.length > 0 ? `; ${unreadable.length} task file(s) cannot be read (${unreadable.join(', ')}): run parallel-agents status to see why` : '';
    return new CliError('E_NO_WORK', `no work left: ${counts.completed} completed, ${counts.blocked} blocked${stuck.size > 0 ? `; ${stuck.size} wait on blocked tasks` : ''}${broken}`);
  }
  const forRole = request.role ? ` for role ${request.role}` : '';
  return new CliError(
    'E_NOTHING_CLAIMABLE',
    `nothing claimable now${forRole}: ${waiting.length} waiting (on depends_on${request.role ? ' or other roles' : ''}), ${counts.claimed} held by agents; retry later`,
  );
}
