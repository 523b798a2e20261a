// Neighbours must be folders next to each other, so paths compare segment by segment: plain
// string order would put "src/a-b/x" between "src/a" and "src/a/x" ("-" sorts before "/").

export function comparePaths(a: string, b: string): number {
  const left = a === '' ? [] : a.split('/');
  const right = b === '' ? [] : b.split('/');
  const length = Math.min(left.length, right.length);
  for (let i = 0; i < length; i++) {
    if (left[i] !== right[i]) return left[i]! < right[i]! ? -1 : 1;
  }
  return left.length - right.length;
}

/**
 * The same order as comparePaths, for many paths at once: with "/" turned into the smallest
 * character, plain string order is segment order, and the sort needs no split per comparison.
 */
export function sortPaths(paths: readonly string[]): string[] {
  return paths.map((path) => path.replaceAll('/', '\0')).sort().map((key) => key.replaceAll('\0', '/'));
}

/** The folder holding a path ("" for a file at the root). */
export function parentFolder(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}
