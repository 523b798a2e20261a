import type { FileGroup } from './file-group.ts';
import { parentFolder } from './path-order.ts';

// A write scope is exactly as wide as the unit's share of the selection. A unit gets "dir/**"
// only when every file of the tree beneath dir (tracked or not ignored, selected or not) is
// selected and belongs to that unit; otherwise it lists its files one by one. So an edit to a
// file the globs did not pick fails the ownership check, and no two units' scopes overlap: a
// folder one unit owns holds no file of another. Counting runs once over the tree, folder by
// folder from the deepest up, so the cost grows with files and folders, not with their pairs.

interface FolderCount {
  /** Files of the tree beneath the folder, at any depth. */
  total: number;
  /** Of those, the selected ones. */
  selected: number;
  /** The unit owning every selected file beneath, -1 while none is seen, MIXED once two are. */
  owner: number;
}

const NONE = -1;
const MIXED = -2;

function joinOwner(a: number, b: number): number {
  return a === NONE ? b : b === NONE || a === b ? a : MIXED;
}

function folderCounts(tree: readonly string[], owner: ReadonlyMap<string, number>): Map<string, FolderCount> {
  const counts = new Map<string, FolderCount>();
  const countFor = (folder: string): FolderCount => {
    let count = counts.get(folder);
    if (!count) counts.set(folder, (count = { total: 0, selected: 0, owner: NONE }));
    return count;
  };
  // git lists a folder's files one after another: the previous file's count is usually the one.
  let lastFolder: string | undefined;
  let last: FolderCount | undefined;
  let selectedSeen = 0;
  const add = (file: string, unit: number | undefined): void => {
    const slash = file.lastIndexOf('/');
    let count: FolderCount;
    if (last && lastFolder!.length === Math.max(0, slash) && (slash < 0 || file.startsWith(lastFolder!))) count = last;
    else {
      lastFolder = slash < 0 ? '' : file.slice(0, slash);
      count = last = countFor(lastFolder);
    }
    count.total++;
    if (unit !== undefined) {
      count.selected++;
      count.owner = joinOwner(count.owner, unit);
    }
  };
  for (const file of tree) {
    const unit = owner.get(file);
    if (unit !== undefined) selectedSeen++;
    add(file, unit);
  }
  // Selected files the tree does not list (outside git, a file made during the walk) still count.
  if (selectedSeen < owner.size) {
    const inTree = new Set(tree);
    for (const [file, unit] of owner) if (!inTree.has(file)) add(file, unit);
  }
  // Deepest folders first, each added into its parent: every folder is counted once.
  const byDepth: string[][] = [];
  for (const folder of counts.keys()) {
    const depth = folder === '' ? 0 : folder.split('/').length;
    (byDepth[depth] ??= []).push(folder);
  }
  for (let depth = byDepth.length - 1; depth > 0; depth--) {
    for (const folder of byDepth[depth] ?? []) {
      const count = counts.get(folder)!;
      const parent = parentFolder(folder);
      const hadParent = counts.has(parent);
      const up = countFor(parent);
      up.total += count.total;
      up.selected += count.selected;
      up.owner = joinOwner(up.owner, count.owner);
      if (!hadParent) (byDepth[depth - 1] ??= []).push(parent);
    }
  }
  return counts;
}

/** The longest folder every key lies in ("" when they share none). */
export function commonFolder(paths: readonly string[]): string {
  let common = paths[0] ?? '';
  for (const path of paths) {
    while (common !== '' && path !== common && !path.startsWith(`${common}/`)) common = parentFolder(common);
  }
  return common;
}

// The scope syntax has no escape character: a glob character in a name becomes a one-character
// class ("[*]"), and "]", a backslash or an edge space (which no class can hold, or which the
// scope schema refuses or trims) becomes "?", the narrowest wildcard that still matches it.
const SPECIAL = /[*?[{}\]\\]|^\s|\s$/g;

export function exactEntry(path: string): string {
  if (!/[*?[\]{}\\]|(^|\/)\s|\s($|\/)/.test(path)) return path;
  return path.split('/').map((segment) => segment.replace(SPECIAL, (char) => ('*?[{}'.includes(char) ? `[${char}]` : '?'))).join('/');
}

function folderEntry(folder: string): string {
  return folder === '' ? '**' : `${exactEntry(folder)}/**`;
}

/**
 * Write scope of every run of groups, in the same order. `tree` is every file a folder scope
 * would cover (see listBatchFiles). A dir group may own a folder from the run's common folder
 * down to the files; a file group always lists its file.
 */
export function writeScopes(runs: readonly (readonly FileGroup[])[], tree: readonly string[]): string[][] {
  const owner = new Map<string, number>();
  runs.forEach((run, unit) => {
    for (const group of run) for (const file of group.files) owner.set(file, unit);
  });
  const counts = folderCounts(tree, owner);
  const owns = (folder: string, unit: number): boolean => {
    const count = counts.get(folder);
    return count !== undefined && count.owner === unit && count.selected === count.total;
  };
  return runs.map((run, unit) => {
    const top = commonFolder(run.filter((group) => group.kind === 'dir').map((group) => group.key));
    // The highest owned folder between `top` and a file's folder; the same for every file in that folder.
    const ownedAbove = new Map<string, string | null>();
    const ownedFolderOf = (folder: string): string | null => {
      let found = ownedAbove.get(folder);
      if (found !== undefined) return found;
      found = null;
      for (let at = top; ; ) {
        if (owns(at, unit)) {
          found = at;
          break;
        }
        if (at === folder) break;
        const slash = folder.indexOf('/', at === '' ? 0 : at.length + 1);
        at = slash < 0 ? folder : folder.slice(0, slash);
      }
      ownedAbove.set(folder, found);
      return found;
    };
    const entries = new Set<string>();
    for (const group of run) {
      for (const file of group.files) {
        const folder = group.kind === 'dir' ? ownedFolderOf(parentFolder(file)) : null;
        entries.add(folder === null ? exactEntry(file) : folderEntry(folder));
      }
    }
    return [...entries];
  });
}
