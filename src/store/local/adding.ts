import { join } from 'node:path';
import { CliError } from '../../errors.ts';
import { createFileWhole, tempName, writeFailure } from '../../fs/atomic-write.ts';
import { isMissing } from '../../fs/fs-port.ts';
import { TASK_STATES, type Task, type TaskInput } from '../backend.ts';
import { parseTaskText, serializeTask } from '../task-file.ts';
import { normalizeTaskInputs } from '../task-schema.ts';
import type { StoreFolder } from './folder.ts';
import type { NewEvent } from './journal.ts';
import { parseMoveFileName, taskFileName } from './names.ts';

/**
 * Adds tasks to available/. Each appears whole by one link of a fully written (and fsynced) temp
 * file, never over an existing one: a concurrent add of the same id loses with E_EXISTS. A failed
 * journal line takes the task back out, so the command fails with nothing changed.
 */
export function addTasks(folder: StoreFolder, inputs: readonly TaskInput[], journal: (event: NewEvent) => void): Task[] {
  const { fs } = folder;
  const existing = new Set(folder.listAll().tasks.map((task) => task.id));
  // A task in the middle of a move is filed under a hidden name only: it exists all the same.
  for (const state of TASK_STATES) {
    for (const entry of folder.names(state)) {
      const move = parseMoveFileName(entry.name);
      if (move) existing.add(move.id);
    }
  }
  const added: Task[] = [];
  for (const { id, frontmatter, body } of normalizeTaskInputs(inputs, existing, folder.dir)) {
    const text = serializeTask(frontmatter, body);
    const path = join(folder.stateDir('available'), taskFileName(id));
    const tmp = join(folder.stateDir('available'), tempName(path));
    createFileWhole(fs, tmp, text, { fsync: true });
    // Nobody else touches our temp file: its inode names our copy wherever a claim moves it.
    const ours = fs.statSync(tmp).ino;
    try {
      fs.linkSync(tmp, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new CliError('E_EXISTS', `task "${id}" already exists in ${folder.dir}; choose another id`);
      throw writeFailure(error, path);
    } finally {
      try { fs.unlinkSync(tmp); } catch { /* gone */ }
    }
    refuseSecondCopy(folder, id, path, ours);
    try {
      journal({ event: 'add', task: id, to: 'available', attempts: 0 });
    } catch (error) {
      try { fs.unlinkSync(path); } catch { /* claimed already: the journal catches up at the next recover */ }
      throw error;
    }
    added.push(folder.toTask(parseTaskText(text, path), { state: 'available', path, name: taskFileName(id) }));
  }
  return added;
}

/**
 * Another add of the same id that listed the store before this one may have filed it first and
 * seen it claimed out of available/ since, which lets this link succeed: a second copy. Copies
 * are told apart by inode: a claim renames the file add linked, and so does the ownership rename
 * of a move (whose moving file stands for the copy being installed in its folder); only new
 * content (a finished move) gets a new inode. Ours found, any other is a second copy; ours gone
 * (moved on with new content), one other copy is ours and two are a duplicate.
 */
function refuseSecondCopy(folder: StoreFolder, id: string, path: string, ours: number): void {
  const { fs } = folder;
  const inodeOf = (file: string): number | undefined => {
    try { return fs.statSync(file).ino; } catch (error) { if (isMissing(error)) return undefined; throw error; }
  };
  const copies = new Map<string, number | undefined>();
  for (const where of folder.locate(id)) copies.set(where.state === 'claimed' ? where.path : where.state, inodeOf(where.path));
  for (const state of TASK_STATES) {
    for (const entry of folder.names(state)) {
      const move = parseMoveFileName(entry.name);
      if (move?.kind === 'moving' && move.id === id) copies.set(state, inodeOf(join(folder.stateDir(state), entry.name)));
    }
  }
  const inodes = [...copies.values()].filter((ino) => ino !== undefined);
  const others = inodes.filter((ino) => ino !== ours).length;
  if (inodes.includes(ours) ? others === 0 : others <= 1) return;
  // Still ours at the name: take it back. A claimer that took it meanwhile gives it back, and status names both.
  if (inodeOf(path) === ours) {
    try { fs.unlinkSync(path); } catch { /* taken meanwhile */ }
  }
  throw new CliError('E_EXISTS', `task "${id}" already exists in ${folder.dir} (added by another process meanwhile); choose another id`);
}
