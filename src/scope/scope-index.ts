import { normalizeScopeEntry } from './glob.ts';
import { compileScopePattern, patternsOverlap, type ScopePattern } from './overlap.ts';

// Comparing every entry with every other is O(n²): about 67 s for 10,000 tasks (MEASUREMENTS §4).
// Two entries can only share a path when one's static base is a segment-wise prefix of the
// other's, so each entry is compared only with the entries filed under its own base or one of
// its ancestors: a handful per entry in a real repository.

export class ScopeIndex {
  readonly patterns: ScopePattern[] = [];
  private readonly idByEntry = new Map<string, number>();
  private readonly idsByBase = new Map<string, number[]>();

  /** Files an entry once (duplicates share one id) and returns its id. */
  add(rawEntry: string): number {
    const existing = this.idByEntry.get(rawEntry);
    if (existing !== undefined) return existing;
    const normalized = normalizeScopeEntry(rawEntry);
    let id = this.idByEntry.get(normalized);
    if (id === undefined) {
      const pattern = compileScopePattern(normalized);
      id = this.patterns.length;
      this.patterns.push(pattern);
      this.idByEntry.set(normalized, id);
      const siblings = this.idsByBase.get(pattern.base);
      if (siblings) siblings.push(id);
      else this.idsByBase.set(pattern.base, [id]);
    }
    this.idByEntry.set(rawEntry, id);
    return id;
  }

  /** Calls `visit` once for every unordered pair of distinct entries that can share a path. */
  forEachOverlap(visit: (a: number, b: number) => void): void {
    for (let id = 0; id < this.patterns.length; id++) {
      const pattern = this.patterns[id]!;
      for (const prefix of basePrefixes(pattern.base)) {
        const candidates = this.idsByBase.get(prefix);
        if (!candidates) continue;
        const sameBase = prefix === pattern.base;
        for (const other of candidates) {
          // Same base: visit each pair once (from its later member). Ancestors: always, since the
          // ancestor never looks downwards.
          if (sameBase ? other >= id : false) continue;
          if (patternsOverlap(this.patterns[other]!, pattern)) visit(other, id);
        }
      }
    }
  }
}

/** "" then every segment-wise prefix of base, ending with base itself: "a/b" -> "", "a", "a/b". */
function basePrefixes(base: string): string[] {
  const prefixes = [''];
  if (base === '') return prefixes;
  let slash = base.indexOf('/');
  while (slash >= 0) {
    prefixes.push(base.slice(0, slash));
    slash = base.indexOf('/', slash + 1);
  }
  prefixes.push(base);
  return prefixes;
}
