import { normalizeScopeEntry } from './glob.ts';
import { compileScopePattern, patternsOverlap, type ScopePattern } from './overlap.ts';

// Comparing every entry with every other is O(n²): 4.9 s at 1,000 tasks already (bench/RESULTS.md).
// Two entries can only share a path when one's static base is a segment-wise prefix of the
// other's, so entries are filed in a tree of base folders and each one is compared only with the
// entries filed at its own folder or above it: a handful per entry in a real repository.

export class ScopeIndex {
  readonly patterns: ScopePattern[] = [];
  private readonly idByEntry = new Map<string, number>();
  /** Folder tree of static bases: node 0 is the repository root (""). */
  private readonly nodeByBase = new Map<string, number>([['', 0]]);
  private readonly parentOf: number[] = [-1];
  private readonly idsAt: Array<number[] | undefined> = [undefined];
  private readonly nodeOfPattern: number[] = [];

  /** Files an entry once (duplicates share one id) and returns its id. */
  add(rawEntry: string): number {
    const existing = this.idByEntry.get(rawEntry);
    if (existing !== undefined) return existing;
    const normalized = normalizeScopeEntry(rawEntry);
    let id = normalized === rawEntry ? undefined : this.idByEntry.get(normalized);
    if (id === undefined) {
      const pattern = compileScopePattern(normalized);
      id = this.patterns.length;
      this.patterns.push(pattern);
      this.idByEntry.set(normalized, id);
      const node = this.nodeFor(pattern.base);
      this.nodeOfPattern.push(node);
      const here = this.idsAt[node];
      if (here) here.push(id);
      else this.idsAt[node] = [id];
    }
    if (rawEntry !== normalized) this.idByEntry.set(rawEntry, id);
    return id;
  }

  private nodeFor(base: string): number {
    const known = this.nodeByBase.get(base);
    if (known !== undefined) return known;
    const slash = base.lastIndexOf('/');
    const parent = this.nodeFor(slash < 0 ? '' : base.slice(0, slash));
    const node = this.parentOf.length;
    this.parentOf.push(parent);
    this.idsAt.push(undefined);
    this.nodeByBase.set(base, node);
    return node;
  }

  /** Calls `visit` once for every unordered pair of distinct entries that can share a path. */
  forEachOverlap(visit: (a: number, b: number) => void): void {
    const { patterns, parentOf, idsAt } = this;
    for (let id = 0; id < patterns.length; id++) {
      const pattern = patterns[id]!;
      const home = this.nodeOfPattern[id]!;
      for (let node = home; node >= 0; node = parentOf[node]!) {
        const candidates = idsAt[node];
        if (!candidates) continue;
        for (const other of candidates) {
          // At its own folder, visit each pair once (from its later member). Above it, always:
          // an entry never looks downwards.
          if (node === home && other >= id) break;
          if (patternsOverlap(patterns[other]!, pattern)) visit(other, id);
        }
      }
    }
  }
}
