// The tasks one agent name holds right now, read from claimed/ file names (the claim's whole record
// is its name), so a hook parses only the held tasks and never the whole store.
import { readdirSync } from 'node:fs';
import { parseClaimFileName } from '../store/claim-name.ts';
import type { TaskStore } from '../store/task-store.ts';
import type { Task } from '../store/types.ts';

export function heldTasks(store: TaskStore, agent: string): Task[] {
  let names: string[];
  try {
    names = readdirSync(store.stateDir('claimed'));
  } catch {
    return [];
  }
  const tasks: Task[] = [];
  for (const name of names.sort()) {
    const claim = parseClaimFileName(name);
    if (!claim || claim.agent !== agent) continue;
    const task = store.get(claim.id);
    if (task && task.state === 'claimed' && task.claim?.agent === agent) tasks.push(task);
  }
  return tasks;
}
