import { runGit } from './run-git.ts';

// Finds conflicts before anything is merged: each branch against the target and every pair of
// branches that share a changed path, all in ONE `git merge-tree --stdin` process (spawning git per
// merge costs ~3 ms; a batched merge ~0.1 ms, MEASUREMENTS §3). Branches with disjoint changes
// cannot conflict textually, so those pairs are never merged.

export interface PrecheckBranch {
  task: string;
  head: string;
  changed: readonly string[];
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
  merges_checked: number;
  /** Pairs skipped because their changed paths are disjoint. */
  pairs_skipped: number;
}

interface MergeRequest {
  tasks: string[];
  against: 'target' | 'branch';
  ours: string;
  theirs: string;
}

export function pairsSharingPaths(branches: readonly PrecheckBranch[]): [number, number][] {
  const writers = new Map<string, number[]>();
  branches.forEach((branch, index) => {
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
        const key = list[a]! * branches.length + list[b]!;
        if (seen.has(key)) continue;
        seen.add(key);
        pairs.push([list[a]!, list[b]!]);
      }
    }
  }
  return pairs.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
}

export function precheckConflicts(cwd: string, targetCommit: string, branches: readonly PrecheckBranch[]): PrecheckResult {
  const requests: MergeRequest[] = branches.map((branch) => ({ tasks: [branch.task], against: 'target', ours: targetCommit, theirs: branch.head }));
  const pairs = pairsSharingPaths(branches);
  for (const [a, b] of pairs) {
    requests.push({ tasks: [branches[a]!.task, branches[b]!.task], against: 'branch', ours: branches[a]!.head, theirs: branches[b]!.head });
  }
  const allPairs = (branches.length * (branches.length - 1)) / 2;
  if (requests.length === 0) return { conflicts: [], merges_checked: 0, pairs_skipped: allPairs };
  const input = requests.map((request) => `${request.ours} ${request.theirs}\n`).join('');
  const output = runGit(['merge-tree', '--write-tree', '--stdin', '--name-only'], { cwd, input }).stdout;
  const results = parseBatchOutput(output);
  if (results.length !== requests.length) {
    throw new Error(`merge-tree --stdin answered ${results.length} merges for ${requests.length} requests`);
  }
  const conflicts: PrecheckConflict[] = [];
  results.forEach((result, index) => {
    if (result.clean) return;
    const request = requests[index]!;
    conflicts.push({ tasks: request.tasks, against: request.against, files: result.files, kinds: result.kinds });
  });
  return { conflicts, merges_checked: requests.length, pairs_skipped: allPairs - pairs.length };
}

export interface MergeTreeOutcome {
  clean: boolean;
  tree: string;
  files: string[];
  kinds: string[];
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
