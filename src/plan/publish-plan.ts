import { CliError } from '../errors.ts';
import type { Task, TaskBackend, TaskInput } from '../store/backend.ts';
import { checkPlan, type CheckPlanOptions } from './check-plan.ts';
import type { PlanAnalysis } from './plan-analysis.ts';
import type { Plan } from './plan-schema.ts';

// Publishing turns a checked plan into tasks agents can claim. Every implied ordering edge
// (shared files, reads) is written into depends_on, so the claim protocol alone enforces what
// plan check found, with no plan file needed at run time.

export interface PublishOptions extends CheckPlanOptions {
  /** Publish even while tasks of another plan are unfinished. */
  allowMixed?: boolean | undefined;
  /** Set by `run`: its --max-attempts (undefined when not given) replaces every task's max_attempts. */
  run?: { maxAttempts: number | undefined } | undefined;
  /** Set on the second look after losing a race to another publish. */
  raced?: boolean | undefined;
}

export interface PublishResult {
  plan: string;
  /** Ids written to available/, in dependency order. */
  published: string[];
  /** Ids already in the store from an identical earlier publish. */
  skipped: string[];
  analysis: PlanAnalysis;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

/** The field that differs between an existing task and what the plan would write, if any. */
function difference(existing: Task, input: TaskInput): string | undefined {
  if (existing.plan !== input.plan) return `plan (${existing.plan === undefined ? 'none' : `"${existing.plan}"`})`;
  if (existing.title !== input.title) return 'title';
  if (existing.role !== input.role) return 'role';
  if (!sameList(existing.files, input.files ?? [])) return 'files';
  if (!sameList(existing.reads, input.reads ?? [])) return 'reads';
  if (!sameList([...existing.depends_on].sort(), [...(input.depends_on ?? [])].sort())) return 'depends_on';
  if (existing.estimate !== input.estimate) return 'estimate';
  if (existing.check !== input.check) return 'check';
  if (existing.max_attempts !== input.max_attempts) return 'max_attempts';
  if (existing.body.trim() !== (input.body ?? '').trim()) return 'prompt';
  return undefined;
}

/**
 * max_attempts differs most often because machines joining one shared run were started with
 * different --max-attempts (it overrides the plan's value): the refusal names where each value came from.
 */
function maxAttemptsRefusal(existing: Task, input: TaskInput, options: PublishOptions): string {
  const ours = input.max_attempts ?? 'the default';
  const head = `task "${input.id}" already exists (${existing.state}) with max_attempts ${existing.max_attempts}`;
  if (!options.run) {
    return `${head}, but the plan gives ${ours} (a run with --max-attempts may have published it); set max_attempts: ${existing.max_attempts} on the task in the plan, or rename the task`;
  }
  const source = options.run.maxAttempts !== undefined ? `--max-attempts ${ours}` : `no --max-attempts, and the plan's max_attempts is ${ours}`;
  return `${head}, but this run has ${source}; start every machine joining the run with the same --max-attempts (here --max-attempts ${existing.max_attempts})`;
}

export async function publishPlan(store: Pick<TaskBackend, 'list' | 'add' | 'description'>, plan: Plan, options: PublishOptions = {}): Promise<PublishResult> {
  const analysis = checkPlan(plan, options);
  const { tasks: existingTasks, problems } = await store.list();
  if (problems.length > 0) {
    throw new CliError('E_REFUSED', `the store has ${problems.length} unreadable task file${problems.length === 1 ? '' : 's'} (first: ${problems[0]!.message}); fix them before publishing`);
  }
  const existing = new Map(existingTasks.map((task) => [task.id, task]));

  if (!options.allowMixed) {
    const foreign = existingTasks.filter((task) => task.plan !== undefined && task.plan !== plan.name && task.state !== 'completed');
    if (foreign.length > 0) {
      const plans = [...new Set(foreign.map((task) => task.plan))].map((name) => `"${name}"`).join(', ');
      const sample = foreign.slice(0, 5).map((task) => `${task.id} (${task.state})`).join(', ');
      throw new CliError(
        'E_REFUSED',
        `${foreign.length} task${foreign.length === 1 ? '' : 's'} of plan ${plans} ${foreign.length === 1 ? 'is' : 'are'} unfinished: ${sample}${foreign.length > 5 ? ', ...' : ''}; finish them first or pass --allow-mixed`,
        { plans: [...new Set(foreign.map((task) => task.plan))], tasks: foreign.map((task) => task.id) },
      );
    }
  }

  const byId = new Map(plan.tasks.map((task) => [task.id, task]));
  const afterById = new Map(analysis.tasks.map((task) => [task.id, task.after]));
  // Dependency order: when a publish is interrupted, every task already written has its
  // dependencies written too, and a re-run completes the rest.
  const inputs: TaskInput[] = analysis.waves.flat().map((id) => {
    const task = byId.get(id)!;
    return {
      id,
      title: task.title,
      role: task.role,
      plan: plan.name,
      files: task.files,
      reads: task.reads,
      depends_on: afterById.get(id) ?? [],
      estimate: task.estimate,
      check: task.check ?? plan.check,
      max_attempts: task.max_attempts,
      body: task.prompt.endsWith('\n') ? task.prompt : `${task.prompt}\n`,
    };
  });

  const fresh: TaskInput[] = [];
  const skipped: string[] = [];
  for (const input of inputs) {
    const current = existing.get(input.id);
    if (!current) {
      fresh.push(input);
      continue;
    }
    const differs = difference(current, input);
    if (differs !== undefined) {
      const message = differs === 'max_attempts'
        ? maxAttemptsRefusal(current, input, options)
        : `task "${input.id}" already exists (${current.state}) with a different ${differs}; rename the task in the plan or remove the old one from ${store.description}`;
      throw new CliError('E_EXISTS', message, { task: input.id, field: differs });
    }
    skipped.push(input.id);
  }
  let published: string[];
  try {
    published = fresh.length > 0 ? (await store.add(fresh)).map((task) => task.id) : [];
  } catch (error) {
    // Another publish got there first (machines starting one shared run together): what it
    // wrote is compared like any earlier publish, so the same plan is skipped, not refused.
    if (!(error instanceof CliError) || error.code !== 'E_EXISTS' || options.raced) throw error;
    return publishPlan(store, plan, { ...options, raced: true });
  }
  return { plan: plan.name, published, skipped, analysis };
}
