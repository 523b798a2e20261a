// `plan schema`: the JSON Schema editors get, generated from the zod schema the CLI checks plans
// with. A validator for the keywords it uses (and no other) holds the repository's example plans
// to it, and holds it to refusing what the CLI refuses.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoPlan } from '../../src/demo/sample-project.ts';
import { checkPlan } from '../../src/plan/check-plan.ts';
import { parsePlanText } from '../../src/plan/load-plan.ts';
import { PLAN_FIELDS, PLAN_TASK_FIELDS, planJsonSchema } from '../../src/plan/plan-schema.ts';
import { parseYaml } from '../../src/text/yaml.ts';
import { gitRepo } from '../helpers/git-repo.ts';
import { REPO_ROOT } from '../helpers/paths.ts';
import { runCli } from '../helpers/run-cli.ts';

type Schema = Record<string, any>;

const KEYWORDS = new Set(['$schema', 'title', 'description', 'default', 'type', 'properties', 'required', 'additionalProperties', 'items', 'pattern', 'minLength', 'minItems', 'minimum', 'maximum']);

function keywords(schema: Schema, found = new Set<string>()): Set<string> {
  for (const key of Object.keys(schema)) found.add(key);
  for (const child of Object.values(schema.properties ?? {})) keywords(child as Schema, found);
  if (schema.items) keywords(schema.items, found);
  return found;
}

function validate(schema: Schema, value: unknown, path = '(root)'): string[] {
  const errors: string[] = [];
  switch (schema.type) {
    case 'object': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${path}: not an object`];
      const object = value as Record<string, unknown>;
      for (const name of schema.required ?? []) if (!(name in object)) errors.push(`${path}.${name}: required`);
      for (const [name, child] of Object.entries(object)) {
        const property = schema.properties?.[name];
        if (property) errors.push(...validate(property, child, `${path}.${name}`));
        else if (schema.additionalProperties === false) errors.push(`${path}.${name}: not allowed`);
      }
      return errors;
    }
    case 'array':
      if (!Array.isArray(value)) return [`${path}: not an array`];
      if (schema.minItems !== undefined && value.length < schema.minItems) errors.push(`${path}: fewer than ${schema.minItems} items`);
      value.forEach((item, index) => errors.push(...validate(schema.items, item, `${path}[${index}]`)));
      return errors;
    case 'string':
      if (typeof value !== 'string') return [`${path}: not a string`];
      if (schema.minLength !== undefined && value.length < schema.minLength) errors.push(`${path}: too short`);
      if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) errors.push(`${path}: does not match ${schema.pattern}`);
      return errors;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return [`${path}: not an integer`];
      if (schema.minimum !== undefined && value < schema.minimum) errors.push(`${path}: below ${schema.minimum}`);
      if (schema.maximum !== undefined && value > schema.maximum) errors.push(`${path}: above ${schema.maximum}`);
      return errors;
    default:
      throw new Error(`${path}: the validator does not know type ${String(schema.type)}`);
  }
}

/** The first fenced block of `lang` after `heading` in a Markdown file, dedented. */
function exampleIn(file: string, heading: string, lang: string): string {
  const text = readFileSync(join(REPO_ROOT, file), 'utf8');
  const start = text.indexOf('```', text.indexOf(heading));
  const block = text.slice(start, text.indexOf('```', start + 3)).split('\n');
  expect(block[0]!.trim()).toBe(`\`\`\`${lang}`);
  const indent = /^\s*/.exec(block[0]!)![0].length;
  return block.slice(1).map((line) => line.slice(indent)).join('\n');
}

const schema: Schema = planJsonSchema();
const examples: [string, unknown][] = [
  ['README.md, Plan files', parseYaml(exampleIn('README.md', '## Plan files', 'yaml'), 'README.md', 'fix the example')],
  ['skills/parallel/SKILL.md', parseYaml(exampleIn('skills/parallel/SKILL.md', 'Write the plan to', 'yaml').replaceAll('<name>', 'goal'), 'SKILL.md', 'fix the example')],
  ['the demo plan', demoPlan()],
];

describe('plan schema', () => {
  it('uses only the keywords this test validates, and describes every field', () => {
    expect([...keywords(schema)].filter((keyword) => !KEYWORDS.has(keyword))).toEqual([]);
    const task = schema.properties.tasks.items;
    expect(Object.keys(schema.properties)).toEqual(Object.keys(PLAN_FIELDS));
    expect(Object.keys(task.properties)).toEqual(Object.keys(PLAN_TASK_FIELDS));
    for (const property of [...Object.values(schema.properties), ...Object.values(task.properties)] as Schema[]) expect(property.description).toMatch(/^\S.{10,}/);
    // Fields with a default may be left out of a file.
    expect(task.required).toEqual(['id', 'title', 'files', 'prompt']);
    expect(schema.required).toEqual(['name', 'tasks']);
  });

  it.each(examples)('accepts %s, as the CLI does', async (_where, plan) => {
    expect(validate(schema, plan)).toEqual([]);
    const parsed = await parsePlanText(JSON.stringify(plan), 'example.json');
    expect(checkPlan(parsed).tasks.map((task) => task.id)).toEqual((plan as { tasks: { id: string }[] }).tasks.map((task) => task.id));
  });

  const good = { name: 'p', tasks: [{ id: 'a', title: 'A', files: ['src/**'], prompt: 'do it' }] };
  const task = good.tasks[0]!;
  it.each([
    ['no name', { tasks: good.tasks }],
    ['a bad name', { ...good, name: 'My Plan' }],
    ['an unknown field', { ...good, owner: 'me' }],
    ['no tasks', { ...good, tasks: [] }],
    ['a task without a title', { ...good, tasks: [{ ...task, title: undefined }] }],
    ['a task with a numeric title', { ...good, tasks: [{ ...task, title: 3 }] }],
    ['a task with an empty title', { ...good, tasks: [{ ...task, title: '' }] }],
    ['a task without files', { ...good, tasks: [{ ...task, files: [] }] }],
    ['a task with a bad id', { ...good, tasks: [{ ...task, id: 'A/b' }] }],
    ['a task with a bad estimate', { ...good, tasks: [{ ...task, estimate: 'soon' }] }],
    ['a task with 0 attempts', { ...good, tasks: [{ ...task, max_attempts: 0 }] }],
    ['a task with 1.5 attempts', { ...good, tasks: [{ ...task, max_attempts: 1.5 }] }],
    ['a task with a misspelt field', { ...good, tasks: [{ ...task, dependson: ['b'] }] }],
  ])('refuses %s, as the CLI does', async (_what, plan) => {
    const data = JSON.parse(JSON.stringify(plan));
    expect(validate(schema, data).length).toBeGreaterThan(0);
    await expect(parsePlanText(JSON.stringify(data), 'bad.json')).rejects.toThrow(/^bad\.json: invalid plan: /);
  });

  it('parallel-agents plan schema prints it for a person, and with --json as one document', () => {
    const cwd = gitRepo();
    const text = runCli(['plan', 'schema'], { cwd });
    expect(text.exitCode).toBe(0);
    expect(JSON.parse(text.stdout)).toEqual(schema);
    expect(text.stdout).toContain('\n  "$schema": "https://json-schema.org/draft/2020-12/schema",\n');
    const json = runCli(['plan', 'schema', '--json'], { cwd });
    expect(json.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(json.json).toEqual(schema);
  });

  it("the README's plan reference lists every field, plan and task, in the schema's order", () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const fieldsOf = (header: string): string[] => {
      const start = readme.indexOf(header);
      return readme.slice(start, readme.indexOf('\n\n', start)).split('\n').slice(2).map((row) => /^\| `([a-z_]+)` \|/.exec(row)?.[1] ?? row);
    };
    expect(fieldsOf('| plan field |')).toEqual(Object.keys(PLAN_FIELDS));
    expect(fieldsOf('| task field |')).toEqual(Object.keys(PLAN_TASK_FIELDS));
  });
});
