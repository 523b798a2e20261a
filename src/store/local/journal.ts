import { createFileWhole, writeFailure, writeWhole } from '../../fs/atomic-write.ts';
import type { FsPort } from '../../fs/fs-port.ts';
import type { Task, TaskEvent, TaskState } from '../backend.ts';
import type { NewEvent } from '../transitions.ts';

// events.jsonl: the append-only story of who did what. The task files are the truth; the journal
// is written after each transition has taken ownership (a failed append rolls the transition
// back), and `recover` appends a `reconcile` line for every task whose journal disagrees with its
// file, so after a crash at any step the two agree again. Each event is one write() on an
// O_APPEND descriptor: concurrent writers never interleave inside a line.

export type { NewEvent };

export function formatEvent(event: NewEvent): string {
  return `${JSON.stringify({ ts: new Date().toISOString(), ...event })}\n`;
}

/** Appends one event whole, or throws E_IO (a full disk) with nothing half-written left behind. */
export function appendEvent(fs: FsPort, path: string, event: NewEvent): void {
  const line = formatEvent(event);
  let fd: number;
  try {
    fd = fs.openSync(path, 'a');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      createFileWhole(fs, path, '');
      fd = fs.openSync(path, 'a');
    } else throw writeFailure(error, path);
  }
  let failure: unknown;
  try {
    writeWhole(fs, fd, line);
  } catch (error) {
    failure = error;
    // A torn line must not swallow the next writer's line: end it (readers skip what they cannot parse).
    try { fs.writeSync(fd, '\n'); } catch { /* the disk is full; readers split at the next record */ }
  }
  try {
    fs.closeSync(fd);
  } catch (error) {
    failure ??= error;
  }
  if (failure !== undefined) throw writeFailure(failure, path);
}

const RECORD_START = '{"ts":';

/**
 * Every readable event, in order. A line torn by a crash or a full disk is skipped; when a torn
 * record and the next one share a line, the later record is still read.
 */
export function parseEvents(text: string): TaskEvent[] {
  const events: TaskEvent[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const starts: number[] = [];
    for (let at = line.indexOf(RECORD_START); at >= 0; at = line.indexOf(RECORD_START, at + 1)) starts.push(at);
    for (let i = starts.length - 1; i >= 0; i--) {
      try {
        events.push(JSON.parse(line.slice(starts[i])) as TaskEvent);
        break;
      } catch {
        // torn: try the record before it on the same line
      }
    }
  }
  return events;
}

export function readEvents(fs: FsPort, path: string): TaskEvent[] {
  try {
    return parseEvents(fs.readFileSync(path, 'utf8') as string);
  } catch {
    return [];
  }
}

interface Replayed {
  state: TaskState;
  attempts: number;
  lease: string | undefined;
}

/** What an event says the task became; events older than `to` are read by their kind. */
function effect(event: TaskEvent, before: Replayed | undefined): Replayed | undefined {
  const attempts = typeof event.attempts === 'number' ? event.attempts : before?.attempts ?? 0;
  const lease = typeof event.lease === 'string' ? event.lease : undefined;
  const to = typeof event.to === 'string' ? (event.to as TaskState) : undefined;
  switch (event.event) {
    case 'add': return { state: 'available', attempts: 0, lease: undefined };
    case 'claim': return { state: 'claimed', attempts, lease };
    case 'complete': return { state: 'completed', attempts, lease: undefined };
    case 'fail': return { state: 'failed', attempts: typeof event.attempt === 'number' ? event.attempt : attempts, lease: undefined };
    case 'block': return { state: 'blocked', attempts: typeof event.attempt === 'number' ? event.attempt : attempts, lease: undefined };
    case 'release':
    case 'recover':
    case 'reopen':
    case 'reconcile':
      return to ? { state: to, attempts: typeof event.attempts === 'number' ? event.attempts : typeof event.attempt === 'number' ? event.attempt : attempts, lease: to === 'claimed' ? lease : undefined } : before;
    default: return before;
  }
}

/** The events that make the journal agree with the tasks as they are now (empty when it already does). */
export function reconcileEvents(events: readonly TaskEvent[], tasks: readonly Task[]): NewEvent[] {
  const replayed = new Map<string, Replayed>();
  for (const event of events) {
    if (typeof event.task !== 'string') continue;
    const next = effect(event, replayed.get(event.task));
    if (next) replayed.set(event.task, next);
  }
  const fixes: NewEvent[] = [];
  for (const task of tasks) {
    const said = replayed.get(task.id);
    const lease = task.claim?.lease;
    if (said && said.state === task.state && said.attempts === task.attempts && (task.state !== 'claimed' || said.lease === lease)) continue;
    fixes.push({
      event: 'reconcile',
      task: task.id,
      to: task.state,
      attempts: task.attempts,
      ...(task.claim ? { agent: task.claim.agent, lease } : {}),
      reason: said ? `the journal said ${said.state}, attempts ${said.attempts}; the task file says ${task.state}, attempts ${task.attempts}` : 'the journal had no record of this task',
    });
  }
  return fixes;
}
