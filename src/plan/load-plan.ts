import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { CliError } from '../errors.ts';
import { describeIssues } from '../store/task-schema.ts';
import { parseYaml } from '../text/yaml.ts';
import { planSchema, planTaskSchema, type Plan } from './plan-schema.ts';

function lineOfOffset(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lastBreak = before.lastIndexOf('\n');
  return { line: before.split('\n').length, column: before.length - lastBreak };
}

/** Whether JSON.parse fails on `text` for a reason other than running out of input. */
function failsBeforeEnd(text: string): boolean {
  try {
    JSON.parse(text);
    return false;
  } catch (error) {
    const message = (error as Error).message;
    if (/end of JSON input/.test(message)) return false;
    const position = /at position (\d+)/.exec(message);
    return !position || Number(position[1]) < text.length;
  }
}

/**
 * The offset and name of the first key that appears twice in one object of `text`, which
 * JSON.parse has accepted. JSON.parse keeps the last value silently (a second "tasks" would drop
 * the first list); YAML plans refuse the same mistake. A loop with its own stack, not recursion,
 * so nesting as deep as JSON.parse takes cannot overflow.
 */
export function firstDuplicateKey(text: string): { offset: number; key: string } | undefined {
  const objects: (Set<string> | undefined)[] = []; // one entry per open bracket; undefined for a list
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '{') {
      objects.push(new Set());
      expectKey = true;
    } else if (char === '[') objects.push(undefined);
    else if (char === '}' || char === ']') {
      objects.pop();
      expectKey = false;
    } else if (char === ',') expectKey = objects.at(-1) !== undefined;
    else if (char === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
      if (!expectKey) continue;
      expectKey = false;
      const key = JSON.parse(text.slice(start, i + 1)) as string;
      const keys = objects.at(-1)!;
      if (keys.has(key)) return { offset: start, key };
      keys.add(key);
    }
  }
  return undefined;
}

function parseJson(text: string, source: string): unknown {
  try {
    const data: unknown = JSON.parse(text);
    const duplicate = firstDuplicateKey(text);
    if (duplicate) {
      const where = lineOfOffset(text, duplicate.offset);
      throw new CliError('E_INVALID', `${source}:${where.line}:${where.column}: malformed JSON: duplicated key ${JSON.stringify(duplicate.key)}; keep one and run plan check again`);
    }
    return data;
  } catch (error) {
    if (error instanceof CliError) throw error;
    const message = (error as Error).message;
    const position = /at position (\d+)/.exec(message);
    let offset: number;
    if (position) offset = Number(position[1]);
    else if (/end of JSON input/.test(message)) offset = text.trimEnd().length;
    else {
      // Some V8 messages carry no position. The shortest prefix that fails for a reason other
      // than ending early ends at the culprit; prefixes fail that way monotonically, so bisect.
      let low = 1;
      let high = text.length;
      while (low < high) {
        const middle = (low + high) >> 1;
        if (failsBeforeEnd(text.slice(0, middle))) high = middle;
        else low = middle + 1;
      }
      offset = low - 1;
    }
    const where = lineOfOffset(text, offset);
    const reason = message.replace(/ in JSON at position \d+[\s\S]*$/, '').replace(/, [\s\S]* is not valid JSON$/, '').replace(/\s+/g, ' ');
    throw new CliError('E_INVALID', `${source}:${where.line}:${where.column}: malformed JSON: ${reason}; fix the file and run plan check again`);
  }
}

/** Parses plan text (YAML, or JSON when the name ends in .json or the text starts with "{"). */
export async function parsePlanText(text: string, source: string): Promise<Plan> {
  const json = extname(source).toLowerCase() === '.json' || (extname(source) === '' && text.trimStart().startsWith('{'));
  const raw = json ? parseJson(text, source) : parseYaml(text, source, 'fix the file and run plan check again');
  if (raw === null || raw === undefined || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new CliError('E_INVALID', `${source}: a plan must be a mapping with name and tasks (got ${raw === null || raw === undefined ? 'an empty file' : Array.isArray(raw) ? 'a list' : typeof raw})`);
  }
  const parsed = planSchema.safeParse(raw);
  if (!parsed.success) {
    const tasks = (raw as { tasks?: unknown }).tasks;
    const issues = parsed.error.issues.map((issue) => {
      const keys = (issue as { keys?: string[] }).keys;
      const message = issue.code === 'unrecognized_keys' && keys
        ? `unknown field${keys.length > 1 ? 's' : ''} ${keys.join(', ')} (expected ${Object.keys(issue.path.length === 0 ? planSchema.shape : planTaskSchema.shape).join(', ')})`
        : issue.message;
      // "tasks.3" means little in a long plan; name the task when it has an id.
      const [first, index, ...rest] = issue.path;
      const task = first === 'tasks' && typeof index === 'number' && Array.isArray(tasks) ? (tasks[index] as { id?: unknown } | undefined) : undefined;
      const path = task && typeof task.id === 'string' ? [`tasks[${String(index)}] (${task.id})`, ...rest] : issue.path;
      return { path, message };
    });
    throw new CliError('E_INVALID', `${source}: invalid plan: ${describeIssues({ issues })}`);
  }
  return { ...parsed.data, source };
}

/** Reads and validates a plan file. Graph errors (cycles, unknown ids) are checkPlan's job. */
export async function loadPlan(path: string, options: { source?: string } = {}): Promise<Plan> {
  const source = options.source ?? path;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError('E_INVALID', `${source}: cannot read the plan file (${code ?? (error as Error).message}); give the path of a YAML or JSON plan`);
  }
  return parsePlanText(text, source);
}
