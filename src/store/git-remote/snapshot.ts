import { runGitAsync } from '../../repo/run-git.ts';
import { TASK_ID_PATTERN } from '../task-schema.ts';
import { parseTaskText, type ParsedTask } from '../task-file.ts';
import { META, TASKS, VERIFY_LOCK, type RefLayout } from './layout.ts';
import { parseRecord, type TaskRecord } from './records.ts';

// Reading this clone's cache of the store: one `for-each-ref` lists every task's commit, tree and
// record; one `cat-file --batch` reads the task files not read before (kept by tree id, which
// changes whenever the file does). A ref we cannot read becomes a problem naming it, never a crash.

export interface TaskEntry {
  id: string;
  /** The commit the ref names now: the value every transition's compare-and-swap starts from. */
  commit: string;
  tree: string;
  record: TaskRecord | undefined;
}

export interface Snapshot {
  tasks: Map<string, TaskEntry>;
  meta: string | undefined;
  verifyLock: { commit: string; body: string } | undefined;
  /** Refs under the namespace that are not ours to read (foreign names). */
  foreign: string[];
}

const FORMAT = '%(refname)%00%(objectname)%00%(tree)%00%(contents:body)%00';

export async function readSnapshot(repoRoot: string, layout: RefLayout): Promise<Snapshot> {
  const out = (await runGitAsync(['for-each-ref', `--format=${FORMAT}`, layout.cachePrefix], { cwd: repoRoot })).stdout;
  const snapshot: Snapshot = { tasks: new Map(), meta: undefined, verifyLock: undefined, foreign: [] };
  const fields = out.split('\0');
  // Each record is 4 NUL-terminated fields followed by the newline for-each-ref adds.
  for (let i = 0; i + 3 < fields.length; i += 4) {
    const ref = fields[i]!.replace(/^\n/, '');
    const commit = fields[i + 1]!;
    const tree = fields[i + 2]!;
    const body = fields[i + 3]!;
    const name = ref.slice(layout.cachePrefix.length);
    if (name === META) snapshot.meta = commit;
    else if (name === VERIFY_LOCK) snapshot.verifyLock = { commit, body };
    else if (name.startsWith(TASKS) && TASK_ID_PATTERN.test(name.slice(TASKS.length)) && tree !== '') {
      const id = name.slice(TASKS.length);
      snapshot.tasks.set(id, { id, commit, tree, record: parseRecord(body) });
    } else snapshot.foreign.push(ref);
  }
  return snapshot;
}

export type ReadTask = ParsedTask | { problem: string };

/** Parses task.md of each tree, reading only the trees `cache` does not hold yet. */
export async function readTaskFiles(repoRoot: string, trees: readonly string[], cache: Map<string, ReadTask>, label: (tree: string) => string): Promise<void> {
  const wanted = [...new Set(trees.filter((tree) => !cache.has(tree)))];
  if (wanted.length === 0) return;
  const out = (await runGitAsync(['cat-file', '--batch'], { cwd: repoRoot, input: wanted.map((tree) => `${tree}:task.md\n`).join(''), stdoutEncoding: 'latin1' })).stdout;
  let pos = 0;
  for (const tree of wanted) {
    const headerEnd = out.indexOf('\n', pos);
    const header = out.slice(pos, headerEnd);
    pos = headerEnd + 1;
    const match = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
    if (!match) {
      cache.set(tree, { problem: `${label(tree)}: its tree holds no task.md; the ref was not written by parallel-agents` });
      continue;
    }
    const size = Number(match[2]);
    const text = Buffer.from(out.slice(pos, pos + size), 'latin1').toString('utf8');
    pos += size + 1;
    if (match[1] !== 'blob') {
      cache.set(tree, { problem: `${label(tree)}: task.md is a ${match[1]}, not a file` });
      continue;
    }
    try {
      cache.set(tree, parseTaskText(text, label(tree)));
    } catch (error) {
      cache.set(tree, { problem: (error as Error).message });
    }
  }
}
