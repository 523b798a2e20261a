import { CliError } from '../../errors.ts';
import type { ReopenRequest, Task } from '../backend.ts';
import { afterReopen } from '../transitions.ts';
import type { Step, StepContext } from './compare-and-swap.ts';
import type { GitRemoteStore } from './git-remote-store.ts';

// A completed task whose work verify refused goes back to failed (or blocked), an attempt counted,
// only if it is still the completion verify judged: a child of that exact commit.

export async function reopenStep(store: GitRemoteStore, request: ReopenRequest, context: StepContext): Promise<Step<Task>> {
  const { snapshot } = context;
  store.requireStore(snapshot);
  const entry = snapshot.tasks.get(request.task);
  if (!entry || entry.record?.state !== 'completed') throw new CliError('E_REFUSED', `task "${request.task}" is not completed any more; nothing to reopen`);
  const parsed = await store.parsed(snapshot, entry);
  const fm = parsed.frontmatter;
  const { to, frontmatter } = afterReopen(fm, request);
  const built = store.writer().build({ from: entry, state: to, event: 'reopen', subject: `reopen ${request.task}: ${to} (attempt ${String(frontmatter.attempts)} of ${fm.max_attempts}): ${request.reason}`, frontmatter }, parsed);
  return { updates: [{ ref: store.layout.remoteRef(store.layout.taskName(entry.id)), to: built.commit, was: entry.commit }], atomic: true, result: () => store.builtTask(entry, built) };
}
