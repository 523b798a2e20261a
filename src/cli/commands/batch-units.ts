import { basename, extname, resolve } from 'node:path';
import { CliError } from '../../errors.ts';
import { integerOption, stringOption } from '../args.ts';
import { defineCommand, type OptionValues } from '../command.ts';
import { JSON_SCHEMA_VERSION } from '../output.ts';
import { checkBatchPattern } from '../../batch/batch-pattern.ts';
import { batchPlanDocument, writeBatchPlan } from '../../batch/batch-plan.ts';
import { summarizeScope } from '../../batch/scope-summary.ts';
import { parseGroupMode } from '../../batch/file-group.ts';
import { findUnits, type FoundUnits } from '../../batch/find-units.ts';
import { slugForName } from '../../batch/unit-id.ts';
import { planSchema } from '../../plan/plan-schema.ts';
import { AGENT_NAME_PATTERN, estimateSchema } from '../../store/task-schema.ts';

function patterns(values: OptionValues, flag: 'glob' | 'ignore'): string[] {
  const value = values[flag];
  const list = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
  return list.map((pattern) => checkBatchPattern(pattern, flag, command.usage));
}

interface PlanRequest {
  path: string;
  source: string;
  name: string;
  instruction: string;
  role: string | undefined;
  estimate: string;
  force: boolean;
}

/** Validates the --plan-out flags before any file is listed, so a typo costs nothing. */
function planRequest(values: OptionValues, cwd: string): PlanRequest | undefined {
  const source = stringOption(values, 'plan-out');
  const instruction = stringOption(values, 'instruction');
  const planOnly = ['role', 'estimate', 'name', 'force'].filter((flag) => values[flag] !== undefined);
  if (source === undefined) {
    if (instruction !== undefined || planOnly.length > 0) {
      throw new CliError('E_USAGE', `--${instruction !== undefined ? 'instruction' : planOnly[0]} only applies with --plan-out FILE; usage: ${command.usage}`);
    }
    return undefined;
  }
  if (source === '') throw new CliError('E_USAGE', `--plan-out needs a file name such as .parallel/plans/batch-tests.yaml; usage: ${command.usage}`);
  if (instruction === undefined || instruction.trim() === '') {
    throw new CliError('E_USAGE', `--plan-out needs --instruction TEXT (what every agent must do to its files); usage: ${command.usage}`);
  }
  const role = stringOption(values, 'role');
  if (role !== undefined && !AGENT_NAME_PATTERN.test(role)) {
    throw new CliError('E_USAGE', `--role "${role}" is invalid: use a name like backend-developer (letters, digits, ".", "_", ":", "-")`);
  }
  const estimate = stringOption(values, 'estimate') ?? '10m';
  if (!estimateSchema.safeParse(estimate).success) throw new CliError('E_USAGE', `--estimate must be a duration such as 90s, 10m or 1.5h (got "${estimate}")`);
  const explicitName = stringOption(values, 'name');
  const name = explicitName ?? (slugForName(basename(source, extname(source))).slice(0, 64).replace(/[._-]+$/, '') || 'batch');
  if (!planSchema.shape.name.safeParse(name).success) {
    throw new CliError('E_USAGE', `--name "${name}" is invalid: use a name like batch-tests (lowercase letters, digits, ".", "_", "-"; at most 64)`);
  }
  return { path: resolve(cwd, source), source, name, instruction, role, estimate, force: values.force === true };
}

/** Rows past this are counted, not printed: --json and the plan file have every unit. */
const MAX_ROWS = 30;

function renderText(found: FoundUnits, plan: PlanRequest | undefined, estimates: readonly string[] | undefined): string {
  const shown = found.units.slice(0, MAX_ROWS);
  const width = Math.max(2, ...shown.map((unit) => unit.id.length));
  const estimateWidth = Math.max(8, ...(estimates ?? []).map((estimate) => estimate.length));
  const estimateColumn = (text: string): string => (estimates ? `  ${text.padStart(estimateWidth)}` : '');
  const lines = [
    `${found.units.length} unit${found.units.length === 1 ? '' : 's'} from ${found.fileCount} file${found.fileCount === 1 ? '' : 's'}` +
      (found.groupCount > found.units.length ? ` (${found.groupCount} groups merged down to --max)` : ''),
    '',
    `  ${'ID'.padEnd(width)}  FILES${estimateColumn('ESTIMATE')}  WRITE SCOPE`,
    ...shown.map((unit, index) =>
      `  ${unit.id.padEnd(width)}  ${String(unit.files.length).padStart(5)}${estimateColumn(estimates?.[index] ?? '')}  ${summarizeScope(unit.scope)}`),
  ];
  const where = plan ? `${plan.source} or --json` : '--json';
  if (found.units.length > shown.length) lines.push(`  … ${found.units.length - shown.length} more units (every unit, file and scope entry: ${where})`);
  else if (found.units.some((unit) => summarizeScope(unit.scope) !== unit.scope.join(', '))) lines.push('', `Every file and scope entry: ${where}.`);
  if (found.warning) lines.push('', `warning: ${found.warning}`);
  if (plan) lines.push('', `wrote ${plan.source} (${found.units.length} task${found.units.length === 1 ? '' : 's'}); next: parallel-agents plan check ${plan.source}`);
  return lines.join('\n');
}

export const command = defineCommand('batch units', {
  options: {
    glob: { type: 'string', multiple: true, value: 'PATTERN', required: true, help: 'files the instruction applies to, relative to the repository root (repeatable)' },
    ignore: { type: 'string', multiple: true, value: 'PATTERN', help: 'files to leave out (repeatable); .gitignore is always honoured' },
    group: { type: 'string', value: 'file|dir|dir:N', help: 'one unit per file, per folder, or per folder N levels deep (default dir)' },
    min: { type: 'string', value: 'N', help: 'warn when there are fewer than N units: a fan-out may not pay off (default 5, or --max if lower)' },
    max: { type: 'string', value: 'N', help: 'merge groups down to at most N units (default 30)' },
    'plan-out': { type: 'string', value: 'FILE', help: 'also write a plan with one task per unit, e.g. .parallel/plans/batch-tests.yaml' },
    instruction: { type: 'string', value: 'TEXT', help: 'with --plan-out: what every agent must do to its files (required there)' },
    role: { type: 'string', value: 'ROLE', help: 'with --plan-out: the role of every task (default: none)' },
    estimate: { type: 'string', value: '10m', help: 'with --plan-out: the time of a unit of median size, scaled by file count (default 10m)' },
    name: { type: 'string', value: 'NAME', help: "with --plan-out: the plan's name (default: from the file name)" },
    force: { type: 'boolean', help: 'with --plan-out: overwrite an existing file' },
  },
  async run(ctx) {
    const globs = patterns(ctx.values, 'glob');
    if (globs.length === 0) throw new CliError('E_USAGE', `missing --glob: name the files the instruction applies to, e.g. --glob "src/**/*.ts"; usage: ${command.usage}`);
    const ignore = patterns(ctx.values, 'ignore');
    const group = parseGroupMode(stringOption(ctx.values, 'group') ?? 'dir', command.usage);
    const max = integerOption(ctx.values, 'max', 1, 30)!;
    // The default --min yields to a small --max; two explicit flags that contradict are an error.
    const min = integerOption(ctx.values, 'min', 1, Math.min(5, max))!;
    if (min > max) throw new CliError('E_USAGE', `--min ${min} is larger than --max ${max}; lower --min or raise --max`);
    const plan = planRequest(ctx.values, ctx.cwd);

    const found = await findUnits({ cwd: ctx.cwd, globs, ignore, group, min, max });
    let estimates: string[] | undefined;
    if (plan) {
      const document = batchPlanDocument(found.units, plan);
      estimates = document.tasks.map((task) => task.estimate);
      writeBatchPlan(plan.path, plan.source, document, plan.force);
    }
    const data = {
      schema: JSON_SCHEMA_VERSION,
      root: found.root,
      group: stringOption(ctx.values, 'group') ?? 'dir',
      globs,
      ignore,
      files: found.fileCount,
      groups: found.groupCount,
      units: found.units,
      warning: found.warning,
      plan: plan ? { path: plan.source, name: plan.name, tasks: found.units.length } : null,
    };
    return { data, text: renderText(found, plan, estimates) };
  },
});
