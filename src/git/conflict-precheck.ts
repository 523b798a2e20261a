import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { gitOutput, runGit, runGitAsync } from '../repo/run-git.ts';
import { changesBetweenTrees, type BranchChanges } from './ownership.ts';

// Finds conflicts before anything is merged: each branch against the target and every pair of
// branches that share a changed path. Three git processes in all, whatever the number of branches
// (spawning git per merge costs milliseconds, a batched merge a tenth of one; bench/RESULTS.md, git):
//   1. `merge-tree --stdin`: every branch against the target;
//   2. `diff-tree --stdin`: what each branch changes (target tree vs its merged tree);
//   3. `merge-tree --stdin`: the pairs that share a changed path. Disjoint pairs cannot conflict
//      textually, so they are never merged.

export interface PrecheckBranch {
  task: string;
  head: string;
  /**
   * Where the branch started when that may not be in the target (a task stacked on its
   * dependencies' commits): its own changes are then diff(merge(target, base), merge(target, head)),
   * which leaves the dependencies' work out. For a base the target contains, merge(target, base) is
   * the target itself, so passing it is always safe.
   */
  base?: string | undefined;
}

export interface PrecheckConflict {
  /** One task (against the target) or two (against each other). */
  tasks: string[];
  against: 'target' | 'branch';
  files: string[];
  /** git's conflict kinds, e.g. "CONFLICT (contents)", "CONFLICT (modify/delete)". */
  kinds: string[];
}

export interface PrecheckResult {
  conflicts: PrecheckConflict[];
  /** Per branch, in input order. */
  changes: BranchChanges[];
  merges_checked: number;
  /** Pairs skipped because their changed paths are disjoint. */
  pairs_skipped: number;
}

export function pairsSharingPaths(changes: readonly BranchChanges[]): [number, number][] {
  const writers = new Map<string, number[]>();
  changes.forEach((branch, index) => {
    for (const path of branch.changed) {
      const list = writers.get(path);
      if (list) list.push(index);
      else writers.set(path, [index]);
    }
  });
  const seen = new Set<number>();
  const pairs: [number, number][] = [];
  for (const list of writers.values()) {
    for (let a = 0; a < list.length; a++) {
      for (let b = a + 1; b < list.length; b++) {
        const key = list[a]! * changes.length + list[b]!;
        if (seen.has(key)) continue;
        seen.add(key);
        pairs.push([list[a]!, list[b]!]);
      }
    }
  }
  return pairs.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
}

export async function precheckConflicts(cwd: string, targetCommit: string, branches: readonly PrecheckBranch[]): Promise<PrecheckResult> {
  if (branches.length === 0) return { conflicts: [], changes: [], merges_checked: 0, pairs_skipped: 0 };
  return withScratchObjects(cwd, (env) => precheckWith(cwd, env, targetCommit, branches));
}

/**
 * merge-tree writes every merged blob and tree it computes: thousands of loose objects for a big
 * pre-check, all garbage afterwards. They go to a throwaway object directory instead (the way git
 * quarantines pushes), reading the real objects through the alternates mechanism.
 */
async function withScratchObjects<T>(cwd: string, run: (env: NodeJS.ProcessEnv) => Promise<T>): Promise<T> {
  const objects = resolve(cwd, gitOutput(['rev-parse', '--git-path', 'objects'], { cwd }));
  const scratch = mkdtempSync(join(scratchParent(), 'pa-precheck-objects-'));
  const inherited = process.env.GIT_ALTERNATE_OBJECT_DIRECTORIES;
  try {
    return await run({ GIT_OBJECT_DIRECTORY: scratch, GIT_ALTERNATE_OBJECT_DIRECTORIES: inherited ? `${objects}${delimiter}${inherited}` : objects });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * A RAM-backed folder when there is one: loose-object writes there were 8x faster than on this
 * VM's ext4 /tmp (55 vs 450 ms for 64 merges). PARALLEL_SCRATCH_DIR overrides.
 */
function scratchParent(): string {
  const configured = process.env.PARALLEL_SCRATCH_DIR;
  if (configured) return configured;
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

async function precheckWith(cwd: string, env: NodeJS.ProcessEnv, targetCommit: string, branches: readonly PrecheckBranch[]): Promise<PrecheckResult> {
  const allPairs = (branches.length * (branches.length - 1)) / 2;
  const conflicts: PrecheckConflict[] = [];
  const againstTarget = mergeBatch(cwd, branches.map((branch) => [targetCommit, branch.head]), env);
  againstTarget.forEach((outcome, index) => {
    if (!outcome.clean) conflicts.push({ tasks: [branches[index]!.task], against: 'target', files: outcome.files, kinds: outcome.kinds });
  });
  const targetTree = gitOutput(['rev-parse', `${targetCommit}^{tree}`], { cwd });
  // Bases merged onto the target in the same kind of batch; a base that conflicts with the target
  // falls back to the target tree (the conflict itself is reported through the head's merge).
  const stacked = branches.flatMap((branch, index) => (branch.base && branch.base !== targetCommit ? [index] : []));
  const baseOutcomes = mergeBatch(cwd, stacked.map((index) => [targetCommit, branches[index]!.base!]), env);
  const fromTrees = branches.map(() => targetTree);
  stacked.forEach((branchIndex, k) => {
    if (baseOutcomes[k]!.clean) fromTrees[branchIndex] = baseOutcomes[k]!.tree;
  });
  const changes = changesBetweenTrees(cwd, againstTarget.map((outcome, index) => [fromTrees[index]!, outcome.tree]), env);

  const pairs = pairsSharingPaths(changes);
  const pairOutcomes = await mergeBatchParallel(cwd, pairs.map(([a, b]) => [branches[a]!.head, branches[b]!.head]), env);
  pairOutcomes.forEach((outcome, index) => {
    if (outcome.clean) return;
    const [a, b] = pairs[index]!;
    conflicts.push({ tasks: [branches[a]!.task, branches[b]!.task], against: 'branch', files: outcome.files, kinds: outcome.kinds });
  });
  return { conflicts, changes, merges_checked: branches.length + pairs.length, pairs_skipped: allPairs - pairs.length };
}

export interface MergeTreeOutcome {
  clean: boolean;
  tree: string;
  files: string[];
  kinds: string[];
}

/** Many merges in one `git merge-tree --write-tree --stdin` process; nothing but objects is written. */
export function mergeBatch(cwd: string, merges: readonly (readonly [string, string])[], env?: NodeJS.ProcessEnv): MergeTreeOutcome[] {
  if (merges.length === 0) return [];
  const input = merges.map(([ours, theirs]) => `${ours} ${theirs}\n`).join('');
  const outcomes = parseBatchOutput(runGit(['merge-tree', '--write-tree', '--stdin', '--name-only'], { cwd, input, env }).stdout);
  if (outcomes.length !== merges.length) {
    throw new Error(`merge-tree --stdin answered ${outcomes.length} merges for ${merges.length} requests`);
  }
  return outcomes;
}

/** Below this many merges a second git process costs more than it saves. */
const MERGES_PER_PROCESS = 128;

/**
 * The pairwise batch is the one that grows as N², and merge-tree is single-threaded: split it
 * over one git process per core (contiguous chunks, answers kept in request order).
 */
export async function mergeBatchParallel(cwd: string, merges: readonly (readonly [string, string])[], env?: NodeJS.ProcessEnv): Promise<MergeTreeOutcome[]> {
  const processes = Math.min(cpus().length || 1, Math.ceil(merges.length / MERGES_PER_PROCESS));
  if (processes <= 1) return mergeBatch(cwd, merges, env);
  const size = Math.ceil(merges.length / processes);
  const chunks = Array.from({ length: processes }, (_, i) => merges.slice(i * size, (i + 1) * size)).filter((chunk) => chunk.length > 0);
  const answers = await Promise.all(chunks.map(async (chunk) => {
    const input = chunk.map(([ours, theirs]) => `${ours} ${theirs}\n`).join('');
    const outcomes = parseBatchOutput((await runGitAsync(['merge-tree', '--write-tree', '--stdin', '--name-only'], { cwd, input, env })).stdout);
    if (outcomes.length !== chunk.length) {
      throw new Error(`merge-tree --stdin answered ${outcomes.length} merges for ${chunk.length} requests`);
    }
    return outcomes;
  }));
  return answers.flat();
}

/**
 * `--stdin` output, NUL-separated per merge: status ("1" clean, "0" conflicted), tree id, then for a
 * conflicted merge the conflicted paths and an empty token, then messages as
 * `<path count> <paths...> <kind> <text>` groups; every merge ends with an empty token.
 */
export function parseBatchOutput(output: string): MergeTreeOutcome[] {
  const tokens = output.split('\0');
  const outcomes: MergeTreeOutcome[] = [];
  let i = 0;
  while (i < tokens.length && tokens[i] !== '') {
    const clean = tokens[i++] === '1';
    const tree = tokens[i++]!;
    const files: string[] = [];
    const kinds = new Set<string>();
    if (!clean) {
      while (i < tokens.length && tokens[i] !== '') files.push(tokens[i++]!);
      i++;
      while (i < tokens.length && tokens[i] !== '') {
        const count = Number(tokens[i++]);
        i += count;
        const kind = tokens[i++]!;
        i++;
        if (kind.startsWith('CONFLICT')) kinds.add(kind);
      }
    }
    i++;
    outcomes.push({ clean, tree, files, kinds: [...kinds] });
  }
  return outcomes;
}
