import type { Task, TaskInput } from '../backend.ts';
import { normalizeTaskInputs } from '../task-schema.ts';
import type { ProposedUpdate } from './compare-and-swap.ts';
import type { GitRemoteStore } from './git-remote-store.ts';

/** A batch of new tasks goes out in pushes of at most this many refs (a command line has a limit). */
const ADD_CHUNK = 1000;

/**
 * Adds tasks as refs that must not exist yet: each chunk lands whole (one atomic push of
 * creations) or not at all, and a concurrent add of the same id loses the compare-and-swap.
 */
export async function addTasks(store: GitRemoteStore, inputs: readonly TaskInput[]): Promise<Task[]> {
  const ids = new Set(inputs.map((input) => input.id));
  const added: Task[] = [];
  for (let start = 0; start < inputs.length || start === 0; start += ADD_CHUNK) {
    const chunk = inputs.slice(start, start + ADD_CHUNK);
    added.push(...await store.cas.run<Task[]>({ what: `add of ${chunk.length} task(s)`, fetchFirst: start === 0 }, async ({ snapshot }) => {
      const inChunk = new Set(chunk.map((input) => input.id));
      const elsewhere = [...ids].filter((id) => !inChunk.has(id) && !snapshot.tasks.has(id));
      const prepared = normalizeTaskInputs(chunk, new Set([...snapshot.tasks.keys(), ...elsewhere]), store.description);
      const built = prepared.map(({ id, frontmatter, body }) => ({ id, ...store.writer().build({ state: 'available', event: 'add', subject: `add ${id}: ${String(frontmatter.title)}`, frontmatter, body }, undefined) }));
      const updates: ProposedUpdate[] = built.map((item) => ({ ref: store.layout.remoteRef(store.layout.taskName(item.id)), to: item.commit, was: null }));
      if (!snapshot.meta) updates.push(store.metaUpdate());
      if (updates.length === 0) return { done: [] };
      return { updates, atomic: true, result: () => built.map((item) => store.builtTask({ id: item.id, commit: item.commit, tree: item.tree, record: item.record }, item)) };
    }));
    if (inputs.length === 0) break;
  }
  return added;
}
