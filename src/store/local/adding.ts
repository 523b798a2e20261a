import { join } from 'node:path';
import { CliError } from '../../errors.ts';
import { createFileWhole, tempName } from '../../fs/atomic-write.ts';
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
    try {
      fs.linkSync(tmp, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new CliError('E_EXISTS', `task "${id}" already exists in ${folder.dir}; choose another id`);
      throw error;
    } finally {
      try { fs.unlinkSync(tmp); } catch { /* gone */ }
    }
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
