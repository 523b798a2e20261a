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

/** "a" is "a" itself or a folder above "a/b"; "" is above everything. */
export function isUnder(path: string, folder: string): boolean {
  return folder === '' || path === folder || path.startsWith(`${folder}/`);
}
