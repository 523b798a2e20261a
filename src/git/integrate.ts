import { CliError } from '../errors.ts';
import { gitOutput, runGit } from '../repo/run-git.ts';
import { identityFallback } from './worktree-state.ts';

// Builds the would-be result of merging every branch, in dependency order, as commit objects only
// (merge-tree + commit-tree): no working tree, index or branch is touched. The chain hangs off a
// scratch ref so a crash leaves nothing but that ref behind.

export const INTEGRATION_REF_PREFIX = 'refs/parallel/integration';

export interface IntegrationBranch {
  task: string;
  title: string;
  branch: string;
  head: string;
  depends_on: readonly string[];
}

export interface IntegrationStep {
  task: string;
  /** How the branch entered the chain. */
  how: 'merge' | 'fast-forward' | 'already-contained';
  /** Chain commit after this step. */
  commit: string;
}

export interface IntegrationConflict {
  task: string;
  /** Tasks merged before it: the conflict is with their combined result. */
  after: string[];
  files: string[];
  kinds: string[];
}

export interface IntegrationResult {
  steps: IntegrationStep[];
  conflict: IntegrationConflict | undefined;
  /** Last commit of the chain (the target commit when nothing merged). */
  head: string;
}

/** Topological order by depends_on (edges to tasks outside the set are ignored), ties by id. */
export function orderByDependencies<T extends { task: string; depends_on: readonly string[] }>(items: readonly T[]): T[] {
  const byId = new Map(items.map((item) => [item.task, item]));
  const pending = new Map(items.map((item) => [item.task, item.depends_on.filter((dep) => byId.has(dep) && dep !== item.task).length]));
  const dependents = new Map<string, string[]>();
  for (const item of items) {
    for (const dep of item.depends_on) {
      if (!byId.has(dep) || dep === item.task) continue;
      dependents.set(dep, [...(dependents.get(dep) ?? []), item.task]);
    }
  }
  const ready = [...pending].filter(([, count]) => count === 0).map(([id]) => id).sort();
  const ordered: T[] = [];
  while (ready.length > 0) {
    const id = ready.shift()!;
    ordered.push(byId.get(id)!);
    for (const next of dependents.get(id) ?? []) {
      const left = pending.get(next)! - 1;
      pending.set(next, left);
      if (left === 0) {
        ready.push(next);
        ready.sort();
      }
    }
  }
  if (ordered.length !== items.length) {
    const stuck = [...pending].filter(([, count]) => count > 0).map(([id]) => id).sort();
    throw new CliError('E_CYCLE', `depends_on forms a cycle among tasks ${stuck.join(', ')}; fix the plan's depends_on fields`);
  }
  return ordered;
}

/** A scratch ref named after its owner, `<prefix>/<pid>-<time>`, so prune can tell a dead verify's leftovers. */
export function integrationRefName(now: Date = new Date()): string {
  return `${INTEGRATION_REF_PREFIX}/${process.pid}-${now.toISOString().replace(/:/g, '-')}`;
}

/** The pid that owns a scratch ref (also of the older `<time>-<pid>` names), or undefined. */
export function integrationRefOwner(ref: string): number | undefined {
  const name = ref.slice(INTEGRATION_REF_PREFIX.length + 1);
  const match = /^(\d+)-\d{4}-\d\d-\d\dT/.exec(name) ?? /^\d{4}-\d\d-\d\dT.*-(\d+)$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

export function buildIntegrationChain(
  cwd: string,
  targetCommit: string,
  branches: readonly IntegrationBranch[],
  options: { ref: string; onStep?: (step: IntegrationStep) => void },
): IntegrationResult {
  const env = identityFallback(cwd);
  const steps: IntegrationStep[] = [];
  let current = targetCommit;
  for (const branch of branches) {
    let step: IntegrationStep;
    // One merge base answers both ancestry questions: it is the branch when the chain already
    // holds it, the chain when the branch only adds to it.
    const base = runGit(['merge-base', current, branch.head], { cwd, okExitCodes: [1] }).stdout.trim();
    if (base === branch.head) {
      step = { task: branch.task, how: 'already-contained', commit: current };
    } else if (base === current) {
      step = { task: branch.task, how: 'fast-forward', commit: branch.head };
    } else {
      const merge = runGit(['merge-tree', '--write-tree', '--name-only', '-z', current, branch.head], { cwd, okExitCodes: [1] });
      const tokens = merge.stdout.split('\0');
      if (merge.exitCode === 1) {
        return { steps, conflict: { task: branch.task, after: steps.map((done) => done.task), ...conflictDetails(tokens) }, head: current };
      }
      const message = `Merge task ${branch.task}: ${branch.title}\n\nbranch ${branch.branch} at ${branch.head}\nmerged by parallel-agents verify`;
      const commit = gitOutput(['commit-tree', tokens[0]!, '-p', current, '-p', branch.head, '-m', message], { cwd, env });
      step = { task: branch.task, how: 'merge', commit };
    }
    current = step.commit;
    steps.push(step);
    options.onStep?.(step);
  }
  // The finished chain hangs off the scratch ref while the tests run on it.
  runGit(['update-ref', '--no-deref', options.ref, current], { cwd });
  return { steps, conflict: undefined, head: current };
}

function conflictDetails(tokens: readonly string[]): { files: string[]; kinds: string[] } {
  const files: string[] = [];
  let i = 1;
  while (i < tokens.length && tokens[i] !== '') files.push(tokens[i++]!);
  i++;
  const kinds = new Set<string>();
  while (i < tokens.length && tokens[i] !== '') {
    const count = Number(tokens[i++]);
    i += count;
    const kind = tokens[i++] ?? '';
    i++;
    if (kind.startsWith('CONFLICT')) kinds.add(kind);
  }
  return { files, kinds: [...kinds] };
}
