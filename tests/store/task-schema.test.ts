import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/errors.ts';
import { parseTaskText } from '../../src/store/task-file.ts';
import { quickParseFrontmatter, taskFrontmatterSchema } from '../../src/store/task-schema.ts';

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
      new CliError('E_INVALID', `${file}: files: must be a list (got text); max_attempts: must be a number (got text)`),
    );
  });
});
