import * as z from 'zod/mini';
import { checkCommandSchema, estimateSchema, roleSchema, scopeEntrySchema, taskFieldsShape, taskIdSchema } from '../store/task-schema.ts';

// A plan file shares its field shapes with task files (src/store/task-schema.ts), so a task that
// checks in a plan is a task the store accepts.

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
