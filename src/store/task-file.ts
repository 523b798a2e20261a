import { CliError } from '../errors.ts';
import { parseYaml } from '../text/yaml.ts';
import type { Task, TaskState } from './backend.ts';
import { describeIssues, quickParseFrontmatter, taskFrontmatterSchema, type TaskFrontmatter } from './task-schema.ts';

// Task files are Markdown with YAML frontmatter. We write every value as JSON (valid YAML flow
// syntax), which lets the reader skip the YAML parser for our own files: `status` on a 200-task
// store must start in well under 100 ms. Hand-edited files in any YAML style still parse, through
// gray-matter, loaded only when needed.

const FIELD_ORDER = [
  'id', 'title', 'role', 'plan', 'files', 'reads', 'depends_on', 'estimate', 'check', 'attempts', 'max_attempts',
  'last_error', 'commit', 'summary', 'completed_by', 'completed_at', 'completed_proof',
] as const;

interface Split {
  yaml: string;
  body: string;
}

function splitFrontmatter(text: string): Split | undefined {
  const normalized = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (!normalized.startsWith('---')) return undefined;
  const firstBreak = normalized.indexOf('\n');
  if (firstBreak < 0 || normalized.slice(0, firstBreak).trim() !== '---') return undefined;
  const close = /\n---[ \t]*(?:\r?\n|$)/g;
  close.lastIndex = firstBreak;
  const match = close.exec(normalized);
  if (!match) return undefined;
  return {
    yaml: normalized.slice(firstBreak + 1, match.index + 1),
    body: normalized.slice(match.index + match[0].length),
  };
}

function parseJsonLines(yaml: string): Record<string, unknown> | undefined {
  const data: Record<string, unknown> = {};
  for (const line of yaml.split('\n')) {
    if (line.trim() === '') continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*): (.*)$/.exec(line);
    if (!match) return undefined;
    try {
      data[match[1]!] = JSON.parse(match[2]!);
    } catch {
      return undefined;
    }
  }
  return data;
}

export interface ParsedTask {
  frontmatter: TaskFrontmatter;
  body: string;
}

export function parseTaskText(text: string, file: string): ParsedTask {
  const split = splitFrontmatter(text);
  if (!split) {
    throw new CliError('E_INVALID', `${file}: no YAML frontmatter; start the file with a "---" block holding id and title`);
  }
  const data = parseJsonLines(split.yaml) ?? parseYaml(split.yaml, file, 'fix the syntax', 1);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new CliError('E_INVALID', `${file}: frontmatter must be a mapping of fields (id, title, files, ...)`);
  }
  const quick = quickParseFrontmatter(data as Record<string, unknown>);
  if (quick) return { frontmatter: quick, body: split.body };
  const result = taskFrontmatterSchema.safeParse(data);
  if (!result.success) {
    throw new CliError('E_INVALID', `${file}: ${describeIssues(result.error)}`);
  }
  return { frontmatter: result.data, body: split.body };
}

/**
 * The task a parsed file holds, in a given state and place; each backend adds its claim (liveness
 * comes from different evidence: a file's times, a ref seen unchanged). One mapping, so a field
 * added to the format reaches every store.
 */
export function taskOf(parsed: ParsedTask, state: TaskState, file: string): Task {
  const fm = parsed.frontmatter;
  return {
    id: fm.id,
    title: fm.title,
    role: fm.role,
    files: fm.files,
    reads: fm.reads,
    depends_on: fm.depends_on,
    attempts: fm.attempts,
    max_attempts: fm.max_attempts,
    estimate: fm.estimate,
    check: fm.check,
    plan: fm.plan,
    commit: fm.commit,
    summary: fm.summary,
    completed_by: fm.completed_by,
    completed_at: fm.completed_at,
    completed_proof: fm.completed_proof,
    last_error: fm.last_error,
    base: typeof fm.base === 'string' ? fm.base : undefined,
    body: parsed.body,
    state,
    file,
  };
}

export function serializeTask(frontmatter: Record<string, unknown>, body: string): string {
  const lines: string[] = ['---'];
  const seen = new Set<string>();
  const emit = (key: string): void => {
    seen.add(key);
    const value = frontmatter[key];
    if (value === undefined) return;
    lines.push(`${key}: ${JSON.stringify(value)}`);
  };
  for (const key of FIELD_ORDER) emit(key);
  for (const key of Object.keys(frontmatter).sort()) if (!seen.has(key)) emit(key);
  lines.push('---');
  const text = body.length === 0 || body.endsWith('\n') ? body : `${body}\n`;
  return `${lines.join('\n')}\n${text}`;
}
