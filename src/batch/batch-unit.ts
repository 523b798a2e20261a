import type { FileGroup } from './file-group.ts';
import { mergeNeighbours } from './merge-groups.ts';
import { baseIdForKeys, uniqueIds } from './unit-id.ts';
import { writeScopes } from './write-scope.ts';

/** One agent's share of a batch. */
export interface BatchUnit {
  id: string;
  /** The group paths it covers, for people: "src/api", or "src/a … src/c" after merging. */
  label: string;
  groups: string[];
  files: string[];
  /** Write scope for its task: what the agent may change. */
  scope: string[];
}

function labelFor(keys: readonly string[]): string {
  const name = (key: string): string => (key === '' ? '(root)' : key);
  return keys.length === 1 ? name(keys[0]!) : `${name(keys[0]!)} … ${name(keys[keys.length - 1]!)} (${keys.length} groups)`;
}

/** Groups (sorted by path) into at most `max` units with distinct ids and disjoint scopes. */
export function buildUnits(groups: readonly FileGroup[], max: number): BatchUnit[] {
  const runs = mergeNeighbours(groups, max);
  const keys = runs.map((run) => run.map((group) => group.key));
  const ids = uniqueIds(keys.map(baseIdForKeys));
  const scopes = writeScopes(runs);
  return runs.map((run, index) => ({
    id: ids[index]!,
    label: labelFor(keys[index]!),
    groups: keys[index]!,
    files: run.flatMap((group) => group.files),
    scope: scopes[index]!,
  }));
}
