import { isGlob, normalizeScopeEntry, staticBase } from '../scope/glob.ts';
import type { PlanAnalysis } from './plan-analysis.ts';
import type { PlanTask } from './plan-schema.ts';

// How to run the plan, said plainly: all at once, in a chain, or a mix; and whether agents need a
// worktree each or can safely share one checkout.

export function chooseStrategy(
  tasks: readonly PlanTask[],
  waves: string[][],
  edgeCount: number,
  sharedByAll: () => string[],
  independentCount: number,
): PlanAnalysis['strategy'] {
  if (tasks.length === 1) return { kind: 'sequential', reason: 'a single task: one agent' };
  if (edgeCount === 0) {
    return { kind: 'parallel', reason: `no task depends on or overlaps another: all ${tasks.length} tasks can run at the same time` };
  }
  if (waves.length === tasks.length) {
    const shared = sharedByAll();
    if (shared.length > 0) {
      return { kind: 'sequential', reason: `every task writes ${shared.slice(0, 3).join(', ')}: run them one after another with one agent (parallel agents would only wait or conflict)` };
    }
    return { kind: 'sequential', reason: `every task waits for the one before it (a chain of ${tasks.length}): one agent` };
  }
  const widest = waves.reduce((most, wave) => Math.max(most, wave.length), 0);
  return {
    kind: 'hybrid',
    reason: `${waves.length} waves, at most ${widest} tasks at once, ${independentCount} of ${tasks.length} tasks independent: start each task as soon as the tasks it waits for are done, not wave by wave`,
  };
}

/** A write entry no wider than one folder two levels down, or one file. */
function isNarrow(entry: string): boolean {
  const normalized = normalizeScopeEntry(entry);
  if (normalized === '**') return false;
  if (!isGlob(normalized)) return normalized.includes('/') || /\.[^/]+$/.test(normalized);
  const base = staticBase(normalized);
  return base.split('/').filter((segment) => segment.length > 0).length >= 2;
}

export function chooseIsolation(tasks: readonly PlanTask[], overlapping: number, agents: number): PlanAnalysis['isolation'] {
  if (agents <= 1) return { kind: 'worktree-per-agent', reason: 'one agent: a worktree of its own keeps the main checkout clean until verify merges it' };
  if (overlapping > 0) {
    return {
      kind: 'worktree-per-agent',
      reason: `scopes are not disjoint (${overlapping} edge${overlapping === 1 ? '' : 's'} from shared files): give each agent its own worktree and merge through verify`,
    };
  }
  const broad = tasks.flatMap((task) => task.files).find((entry) => !isNarrow(entry));
  if (broad !== undefined) {
    return { kind: 'worktree-per-agent', reason: `write scopes are disjoint but some are broad (e.g. ${broad}): a worktree per agent keeps stray edits apart` };
  }
  return {
    kind: 'file-partition',
    reason: 'write scopes are disjoint and narrow: agents may share one checkout, each editing only its own files (worktrees stay the safer choice if tasks run builds that write shared output)',
  };
}
