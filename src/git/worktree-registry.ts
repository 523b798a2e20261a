import { readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import * as z from 'zod/mini';
import { CliError } from '../errors.ts';
import { writeFileAtomic } from '../fs/atomic-write.ts';
import { describeIssues, taskIdSchema, validateTaskId } from '../store/task-schema.ts';

// Which worktree and branch belong to which task. One JSON file per task beside the task store
// (<store>/worktrees/<id>.json), so concurrent agents never rewrite a shared file and the task view
// can join them by id.

export const WORKTREE_RECORDS_DIR = 'worktrees';

const worktreeRecordSchema = z.object({
  task: taskIdSchema,
  path: z.string().check(z.refine((path) => isAbsolute(path), 'must be an absolute path')),
  branch: z.string().check(z.minLength(1)),
  /** Commit the branch started from. */
  base: z.string().check(z.regex(/^[0-9a-f]{40,64}$/)),
  /** What the user asked for (--base), for display. */
  base_ref: z.string(),
  created_at: z.string(),
  /** Cone folders of a sparse checkout. */
  sparse: z._default(z.array(z.string()), []),
  /** Records written before scoped checkouts existed were sparse exactly when they list folders. */
  checkout: z.optional(z.enum(['full', 'sparse'])),
  /** The worktree's own ports (PARALLEL_PORT, PARALLEL_PORT_COUNT), when the project declares ports. */
  ports: z.optional(z.object({ from: z.int(), count: z.int() })),
  /** What made it ready: files copied from .worktreeinclude, the set-up command and its time. */
  prepared: z.optional(z.object({
    copied: z.int(),
    skipped: z.optional(z.array(z.object({ path: z.string(), reason: z.string() }))),
    setup: z.optional(z.string()),
    setup_ms: z.optional(z.number()),
  })),
});

export type WorktreeRecord = z.infer<typeof worktreeRecordSchema>;

export function recordsDir(storeDir: string): string {
  return join(storeDir, WORKTREE_RECORDS_DIR);
}

function recordFile(storeDir: string, taskId: string): string {
  validateTaskId(taskId);
  return join(recordsDir(storeDir), `${taskId}.json`);
}

export function readWorktreeRecord(storeDir: string, taskId: string): WorktreeRecord | undefined {
  const file = recordFile(storeDir, taskId);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return parseRecord(file, text);
}

function parseRecord(file: string, text: string): WorktreeRecord {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new CliError('E_INVALID', `${file} is not valid JSON; delete it and run "parallel-agents worktree prune"`);
  }
  const parsed = worktreeRecordSchema.safeParse(raw);
  if (!parsed.success) {
    throw new CliError('E_INVALID', `${file}: ${describeIssues(parsed.error)}; delete it and run "parallel-agents worktree prune"`);
  }
  return { ...parsed.data, checkout: parsed.data.checkout ?? (parsed.data.sparse.length > 0 ? 'sparse' : 'full') };
}

export function writeWorktreeRecord(storeDir: string, record: WorktreeRecord): void {
  writeFileAtomic(recordFile(storeDir, record.task), `${JSON.stringify(record, null, 2)}\n`);
}

export function deleteWorktreeRecord(storeDir: string, taskId: string): void {
  try {
    unlinkSync(recordFile(storeDir, taskId));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Every record, sorted by task id; unreadable files are reported, not fatal. */
export function listWorktreeRecords(storeDir: string): { records: WorktreeRecord[]; problems: { file: string; message: string }[] } {
  const dir = recordsDir(storeDir);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], problems: [] };
    throw error;
  }
  const records: WorktreeRecord[] = [];
  const problems: { file: string; message: string }[] = [];
  for (const name of names.sort()) {
    if (!name.endsWith('.json') || name.startsWith('.')) continue;
    const file = join(dir, name);
    try {
      records.push(parseRecord(file, readFileSync(file, 'utf8')));
    } catch (error) {
      problems.push({ file, message: (error as Error).message });
    }
  }
  return { records, problems };
}
