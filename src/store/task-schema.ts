import * as z from 'zod/mini';
import { CliError } from '../errors.ts';

// zod/mini, not full zod: the full build adds ~25 ms to every CLI start (MEASUREMENTS §1).

export const TASK_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Agent and role names: like ids, but a `~` would break the claimed-file name. */
export const AGENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

export const taskIdSchema = z.string().check(z.regex(TASK_ID_PATTERN, 'must match ^[a-z0-9][a-z0-9._-]{0,63}$ (lowercase letters, digits, ".", "_", "-"; no "/" or "..")'));
export const roleSchema = z.string().check(z.regex(AGENT_NAME_PATTERN, 'must be a name like backend-developer (letters, digits, ".", "_", ":", "-")'));

/** A write or read scope entry: a repo-relative path or glob that cannot climb out of the repo. */
export const scopeEntrySchema = z.string().check(
  z.minLength(1, 'must not be empty'),
  z.refine((entry) => !entry.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(entry), 'must be relative to the repository root, not absolute'),
  z.refine((entry) => !entry.split(/[\\/]/).includes('..'), 'must not contain ".." (scopes stay inside the repository)'),
  z.refine((entry) => !entry.includes('\\'), 'must use "/" as the separator'),
);
export const scopeListSchema = z.array(scopeEntrySchema);

export const estimateSchema = z.string().check(z.regex(/^\d+(\.\d+)?(ms|s|m|h)$/, 'must be a duration such as 90s, 20m or 1.5h'));

/** Fields a person or a plan writes. The same shapes back plan files (src/plan). */
export const taskFieldsShape = {
  id: taskIdSchema,
  title: z.string().check(z.minLength(1, 'must not be empty')),
  role: z.optional(roleSchema),
  files: z._default(scopeListSchema, []),
  reads: z._default(scopeListSchema, []),
  depends_on: z._default(z.array(taskIdSchema), []),
  max_attempts: z._default(z.int().check(z.gte(1, 'must be at least 1'), z.lte(100, 'must be at most 100')), 2),
  estimate: z.optional(estimateSchema),
  plan: z.optional(z.string()),
};

/** Frontmatter of a task file: the fields above plus what the protocol records. */
export const taskFrontmatterSchema = z.looseObject({
  ...taskFieldsShape,
  attempts: z._default(z.int().check(z.gte(0, 'must be 0 or more')), 0),
  commit: z.optional(z.string()),
  summary: z.optional(z.string()),
  completed_by: z.optional(z.string()),
  completed_at: z.optional(z.string()),
  last_error: z.optional(z.string()),
});

export type TaskFrontmatter = z.infer<typeof taskFrontmatterSchema>;

/** Flattens zod issues into the one-line "<field>: <message>" form every error uses. */
export function describeIssues(error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> }): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

export function validateTaskId(id: string, where = 'task id'): string {
  if (!TASK_ID_PATTERN.test(id)) {
    throw new CliError('E_INVALID', `${where} "${id}" is invalid: use lowercase letters, digits, ".", "_" and "-" (at most 64, no "/" or "..")`);
  }
  return id;
}

export function validateAgentName(name: string, flag = '--agent'): string {
  if (!AGENT_NAME_PATTERN.test(name)) {
    throw new CliError('E_INVALID', `${flag} "${name}" is invalid: use letters, digits, ".", "_", ":" and "-" (at most 64, no "~" or "/")`);
  }
  return name;
}
