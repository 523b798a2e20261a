import type { FileGroup } from './file-group.ts';
import { mergeNeighbours } from './merge-groups.ts';
import { unitIds, type UnitPlace } from './unit-id.ts';
import { commonFolder, writeScopes } from './write-scope.ts';

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
  return keys.length === 1 ? name(keys[0]!) : `${name(keys[0]!)} … ${name(keys[keys.length - 1]!)}`;
}

/** The first name of `key` below `folder`, "" when the key is the folder itself. */
function nameBelow(key: string, folder: string): string {
  const rest = folder === '' ? key : key.slice(folder.length + 1);
  return rest.split('/')[0]!;
}

function placeOf(keys: readonly string[]): UnitPlace {
  if (keys.length === 1) return { path: keys[0]!, keys };
  const folder = commonFolder(keys);
  return { path: folder, range: [nameBelow(keys[0]!, folder), nameBelow(keys[keys.length - 1]!, folder)], keys };
}

/**
 * Groups (sorted by path) into at most `max` units with distinct ids and disjoint scopes; `tree`
 * is every file a folder scope would cover (see listBatchFiles).
 */
export function buildUnits(groups: readonly FileGroup[], max: number, tree: readonly string[]): BatchUnit[] {
  const runs = mergeNeighbours(groups, max);
  const keys = runs.map((run) => run.map((group) => group.key));
  const ids = unitIds(keys.map(placeOf));
  const scopes = writeScopes(runs, tree);
  return runs.map((run, index) => ({
    id: ids[index]!,
    label: labelFor(keys[index]!),
    groups: keys[index]!,
    files: run.flatMap((group) => group.files),
    scope: scopes[index]!,
  }));
}
