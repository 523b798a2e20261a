import { join } from 'node:path';
import { CliError } from '../../errors.ts';
import { createFileWhole, parseTempName, writeFailure } from '../../fs/atomic-write.ts';
import { errorCode, isMissing } from '../../fs/fs-port.ts';
import { bootTimeMs, processLiveness } from '../../process/liveness.ts';
import { TASK_STATES, type TaskState } from '../backend.ts';
import { DEFAULT_LEASE_MS } from '../rules.ts';
import type { StoreFolder } from './folder.ts';
import { moveFileName, parseMoveFileName, parseWriterTag, taskFileName, writerTag, type MoveFileName } from './names.ts';

// Moving a task to its next state with new content, and finishing a move a crash cut short: the
// write half and its repair live together because each is correct only against the other.
//
// A move, in the destination folder:
//   1. the new content is written whole (and fsynced) as .pending~<id>~<lease>~<writer>.md;
//   2. the source (the claim) is renamed to .moving~<id>~<lease>~<writer>.md: exactly one of the
//      holder and a recoverer wins this rename, which is the ownership check, and from here the task
//      is hidden from every claimer;
//   3. the journal line is appended (a failure renames the source back: nothing changed), unless
//      <id>.md already exists there (a duplicate: refused, the source renamed back);
//   4. the pending content is renamed to <id>.md;
//   5. the moving file is deleted.
// Repair (writer dead): a moving file with its pending content is finished (step 4, then 5); a
// moving file without one was already installed and is only deleted, never put back, because the
// installed task may since have been claimed and moved on; pending content without a moving file
// never took ownership and is dropped; a dead writer's temp file is deleted.

export class MoveLost extends Error {
  constructor() {
    super('the source moved first');
    this.name = 'MoveLost';
  }
}

export interface MoveSpec {
  id: string;
  /** The file whose rename proves ownership: a claim, or a completed task being reopened. */
  source: string;
  /** Names this generation of the task; any string without "~". */
  lease: string;
  to: TaskState;
  content: string;
  /** Appended once ownership is proven; throwing rolls the move back. */
  record: () => void;
}

function duplicateError(dest: string, id: string): CliError {
  return new CliError('E_REFUSED', `${dest} already exists: task "${id}" is filed twice; keep one copy (parallel-agents status lists both) and retry`, { task: id, path: dest });
}

/** Runs the five steps; returns the installed path. Throws MoveLost when another process owns the source. */
export function moveTask(folder: StoreFolder, spec: MoveSpec): string {
  const { fs } = folder;
  const toDir = folder.stateDir(spec.to);
  const writer = writerTag();
  const pending = join(toDir, moveFileName('pending', spec.id, spec.lease, writer));
  const moving = join(toDir, moveFileName('moving', spec.id, spec.lease, writer));
  const dest = join(toDir, taskFileName(spec.id));
  createFileWhole(fs, pending, spec.content, { fsync: true });
  const dropPending = (): void => {
    try { fs.unlinkSync(pending); } catch { /* gone */ }
  };
  try {
    fs.renameSync(spec.source, moving);
  } catch (error) {
    dropPending();
    if (isMissing(error)) throw new MoveLost();
    throw writeFailure(error, spec.source);
  }
  const rollBack = (): void => {
    // Nobody else touches a live writer's moving file, so the source name is still free.
    try {
      fs.renameSync(moving, spec.source);
    } catch {
      // Kept with its pending content, so recover finishes the move once this process is gone:
      // a moving file alone would read as already installed and be deleted, losing the task.
      return;
    }
    dropPending();
  };
  // Refused before the journal line, so the journal never records a move that did not happen.
  if (fs.existsSync(dest)) {
    rollBack();
    throw duplicateError(dest, spec.id);
  }
  try {
    spec.record();
  } catch (error) {
    rollBack();
    throw error;
  }
  try {
    fs.renameSync(pending, dest);
  } catch (error) {
    rollBack();
    throw writeFailure(error, dest);
  }
  try { fs.unlinkSync(moving); } catch { /* a recoverer removed it */ }
  return dest;
}

/**
 * Whether the process named by a writer tag or temp name is certainly dead. One recorded in
 * another boot or pid namespace cannot be judged by its pid here: it is gone when its file was
 * last written before this machine booted (every process of that boot died with it), or has been
 * left unchanged for a whole lease (a writer takes milliseconds).
 */
function writerGone(folder: StoreFolder, path: string, writer: { pid: number; host: string } | undefined): boolean {
  if (writer === undefined) return false;
  const liveness = processLiveness({ pid: writer.pid, host: writer.host });
  if (liveness !== 'unknown') return liveness === 'gone';
  let stat;
  try {
    stat = folder.fs.statSync(path);
  } catch {
    return false;
  }
  const boot = bootTimeMs();
  return (boot !== undefined && stat.mtimeMs < boot) || Date.now() - Math.max(stat.mtimeMs, stat.ctimeMs) > DEFAULT_LEASE_MS;
}

/** Finishes or clears every move and write a dead process left behind; returns what it did. */
export function repairMoves(folder: StoreFolder, onRepaired: (state: TaskState, id: string, what: string) => void = () => {}): string[] {
  const { fs } = folder;
  const repaired: string[] = [];
  const ignoreGone = (path: string, action: () => void): void => {
    try { action(); } catch (error) { if (!isMissing(error)) throw writeFailure(error, path); }
  };
  for (const state of TASK_STATES) {
    const dir = folder.stateDir(state);
    const hidden = folder.names(state).map((entry) => entry.name).filter((name) => name.startsWith('.'));
    const moves = hidden.map((name) => ({ name, move: parseMoveFileName(name) })).filter((item): item is { name: string; move: MoveFileName } => item.move !== undefined);
    const key = (move: MoveFileName): string => `${move.id}~${move.lease}~${move.writer}`;
    const pendingKeys = new Set(moves.filter(({ move }) => move.kind === 'pending').map(({ move }) => key(move)));
    const movingKeys = new Set(moves.filter(({ move }) => move.kind === 'moving').map(({ move }) => key(move)));
    for (const { name, move } of moves) {
      const path = join(dir, name);
      if (!writerGone(folder, path, parseWriterTag(move.writer))) continue;
      if (move.kind === 'moving') {
        if (pendingKeys.has(key(move))) {
          const pending = join(dir, moveFileName('pending', move.id, move.lease, move.writer));
          const dest = join(dir, taskFileName(move.id));
          if (fs.existsSync(dest)) {
            // Installed by a concurrent repair (pending gone), or a real duplicate (pending kept).
            if (fs.existsSync(pending)) {
              repaired.push(`${state}/${move.id}: an interrupted move cannot finish: ${duplicateError(dest, move.id).message}`);
              continue;
            }
          } else {
            ignoreGone(dest, () => fs.renameSync(pending, dest));
            repaired.push(`${state}/${move.id}: finished an interrupted move`);
            onRepaired(state, move.id, 'finished an interrupted move');
          }
        }
        ignoreGone(path, () => fs.unlinkSync(path));
      } else if (!movingKeys.has(key(move))) {
        ignoreGone(path, () => fs.unlinkSync(path));
        repaired.push(`${state}/${move.id}: dropped the new content of a move that never took place`);
      }
    }
    for (const name of hidden) {
      if (!name.startsWith('.tmp~') || !writerGone(folder, join(dir, name), parseTempName(name))) continue;
      ignoreGone(join(dir, name), () => fs.unlinkSync(join(dir, name)));
      repaired.push(`${state}/${name}: removed a dead writer's temp file`);
    }
  }
  const top = folder.dir;
  for (const name of safeNames(folder, top)) {
    if (!name.startsWith('.tmp~') || !writerGone(folder, join(top, name), parseTempName(name))) continue;
    ignoreGone(join(top, name), () => fs.unlinkSync(join(top, name)));
    repaired.push(`${name}: removed a dead writer's temp file`);
  }
  return repaired;
}

function safeNames(folder: StoreFolder, dir: string): string[] {
  try {
    return folder.fs.readdirSync(dir) as string[];
  } catch (error) {
    if (isMissing(error) || errorCode(error) === 'EACCES') return [];
    throw error;
  }
}
