import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/errors.ts';
import { parseTaskText } from '../../src/store/task-file.ts';
import { quickParseFrontmatter, TASK_ID_PATTERN, taskFrontmatterSchema, validateTaskId } from '../../src/store/task-schema.ts';

// The quick check is an optimisation: it must never accept what the schema rejects, and must
// produce the same data when it accepts.
const base = { id: 'task-1', title: 'A task' };
const corpus: Record<string, unknown>[] = [
  base,
  { ...base, role: 'backend-developer', files: ['src/**', 'a.ts'], reads: ['b.ts'], depends_on: ['x', 'y.z'], max_attempts: 3, attempts: 1, estimate: '20m' },
  { ...base, commit: 'abc', summary: 's', completed_by: 'a', completed_at: '2026', last_error: 'e', plan: 'p', extra: { kept: true } },
  { ...base, id: 'Bad' },
  { ...base, id: 'a/b' },
  { ...base, id: '..' },
  { ...base, id: 'a..b' },
  { ...base, id: 'a.lock' },
  { ...base, id: 'x.' },
  { ...base, depends_on: ['a.lock'] },
  { ...base, id: 7 },
  { ...base, title: '' },
  { ...base, title: 3 },
  { id: 'no-title' },
  { ...base, role: 'a~b' },
  { ...base, role: 5 },
  { ...base, files: ['../up'] },
  { ...base, files: ['/abs'] },
  { ...base, files: ['C:/x'] },
  { ...base, files: ['a\\b'] },
  { ...base, files: [''] },
  { ...base, files: 'src/**' },
  { ...base, files: [3] },
  { ...base, reads: ['x/../../y'] },
  { ...base, depends_on: ['Bad Id'] },
  { ...base, depends_on: 'x' },
  { ...base, max_attempts: 0 },
  { ...base, max_attempts: 101 },
  { ...base, max_attempts: 1.5 },
  { ...base, max_attempts: '2' },
  { ...base, max_attempts: Infinity },
  { ...base, attempts: Number.NaN },
  { ...base, attempts: -1 },
  { ...base, attempts: 2.5 },
  { ...base, estimate: 'soon' },
  { ...base, estimate: 20 },
  { ...base, check: 'npm test -- --run' },
  { ...base, check: '' },
  { ...base, check: '   ' },
  { ...base, check: 3 },
  { ...base, commit: 123 },
  { ...base, summary: null },
  { ...base, files: null },
];

describe('quick frontmatter check agrees with the schema', () => {
  for (const data of corpus) {
    it(JSON.stringify(data), () => {
      const quick = quickParseFrontmatter(data);
      const schema = taskFrontmatterSchema.safeParse(data);
      if (quick) {
        expect(schema.success).toBe(true);
        expect(quick).toStrictEqual(schema.data);
      } else {
        // Declining is always safe (the schema decides); here it also declines only bad input,
        // except null optional fields, which the schema rejects too.
        expect(schema.success).toBe(false);
      }
    });
  }
});

describe('a task file with a missing or mistyped field', () => {
  it('names the field and what to write, not "Invalid input"', () => {
    const file = '_tasks/available/a.md';
    expect(() => parseTaskText('---\nid: a\n---\nDo it.\n', file)).toThrow(new CliError('E_INVALID', `${file}: title: is required; add it (text)`));
    expect(() => parseTaskText('---\nid: a\ntitle: A\nmax_attempts: "2"\nfiles: src/**\n---\n', file)).toThrow(
      new CliError('E_INVALID', `${file}: files: must be a list (got text); max_attempts: must be a whole number from 1 to 100 (got text)`),
    );
    expect(() => parseTaskText('---\nid: a\ntitle: A\nmax_attempts: 1e400\n---\n', file)).toThrow(
      new CliError('E_INVALID', `${file}: max_attempts: must be a whole number from 1 to 100 (got infinity)`),
    );
  });
});

describe('task ids name git branches', () => {
  // Every short id over the characters that matter, plus the ".lock" family: the id rule must
  // agree with git's own check of the branch parallel/<id>, so an id the store accepts never
  // fails later in `worktree add`.
  const chars = ['a', '.', '-', '_'];
  const ids = ['a.lock', 'a.lock.b', 'a.locks', 'alock', 'a-.lock', 'a..lock', 'lock', 'a'.repeat(64)];
  for (const first of ['a', '0']) for (const x of chars) for (const y of chars) ids.push(first + x, first + x + y);

  it('accepts exactly the ids git accepts as the branch parallel/<id>', () => {
    const verdicts = ids.map((id) => ({
      id,
      ours: TASK_ID_PATTERN.test(id),
      git: spawnSync('git', ['check-ref-format', `refs/heads/parallel/${id}`]).status === 0,
    }));
    expect(verdicts.filter((verdict) => verdict.ours !== verdict.git)).toEqual([]);
    expect(verdicts.filter((verdict) => !verdict.ours).map((verdict) => verdict.id)).toEqual(expect.arrayContaining(['a.lock', 'a..lock', 'a.', 'a..']));
  });

  it.each(['a..b', 'a.lock', 'x.'])('refuses %s in one line that states the whole rule', (id) => {
    expect(() => validateTaskId(id)).toThrow(new CliError('E_INVALID', `task id "${id}" is invalid: use lowercase letters, digits, ".", "_", "-", at most 64, starting with a letter or digit; no "/" or "..", not ending in "." or ".lock" (git names the task's branch after it)`));
  });

  it('keeps the ids in use valid', () => {
    for (const id of ['task-1', 'y.z', 'db-schema', 'a.locks', 'v1.2_x']) expect(validateTaskId(id)).toBe(id);
  });
});
