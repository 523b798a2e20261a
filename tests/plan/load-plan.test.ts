import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/errors.ts';
import { checkPlan } from '../../src/plan/check-plan.ts';
import { parsePlanText } from '../../src/plan/load-plan.ts';

async function failure(text: string, source: string): Promise<{ code: string; message: string }> {
  try {
    await parsePlanText(text, source);
  } catch (error) {
    if (error instanceof CliError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a CliError');
}

describe('parsePlanText', () => {
  it('fills the defaults a task file has', async () => {
    const plan = await parsePlanText('name: p\nbase: main\ntasks:\n  - {id: a, title: A, files: [a.ts], prompt: do it}\n', 'p.yaml');
    expect(plan).toStrictEqual({
      name: 'p',
      base: 'main',
      source: 'p.yaml',
      tasks: [{ id: 'a', title: 'A', files: ['a.ts'], reads: [], depends_on: [], prompt: 'do it', max_attempts: 2 }],
    });
  });

  it.each([
    ['JSON without a position in the engine message', 'p.json', '{\n  "name": "p",\n  "tasks": [1,\n  ]\n}\n', 'p.json:4:3: malformed JSON: Unexpected token \']\'; fix the file and run plan check again'],
    ['JSON cut short', 'p.json', '{\n  "name": "p",\n  "tasks": [\n', 'p.json:3:13: malformed JSON: Unexpected end of JSON input; fix the file and run plan check again'],
    ['YAML with a duplicate key', 'p.yml', 'name: p\nname: q\ntasks: []\n', 'p.yml:2:1: malformed YAML: duplicated mapping key; fix the file and run plan check again'],
    ['an empty file', 'p.yaml', '', 'p.yaml: a plan must be a mapping with name and tasks (got an empty file)'],
    ['a list at the top', 'p.yaml', '- a\n- b\n', 'p.yaml: a plan must be a mapping with name and tasks (got a list)'],
    ['an unknown top-level field', 'p.yaml', 'name: p\nowner: me\ntasks:\n  - {id: a, title: A, files: [a.ts], prompt: x}\n', 'p.yaml: invalid plan: (root): unknown field owner (expected name, base, check, tasks)'],
    ['a bad estimate and a bad id', 'p.yaml', 'name: p\ntasks:\n  - {id: A, title: A, files: [a.ts], estimate: soon, prompt: x}\n', 'p.yaml: invalid plan: tasks[0] (A).id: must be an id git can name a branch after: lowercase letters, digits, ".", "_", "-", at most 64, starting with a letter or digit; no "/" or "..", not ending in "." or ".lock"; tasks[0] (A).estimate: must be a duration such as 90s, 20m or 1.5h'],
    ['no tasks', 'p.yaml', 'name: p\ntasks: []\n', 'p.yaml: invalid plan: tasks: must list at least one task'],
    ['missing fields, named with the fix', 'p.yaml', 'tasks:\n  - {id: a, files: [a.ts]}\n', 'p.yaml: invalid plan: name: is required; add it (text); tasks[0] (a).title: is required; add it (text); tasks[0] (a).prompt: is required; add it (text)'],
    ['mistyped fields, named with what they must be', 'p.json', '{"name": "p", "tasks": [{"id": "a", "title": 7, "files": "a.ts", "prompt": "x", "max_attempts": null}]}', 'p.json: invalid plan: tasks[0] (a).title: must be text (got a whole number); tasks[0] (a).files: must be a list (got text); tasks[0] (a).max_attempts: must be a whole number from 1 to 100 (got null)'],
    ['an id git cannot name a branch after', 'p.yaml', 'name: p\ntasks:\n  - {id: a..b, title: A, files: [a.ts], prompt: x}\n', 'p.yaml: invalid plan: tasks[0] (a..b).id: must be an id git can name a branch after: lowercase letters, digits, ".", "_", "-", at most 64, starting with a letter or digit; no "/" or "..", not ending in "." or ".lock"'],
    ['max_attempts too large for a number', 'p.yaml', 'name: p\ntasks:\n  - {id: a, title: A, files: [a.ts], prompt: x, max_attempts: 1e400}\n', 'p.yaml: invalid plan: tasks[0] (a).max_attempts: must be a whole number from 1 to 100 (got infinity)'],
    ['JSON with a duplicate key, named with its place', 'p.json', '{"name": "p", "tasks": [{"id": "a", "title": "A", "files": ["a"], "prompt": "p"}],\n "tasks": []}', 'p.json:2:2: malformed JSON: duplicated key "tasks"; keep one and run plan check again'],
    ['JSON with a duplicate key in a task', 'p.json', '{"name": "p", "tasks": [{"id": "a", "title": "A", "files": ["a"], "prompt": "p", "id": "b"}]}', 'p.json:1:82: malformed JSON: duplicated key "id"; keep one and run plan check again'],
  ])('%s', async (_name, source, text, message) => {
    expect(await failure(text, source)).toStrictEqual({ code: 'E_INVALID', message });
  });
});

describe('checkPlan on a plan built in code', () => {
  it('reports an invalid scope as one line instead of crashing', () => {
    const plan = { name: 'p', tasks: [{ id: 'a', title: 'A', files: ['src/{a,b'], reads: [], depends_on: [], prompt: 'x', max_attempts: 2 }] };
    expect(() => checkPlan(plan)).toThrow(new CliError('E_INVALID', 'plan: task "a": scope entry "src/{a,b" has a "{" without its "}": close it within the same folder (alternatives cannot span "/")'));
  });
});
