import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { CliError } from '../errors.ts';
import { parseDuration } from '../text/duration.ts';
import { stringifyYaml } from '../text/yaml.ts';
import { writeFileAtomic } from '../fs/atomic-write.ts';
import { planSchema } from '../plan/plan-schema.ts';
import { describeIssues } from '../store/task-schema.ts';
import type { BatchUnit } from './batch-unit.ts';

export interface BatchPlanOptions {
  name: string;
  instruction: string;
  role: string | undefined;
  /** For a unit of median size (see unitEstimates). */
  estimate: string;
}

interface PlanTaskDocument {
  id: string;
  title: string;
  role?: string;
  files: string[];
  estimate: string;
  prompt: string;
}

const TITLE_INSTRUCTION_LENGTH = 60;

/** The instruction's first line, cut at a word boundary when longer than 60 characters. */
export function shortInstruction(instruction: string): string {
  const firstLine = instruction.trim().split('\n')[0]!.trim();
  if (firstLine.length <= TITLE_INSTRUCTION_LENGTH) return firstLine;
  const cut = firstLine.slice(0, TITLE_INSTRUCTION_LENGTH);
  const space = cut.lastIndexOf(' ');
  // A single word longer than the limit can only be cut inside.
  return `${(space > 0 ? cut.slice(0, space) : cut.slice(0, -1)).replace(/[\s,;:.-]+$/, '')}…`;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** "src/api (12 files)", "pkg/m00 … pkg/m07 (8 folders, 40 files)": never cut. */
export function unitSize(unit: BatchUnit): string {
  const files = plural(unit.files.length, 'file');
  // A file group's key is its file: only merged folders need their own count.
  return unit.groups.length === 1 || unit.groups[0] === unit.files[0] ? files : `${plural(unit.groups.length, 'folder')}, ${files}`;
}

/**
 * --estimate is the time for a unit of median size: each unit's estimate is it scaled by the
 * unit's file count over the median file count, so waves, the critical path and the agent count
 * of `plan check` weigh a 200-file unit against a 4-file one. Written in one unit, as estimates
 * are: seconds below a minute, tenths of a minute below two hours, hundredths of an hour above.
 */
export function unitEstimates(units: readonly BatchUnit[], estimateMs: number): string[] {
  const sizes = units.map((unit) => unit.files.length).sort((a, b) => a - b);
  const middle = sizes.length >> 1;
  const median = sizes.length % 2 === 1 ? sizes[middle]! : (sizes[middle - 1]! + sizes[middle]!) / 2;
  return units.map((unit) => {
    const ms = (estimateMs * unit.files.length) / median;
    const trim = (value: number, digits: number): string => value.toFixed(digits).replace(/\.?0+$/, '');
    if (ms < 60_000) return `${Math.max(1, Math.round(ms / 1000))}s`;
    if (ms < 7_200_000) return `${trim(ms / 60_000, 1)}m`;
    return `${trim(ms / 3_600_000, 2)}h`;
  });
}

/** Scopes up to this many entries are repeated in the prompt; longer ones only in `files`. */
const LISTED_ENTRIES = 50;

// The scope is exact (a folder is "dir/**" only when every file in it was selected), so it
// names the unit's files; the runner and the agents read it from the task's `files`.
function promptFor(unit: BatchUnit, instruction: string): string {
  const whole = unit.scope.some((entry) => entry.endsWith('**')) ? ' (a "dir/**" entry is every file in that folder)' : '';
  const listed = unit.scope.length <= LISTED_ENTRIES;
  return [
    instruction.trim(),
    '',
    `This task is one unit (${unit.label}) of a batch: other agents apply the same instruction to the other units at the same time. ` +
      `Apply it to the ${plural(unit.files.length, 'file')} of this task's write scope${listed ? `${whole}:` : `, its \`files\` list${whole}.`}`,
    ...(listed ? unit.scope.map((entry) => `- ${entry}`) : []),
    '',
    'Change only files inside this write scope.',
    '',
  ].join('\n');
}

/** One task per unit; the tasks are independent by construction (disjoint write scopes). */
export function batchPlanDocument(units: readonly BatchUnit[], options: BatchPlanOptions): { name: string; tasks: PlanTaskDocument[] } {
  const title = shortInstruction(options.instruction);
  const estimates = unitEstimates(units, parseDuration(options.estimate, { unitRequired: true })!);
  return {
    name: options.name,
    tasks: units.map((unit, index) => ({
      id: unit.id,
      title: `${unit.label} (${unitSize(unit)}): ${title}`,
      ...(options.role !== undefined ? { role: options.role } : {}),
      files: unit.scope,
      estimate: estimates[index]!,
      prompt: promptFor(unit, options.instruction),
    })),
  };
}

/**
 * Writes the plan as YAML a person can review (JSON for a .json file), after checking it against
 * the schema `plan check` loads plans with: a plan this command writes is one the CLI accepts.
 * The document is checked as data rather than parsed back from its text: reading 25,000 scope
 * entries back through the YAML parser took longer than finding the units.
 */
export function writeBatchPlan(path: string, source: string, plan: ReturnType<typeof batchPlanDocument>, force: boolean): void {
  if (existsSync(path) && !force) {
    throw new CliError('E_EXISTS', `--plan-out ${source} already exists; pass --force to replace it or choose another file`);
  }
  const checked = planSchema.safeParse(plan);
  if (!checked.success) {
    throw new CliError('E_INTERNAL', `internal error: the batch plan for ${source} does not pass the plan schema (${describeIssues(checked.error)}); please report it`);
  }
  const text = extname(path).toLowerCase() === '.json'
    ? `${JSON.stringify(plan, null, 2)}\n`
    : `# Written by "parallel-agents batch units": one task per unit. Review it, then check it with "plan check".\n${stringifyYaml(plan)}`;
  try {
    writeFileAtomic(path, text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new CliError('E_INVALID', `--plan-out ${source}: cannot write the plan (${code}); choose a file in a writable folder`);
  }
}
