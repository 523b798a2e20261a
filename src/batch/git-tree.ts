import { type readdir } from 'node:fs';
import { sep } from 'node:path';
import { runGitAsync } from '../repo/run-git.ts';

// In a git repository git says what exists: tracked files, and untracked ones its ignore rules
// (nested .gitignore files, negations, info/exclude, core.excludesFile) let through; a tracked
// file is never ignored. fast-glob walks that listing instead of the disk, through the `fs`
// option it documents for custom file systems: one git listing replaces a second walk of every
// folder, and ignored build output is never read.

/** Enough of fs.Dirent for fast-glob's walker, made once per listed path. */
class ListedEntry {
  readonly name: string;
  private readonly folder: boolean;

  constructor(name: string, folder: boolean) {
    this.name = name;
    this.folder = folder;
  }

  isFile(): boolean {
    return !this.folder;
  }

  isDirectory(): boolean {
    return this.folder;
  }

  isSymbolicLink(): boolean {
    return false;
  }

  isBlockDevice(): boolean {
    return false;
  }

  isCharacterDevice(): boolean {
    return false;
  }

  isFIFO(): boolean {
    return false;
  }

  isSocket(): boolean {
    return false;
  }
}

export interface GitTree {
  /** Every path git lists: tracked (deleted ones too: they are in the commit agents start from) and untracked not ignored. */
  paths: string[];
  /** Tracked regular files in the working tree, and untracked files: what a glob may select. */
  selectable: Set<string>;
  /** Of those, the untracked ones: git does not say whether they are links. */
  untracked: Set<string>;
  /** fs.readdir over `selectable` and the folders holding them, for fast-glob's `fs` option. */
  readdir: typeof readdir;
}

const REGULAR_MODES = new Set(['100644', '100755']);

export async function readGitTree(root: string): Promise<GitTree> {
  const [staged, others] = await Promise.all([
    runGitAsync(['ls-files', '-z', '-t', '--stage'], { cwd: root }),
    runGitAsync(['ls-files', '-z', '-t', '--others', '--deleted', '--exclude-standard'], { cwd: root }),
  ]);
  const paths = new Set<string>();
  const selectable = new Set<string>();
  // "<tag> <mode> <object> <stage>\t<path>": links (120000), submodules (160000) and files a
  // sparse checkout left out (tag S) are never selected.
  for (const record of staged.stdout.split('\0')) {
    const tab = record.indexOf('\t');
    if (tab < 0) continue;
    const path = record.slice(tab + 1);
    paths.add(path);
    if (record[0] !== 'S' && REGULAR_MODES.has(record.slice(2, 8))) selectable.add(path);
  }
  // "? <path>" untracked, "R <path>" tracked but deleted from the working tree. An untracked
  // repository inside is listed as "<path>/": it stays in the tree, and nothing in it is selected.
  const untracked = new Set<string>();
  for (const record of others.stdout.split('\0')) {
    const path = record.slice(2);
    if (record.startsWith('? ') && path.endsWith('/')) paths.add(path.slice(0, -1));
    else if (record.startsWith('? ')) {
      paths.add(path);
      selectable.add(path);
      untracked.add(path);
    } else if (record.startsWith('R ')) selectable.delete(path);
  }
  return { paths: [...paths], selectable, untracked, readdir: listedReaddir(root, selectable) };
}

function listedReaddir(root: string, files: ReadonlySet<string>): typeof readdir {
  const folders = new Map<string, ListedEntry[]>([['', []]]);
  const entriesOf = (folder: string): ListedEntry[] => {
    let entries = folders.get(folder);
    if (!entries) {
      folders.set(folder, (entries = []));
      const slash = folder.lastIndexOf('/');
      entriesOf(slash < 0 ? '' : folder.slice(0, slash)).push(new ListedEntry(folder.slice(slash + 1), true));
    }
    return entries;
  };
  for (const file of files) {
    const slash = file.lastIndexOf('/');
    entriesOf(slash < 0 ? '' : file.slice(0, slash)).push(new ListedEntry(file.slice(slash + 1), false));
  }
  // fast-glob asks for absolute paths, joined with the platform separator.
  const byPath = new Map<string, ListedEntry[]>();
  for (const [folder, entries] of folders) byPath.set(folder === '' ? root : `${root}${sep}${folder.split('/').join(sep)}`, entries);
  return ((path: string, _options: unknown, callback: (error: NodeJS.ErrnoException | null, entries?: ListedEntry[]) => void) => {
    const entries = byPath.get(path);
    if (entries) process.nextTick(callback, null, entries);
    else process.nextTick(callback, Object.assign(new Error(`ENOENT: no such directory in the git listing, scandir '${path}'`), { code: 'ENOENT' }));
  }) as unknown as typeof readdir;
}
