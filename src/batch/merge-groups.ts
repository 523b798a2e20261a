import type { FileGroup } from './file-group.ts';

/**
 * Joins the pair of neighbouring runs with the fewest files between them until at most `max`
 * remain: units stay contiguous on disk (one area of the code each) and roughly even in size.
 */
export function mergeNeighbours(groups: readonly FileGroup[], max: number): FileGroup[][] {
  const runs = groups.map((group) => [group]);
  const sizes = groups.map((group) => group.files.length);
  while (runs.length > max) {
    let best = 0;
    for (let i = 1; i < runs.length - 1; i++) {
      if (sizes[i]! + sizes[i + 1]! < sizes[best]! + sizes[best + 1]!) best = i;
    }
    runs.splice(best, 2, [...runs[best]!, ...runs[best + 1]!]);
    sizes.splice(best, 2, sizes[best]! + sizes[best + 1]!);
  }
  return runs;
}
