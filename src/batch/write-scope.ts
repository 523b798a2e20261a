import type { FileGroup } from './file-group.ts';
import { isUnder } from './path-order.ts';

// Overlapping write scopes make `plan check` order the tasks one after another, so each unit's
// scope must cover its own files and nothing another unit holds. A folder unit owns "dir/**"
// (new files it creates there included) unless another unit's folder lies beneath it; then it
// lists its files one by one ("src/*" would still overlap "src/api/**": both cover "src/api").

interface ScopeEntry {
  entry: string;
  /** The file, or the folder an entry "dir/**" owns. */
  path: string;
  ownsFolder: boolean;
}

function folderScope(key: string): string {
  return key === '' ? '**' : `${key}/**`;
}

/** Write scope of every run of groups, in the same order. */
export function writeScopes(runs: readonly (readonly FileGroup[])[]): string[][] {
  const folders = runs.flatMap((run, unit) => run.filter((group) => group.kind === 'dir').map((group) => ({ key: group.key, unit })));
  return runs.map((run, unit) => {
    const entries: ScopeEntry[] = [];
    for (const group of run) {
      const sharesSubtree = group.kind === 'dir' && folders.some((other) => other.unit !== unit && other.key !== group.key && isUnder(other.key, group.key));
      if (group.kind === 'dir' && !sharesSubtree) entries.push({ entry: folderScope(group.key), path: group.key, ownsFolder: true });
      else entries.push(...group.files.map((file) => ({ entry: file, path: file, ownsFolder: false })));
    }
    // A merged run may own "src/**" and "src/api/**": the outer entry says it all.
    const owned = entries.filter((item) => item.ownsFolder).map((item) => item.path);
    return entries
      .filter((item) => !owned.some((folder) => folder !== item.path && isUnder(item.path, folder)))
      .map((item) => item.entry);
  });
}
