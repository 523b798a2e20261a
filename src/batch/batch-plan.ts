import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { CliError } from '../errors.ts';
import { stringifyYaml } from '../text/yaml.ts';
import { writeFileAtomic } from '../fs/atomic-write.ts';
import { parsePlanText } from '../plan/load-plan.ts';
import type { BatchUnit } from './batch-unit.ts';

export interface BatchPlanOptions {
  name: string;
  instruction: string;
  role: string | undefined;
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

function shortInstruction(instruction: string): string {
  const firstLine = instruction.trim().split('\n')[0]!.trim();
  return firstLine.length <= TITLE_INSTRUCTION_LENGTH ? firstLine : `${firstLine.slice(0, TITLE_INSTRUCTION_LENGTH - 1).trimEnd()}…`;
}

function promptFor(unit: BatchUnit, instruction: string): string {
  return [
    instruction.trim(),
    '',
    `This task is one unit (${unit.label}) of a batch: other agents apply the same instruction to the other units at the same time. Apply it to these files:`,
    ...unit.files.map((file) => `- ${file}`),
    '',
    `Change only files inside this task's write scope: ${unit.scope.join(', ')}.`,
    '',
  ].join('\n');
}

/** One task per unit; the tasks are independent by construction (disjoint write scopes). */
export function batchPlanDocument(units: readonly BatchUnit[], options: BatchPlanOptions): { name: string; tasks: PlanTaskDocument[] } {
  const title = shortInstruction(options.instruction);
  return {
    name: options.name,
    tasks: units.map((unit) => ({
      id: unit.id,
      title: `${unit.label}: ${title}`,
      ...(options.role !== undefined ? { role: options.role } : {}),
      files: unit.scope,
      estimate: options.estimate,
      prompt: promptFor(unit, options.instruction),
    })),
  };
}

/**
 * Writes the plan as YAML a person can review, after reading it back through the same loader
 * `plan check` uses: a plan this command writes is a plan the rest of the CLI accepts.
 */
export async function writeBatchPlan(path: string, source: string, plan: ReturnType<typeof batchPlanDocument>, force: boolean): Promise<void> {
  if (existsSync(path) && !force) {
    throw new CliError('E_EXISTS', `--plan-out ${source} already exists; pass --force to replace it or choose another file`);
  }
  // The loader reads a .json file as JSON, anything else as YAML.
  const text = extname(path).toLowerCase() === '.json'
    ? `${JSON.stringify(plan, null, 2)}\n`
    : `# Written by "parallel-agents batch units": one task per unit. Review it, then check it with "plan check".\n${stringifyYaml(plan)}`;
  await parsePlanText(text, source);
  try {
    writeFileAtomic(path, text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new CliError('E_INVALID', `--plan-out ${source}: cannot write the plan (${code}); choose a file in a writable folder`);
  }
}
