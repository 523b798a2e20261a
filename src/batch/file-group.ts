import { CliError } from '../errors.ts';
import { comparePaths } from './path-order.ts';

/** How files become groups: one file each, one per parent folder, or per first N folder levels. */
export type GroupMode = { kind: 'file' } | { kind: 'dir'; depth: number | undefined };

export interface FileGroup {
  /** A file path (file mode) or a folder path ("" for the repository root). */
  key: string;
  kind: 'file' | 'dir';
  files: string[];
}

export function parseGroupMode(text: string, usage: string): GroupMode {
  if (text === 'file') return { kind: 'file' };
  if (text === 'dir') return { kind: 'dir', depth: undefined };
  const match = /^dir:(\d+)$/.exec(text);
  if (match && Number(match[1]) >= 1) return { kind: 'dir', depth: Number(match[1]) };
  throw new CliError('E_USAGE', `--group must be file, dir or dir:N with N >= 1 (got "${text}"); usage: ${usage}`);
}

/** The file's folder, or its first `depth` folders: found by counting slashes, without splitting. */
function folderKey(file: string, depth: number | undefined): string {
  const last = file.lastIndexOf('/');
  if (depth === undefined || last < 0) return last < 0 ? '' : file.slice(0, last);
  let end = -1;
  for (let n = 0; n < depth; n++) {
    const next = file.indexOf('/', end + 1);
    if (next < 0 || next > last) return file.slice(0, last);
    end = next;
  }
  return file.slice(0, end);
}

/** Groups sorted files into groups sorted by key, so neighbours in the list are neighbours on disk. */
export function groupFiles(files: readonly string[], mode: GroupMode): FileGroup[] {
  if (mode.kind === 'file') return files.map((file) => ({ key: file, kind: 'file', files: [file] }));
  const byKey = new Map<string, FileGroup>();
  for (const file of files) {
    const key = folderKey(file, mode.depth);
    const group = byKey.get(key);
    if (group) group.files.push(file);
    else byKey.set(key, { key, kind: 'dir', files: [file] });
  }
  return [...byKey.values()].sort((a, b) => comparePaths(a.key, b.key));
}
