import * as z from 'zod/mini';
import { checkCommandSchema, estimateSchema, roleSchema, scopeEntrySchema, taskFieldsShape, taskIdSchema } from '../store/task-schema.ts';

// A plan file shares its field shapes with task files (src/store/task-schema.ts), so a task that
// checks in a plan is a task the store accepts. The JSON Schema editors use (`plan schema`) is
// generated from these same shapes, with each field's one-line meaning from the tables below.

export const planTaskSchema = z.strictObject({
  id: taskIdSchema,
  title: taskFieldsShape.title,
  role: z.optional(roleSchema),
  files: z.array(scopeEntrySchema).check(z.minLength(1, 'must list at least one path or glob the task writes (its write scope)')),
  reads: z._default(z.array(scopeEntrySchema), []),
  depends_on: z._default(z.array(taskIdSchema), []),
  estimate: z.optional(estimateSchema),
  check: z.optional(checkCommandSchema),
  prompt: z.string().check(z.refine((text) => text.trim().length > 0, 'must say what the agent must do and how to check it')),
  max_attempts: taskFieldsShape.max_attempts,
});

export const planSchema = z.strictObject({
  name: z.string().check(z.regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be a name like notification-system (lowercase letters, digits, ".", "_", "-")')),
  base: z.optional(z.string().check(z.minLength(1, 'must name a branch or commit'))),
  /** The check of every task that names none of its own. */
  check: z.optional(checkCommandSchema),
  tasks: z.array(planTaskSchema).check(z.minLength(1, 'must list at least one task')),
});

export type PlanTask = z.infer<typeof planTaskSchema>;

export interface Plan extends z.infer<typeof planSchema> {
  /** Where the plan was read from, for messages; undefined for a plan built in memory. */
  source?: string | undefined;
}

type FieldHelp<T> = { readonly [K in keyof T]-?: string };

/** What each field of a plan means: the JSON Schema's descriptions, and the README's reference. */
export const PLAN_FIELDS: FieldHelp<z.infer<typeof planSchema>> = {
  name: 'the plan\'s name, recorded in each published task: lowercase letters, digits, ".", "_", "-" (at most 64)',
  base: 'the branch or commit `run` starts the tasks\' worktrees from (default: the branch it merges into)',
  check: 'the check of every task that names none: a shell command run in the task\'s worktree by `parallel-agents check`',
  tasks: 'the tasks, at least one; their order breaks ties when two tasks write the same files',
};

export const PLAN_TASK_FIELDS: FieldHelp<PlanTask> = {
  id: 'unique in the store: lowercase letters, digits, ".", "_", "-" (at most 64; no "..", not ending in "." or ".lock", since it names the task\'s git branch)',
  title: 'one line saying what the task does',
  role: 'the agent that works on it, e.g. backend-developer (default: none; a claim with --role skips it)',
  files: 'its write scope: repository paths or globs it may change, at least one',
  reads: 'paths or globs it only reads: a task writing them runs first',
  depends_on: 'ids of tasks that must be completed before it starts',
  estimate: 'how long it takes, such as 90s, 20m or 1.5h: weights the critical path and the agent count',
  check: 'a shell command that proves the task done, run in its worktree by `parallel-agents check` (default: the plan\'s check)',
  prompt: 'the agent\'s instructions: what to do and how to check it',
  max_attempts: 'attempts before the task is blocked for a person to look at, 1 to 100',
};

type JsonObject = Record<string, unknown> & { properties?: Record<string, JsonObject>; items?: JsonObject };

function describe(schema: JsonObject, fields: Record<string, string>): void {
  for (const [name, property] of Object.entries(schema.properties ?? {})) property.description = fields[name];
}

/**
 * The JSON Schema of a plan file, for editors (`parallel-agents plan schema`). Fields with a
 * default are optional in a file, so it describes the input. Scope entries and checks are also
 * refined in code (no `..`, not blank): the CLI's own check stays the authority.
 */
export function planJsonSchema(): JsonObject {
  const schema = z.toJSONSchema(planSchema, { io: 'input' }) as JsonObject;
  describe(schema, PLAN_FIELDS);
  describe(schema.properties!.tasks!.items!, PLAN_TASK_FIELDS);
  return { ...schema, title: 'parallel-agents plan', description: 'A plan for `parallel-agents plan check`, `plan publish` and `run` (YAML or JSON).' };
}
