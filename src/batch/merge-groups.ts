import type { FileGroup } from './file-group.ts';

// Joins the pair of neighbouring runs with the fewest files between them (the leftmost on a tie)
// until at most `max` remain: units stay contiguous on disk (one area of the code each) and
// roughly even in size. The candidate pairs sit in a heap, so 10,000 folders cost
// O(n log n) instead of a scan of every pair per merge.

interface Pair {
  sum: number;
  left: number;
  right: number;
  /** Sizes when the pair was queued: a pair whose runs grew since is stale. */
  leftSize: number;
  rightSize: number;
}

function before(a: Pair, b: Pair): boolean {
  return a.sum < b.sum || (a.sum === b.sum && a.left < b.left);
}

class PairHeap {
  private readonly items: Pair[] = [];

  get size(): number {
    return this.items.length;
  }

  push(pair: Pair): void {
    const items = this.items;
    items.push(pair);
    for (let i = items.length - 1; i > 0; ) {
      const up = (i - 1) >> 1;
      if (!before(items[i]!, items[up]!)) break;
      [items[i], items[up]] = [items[up]!, items[i]!];
      i = up;
    }
  }

  pop(): Pair {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < items.length && before(items[l]!, items[best]!)) best = l;
        if (r < items.length && before(items[r]!, items[best]!)) best = r;
        if (best === i) break;
        [items[i], items[best]] = [items[best]!, items[i]!];
        i = best;
      }
    }
    return top;
  }
}

export function mergeNeighbours(groups: readonly FileGroup[], max: number): FileGroup[][] {
  const count = groups.length;
  if (count <= max) return groups.map((group) => [group]);
  // A run is named by its first group; merging absorbs the right run into the left one.
  const size = groups.map((group) => group.files.length);
  const next = Array.from({ length: count }, (_, i) => (i + 1 < count ? i + 1 : -1));
  const prev = Array.from({ length: count }, (_, i) => i - 1);
  const alive = new Array<boolean>(count).fill(true);
  const heap = new PairHeap();
  const queue = (left: number, right: number): void => {
    if (left >= 0 && right >= 0) heap.push({ sum: size[left]! + size[right]!, left, right, leftSize: size[left]!, rightSize: size[right]! });
  };
  for (let i = 0; i + 1 < count; i++) queue(i, i + 1);
  for (let runs = count; runs > max && heap.size > 0; ) {
    const pair = heap.pop();
    const { left, right } = pair;
    if (!alive[left] || !alive[right] || next[left] !== right || size[left] !== pair.leftSize || size[right] !== pair.rightSize) continue;
    size[left]! += size[right]!;
    alive[right] = false;
    next[left] = next[right]!;
    if (next[left]! >= 0) prev[next[left]!] = left;
    runs--;
    queue(prev[left]!, left);
    queue(left, next[left]!);
  }
  const runs: FileGroup[][] = [];
  for (let start = 0; start >= 0; start = next[start]!) {
    const end = next[start]! >= 0 ? next[start]! : count;
    runs.push(groups.slice(start, end));
  }
  return runs;
}
