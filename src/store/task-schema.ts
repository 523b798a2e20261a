import * as z from 'zod/mini';
import { CliError } from '../errors.ts';
import { scopeEntryMessage, scopeEntryProblem } from '../scope/scope-entry.ts';
import type { TaskInput } from './backend.ts';

// zod/mini, not full zod: the full build adds tens of milliseconds to every CLI start (bench/RESULTS.md, CLI latency).

/**
 * A task id names its branch `parallel/<id>` and its refs, so it must be a ref component git
 * accepts (git check-ref-format): the character set already excludes "/", "@", "~", "^", ":",
 * "?", "*", "[", "\\", spaces and control characters, and the first character a leading ".";
 * the lookaheads refuse the rest: "..", a trailing "." and a trailing ".lock".
 */
export const TASK_ID_PATTERN = /^(?!.*\.\.)(?!.*\.(?:lock)?$)[a-z0-9][a-z0-9._-]{0,63}$/;
/** The id rule in words, for every message that refuses an id. */
export const TASK_ID_RULE = 'lowercase letters, digits, ".", "_", "-", at most 64, starting with a letter or digit; no "/" or "..", not ending in "." or ".lock"';
/** Agent and role names: like ids, but a `~` would break the claimed-file name. */
export const AGENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export const taskIdSchema = z.string().check(z.regex(TASK_ID_PATTERN, `must be an id git can name a branch after: ${TASK_ID_RULE}`));
export const roleSchema = z.string().check(z.regex(AGENT_NAME_PATTERN, 'must be a name like backend-developer (letters, digits, ".", "_", ":", "-")'));

/**
 * A write or read scope entry: a repo-relative path or glob that cannot climb out of the repo.
 * src/scope/scope-entry.ts holds the rules, so `add`, plan files and task files on disk all
 * accept and word the same entries.
 */
export const scopeEntrySchema = z.string().check(
  z.refine((entry) => scopeEntryProblem(entry) === undefined, { error: (issue) => scopeEntryMessage(String(issue.input)) ?? 'is not a valid scope entry' }),
);
export const scopeListSchema = z.array(scopeEntrySchema);

const ESTIMATE_PATTERN = /^\d+(\.\d+)?(ms|s|m|h)$/;
export const estimateSchema = z.string().check(z.regex(ESTIMATE_PATTERN, 'must be a duration such as 90s, 20m or 1.5h'));
/** The task's check: a shell command the plan's author wrote (never task text), run by `parallel-agents check`. */
export const checkCommandSchema = z.string().check(z.refine((text) => text.trim().length > 0, 'must be a shell command such as "npm test" (not empty)'));

/** A whole number whose type error states the allowed range, so 1e400 (Infinity) or "2" is told what to write. */
function wholeNumber(range: string) {
  return z.int({ error: (issue) => (issue.input === undefined ? undefined : `must be a whole number ${range} (got ${kindOf(issue.input)})`) });
}

/** Fields a person or a plan writes. The same shapes back plan files (src/plan). */
export const taskFieldsShape = {
  id: taskIdSchema,
  title: z.string().check(z.minLength(1, 'must not be empty')),
  role: z.optional(roleSchema),
  files: z._default(scopeListSchema, []),
  reads: z._default(scopeListSchema, []),
  depends_on: z._default(z.array(taskIdSchema), []),
  max_attempts: z._default(wholeNumber('from 1 to 100').check(z.gte(1, 'must be at least 1'), z.lte(100, 'must be at most 100')), 2),
  estimate: z.optional(estimateSchema),
  check: z.optional(checkCommandSchema),
  plan: z.optional(z.string()),
};

/** Frontmatter of a task file: the fields above plus what the protocol records. */
export const taskFrontmatterSchema = z.looseObject({
  ...taskFieldsShape,
  attempts: z._default(wholeNumber('of 0 or more').check(z.gte(0, 'must be 0 or more')), 0),
  commit: z.optional(z.string()),
  summary: z.optional(z.string()),
  completed_by: z.optional(z.string()),
  completed_at: z.optional(z.string()),
  completed_proof: z.optional(z.string()),
  last_error: z.optional(z.string()),
});

export type TaskFrontmatter = z.infer<typeof taskFrontmatterSchema>;

const OPTIONAL_TEXT_FIELDS = ['plan', 'commit', 'summary', 'completed_by', 'completed_at', 'completed_proof', 'last_error'] as const;

function isScopeList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((entry) => typeof entry === 'string' && scopeEntryProblem(entry) === undefined);
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

/**
 * Accepts exactly what taskFrontmatterSchema accepts in the common case, without running zod
 * (about a third of a 200-task `status`). Returns undefined whenever it is not sure; the caller
 * then runs the schema, which also words the error. tests/store/task-schema.test.ts holds the two
 * to the same answers.
 */
export function quickParseFrontmatter(data: Record<string, unknown>): TaskFrontmatter | undefined {
  const { id, title, role, estimate, check } = data;
  if (typeof id !== 'string' || !TASK_ID_PATTERN.test(id)) return undefined;
  if (typeof title !== 'string' || title.length === 0) return undefined;
  if (role !== undefined && !(typeof role === 'string' && AGENT_NAME_PATTERN.test(role))) return undefined;
  if (estimate !== undefined && !(typeof estimate === 'string' && ESTIMATE_PATTERN.test(estimate))) return undefined;
  if (check !== undefined && !(typeof check === 'string' && check.trim().length > 0)) return undefined;
  // `=== undefined`, not `??`: the schema defaults only missing fields and rejects null.
  const files = data.files === undefined ? [] : data.files;
  const reads = data.reads === undefined ? [] : data.reads;
  const dependsOn = data.depends_on === undefined ? [] : data.depends_on;
  const maxAttempts = data.max_attempts === undefined ? 2 : data.max_attempts;
  const attempts = data.attempts === undefined ? 0 : data.attempts;
  if (!isScopeList(files) || !isScopeList(reads)) return undefined;
  if (!Array.isArray(dependsOn) || !dependsOn.every((dep) => typeof dep === 'string' && TASK_ID_PATTERN.test(dep))) return undefined;
  if (!isIntegerIn(maxAttempts, 1, 100) || !isIntegerIn(attempts, 0, Number.MAX_SAFE_INTEGER)) return undefined;
  for (const field of OPTIONAL_TEXT_FIELDS) {
    if (data[field] !== undefined && typeof data[field] !== 'string') return undefined;
  }
  return { ...data, id, title, files, reads, depends_on: dependsOn, max_attempts: maxAttempts, attempts } as TaskFrontmatter;
}

const KIND_NAMES: Record<string, string> = {
  string: 'text', number: 'a number', int: 'a whole number', boolean: 'true or false', array: 'a list', object: 'a mapping',
};

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  // YAML and JSON read 1e400 as Infinity; "got a number" would contradict "must be a number".
  if (typeof value === 'number' && !Number.isFinite(value)) return Number.isNaN(value) ? 'not-a-number' : value > 0 ? 'infinity' : 'minus infinity';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number' && Number.isInteger(value)) return 'a whole number';
  if (typeof value === 'number') return String(value);
  return KIND_NAMES[typeof value] ?? typeof value;
}

/**
 * zod's own words for a missing or mistyped field are "Invalid input". Every schema here words
 * its rules itself; this words the rest, for plans, task files and every other file checked with
 * zod: a missing field says it is required, a mistyped one says what it must be.
 */
export function wordIssue(issue: { code: string; expected?: string; input?: unknown }): string | undefined {
  if (issue.code !== 'invalid_type') return undefined;
  const wanted = KIND_NAMES[issue.expected ?? ''] ?? issue.expected ?? 'something else';
  return issue.input === undefined ? `is required; add it (${wanted})` : `must be ${wanted} (got ${kindOf(issue.input)})`;
}
z.config({ customError: wordIssue });

/** Flattens zod issues into the one-line "<field>: <message>" form every error uses. */
export function describeIssues(error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> }): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

export function validateTaskId(id: string, where = 'task id'): string {
  if (!TASK_ID_PATTERN.test(id)) {
    throw new CliError('E_INVALID', `${where} ${JSON.stringify(id)} is invalid: use ${TASK_ID_RULE} (git names the task's branch after it)`);
  }
  return id;
}

export function validateAgentName(name: string, flag = '--agent'): string {
  if (!AGENT_NAME_PATTERN.test(name)) {
    throw new CliError('E_INVALID', `${flag} "${name}" is invalid: use letters, digits, ".", "_", ":" and "-" (at most 64, no "~" or "/")`);
  }
  return name;
}

export interface NormalizedTask {
  id: string;
  frontmatter: Record<string, unknown>;
  body: string;
}

/**
 * Validates tasks to add, for every backend: ids unique and new, fields valid, dependencies naming
 * tasks that exist or come in the same batch. `where` names the store in messages.
 */
export function normalizeTaskInputs(inputs: readonly TaskInput[], existing: ReadonlySet<string>, where: string): NormalizedTask[] {
  const batch = new Set<string>();
  for (const input of inputs) {
    validateTaskId(input.id);
    if (batch.has(input.id)) throw new CliError('E_DUPLICATE_ID', `task id "${input.id}" appears twice; ids must be unique`);
    batch.add(input.id);
  }
  return inputs.map((input) => {
    if (existing.has(input.id)) throw new CliError('E_EXISTS', `task "${input.id}" already exists in ${where}; choose another id`);
    const candidate = {
      id: input.id,
      title: input.title,
      role: input.role,
      plan: input.plan,
      files: input.files ?? [],
      reads: input.reads ?? [],
      depends_on: input.depends_on ?? [],
      estimate: input.estimate,
      check: input.check,
      attempts: 0,
      max_attempts: input.max_attempts ?? 2,
    };
    const result = taskFrontmatterSchema.safeParse(candidate);
    if (!result.success) throw new CliError('E_INVALID', `task "${input.id}": ${describeIssues(result.error)}`);
    const frontmatter = result.data as Record<string, unknown>;
    for (const key of Object.keys(frontmatter)) if (frontmatter[key] === undefined) delete frontmatter[key];
    for (const dep of frontmatter.depends_on as string[]) {
      if (dep === input.id) throw new CliError('E_CYCLE', `task "${input.id}": depends_on names the task itself`);
      if (!existing.has(dep) && !batch.has(dep)) throw new CliError('E_UNKNOWN_DEP', `task "${input.id}": depends_on: "${dep}" names no task; add it first or fix the id`);
    }
    return { id: input.id, frontmatter, body: input.body ?? '' };
  });
}
