import { isAbsolute, relative, sep } from 'node:path';

// "Is this path inside that folder" in one place: a prefix test on strings gets "/repo-other"
// and "/repo/../etc" wrong; path.relative does not.

/** The path of `path` below `folder` with "/" separators ("" for the folder itself), or undefined when it lies outside. */
export function pathBelow(folder: string, path: string): string | undefined {
  const rel = relative(folder, path);
  if (rel === '') return '';
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return undefined;
  return sep === '/' ? rel : rel.split(sep).join('/');
}

export function isInside(path: string, folder: string): boolean {
  return pathBelow(folder, path) !== undefined;
}
