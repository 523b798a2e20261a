// Task-to-task ordering edges, deduplicated: a pair linked for several reasons is one edge that
// remembers every reason. Plain arrays indexed by edge number keep 100,000-task plans cheap.

/** `to` depends_on `from`. */
export const BY_DEPENDS_ON = 1;
/** Both write an overlapping scope. */
export const BY_SCOPE = 2;
/** `to` reads what `from` writes. */
export const BY_READ_AFTER_WRITE = 4;
/** `from` reads what `to` writes, and comes first in plan order. */
export const BY_WRITE_AFTER_READ = 8;

// A shared entry such as package.json can link thousands of pairs; a few examples say enough.
const MAX_FILES_PER_EDGE = 5;

// Edges live in flat typed arrays with an open-addressing hash on (from, to): a million edges
// cost a few tens of megabytes and no per-edge objects for the garbage collector to walk.
export class EdgeSet {
  from = new Int32Array(1024);
  to = new Int32Array(1024);
  reasons = new Uint8Array(1024);
  private used = 0;
  /** One shared file is the common case: kept as a bare string until a second one arrives. */
  private readonly shared: Array<string | string[] | undefined> = [];
  /** Slot -> edge index + 1 (0 = empty). */
  private slots = new Int32Array(2048);

  get size(): number {
    return this.used;
  }

  private static hash(from: number, to: number): number {
    return (Math.imul(from, 0x9e3779b1) ^ Math.imul(to + 0x7f4a7c15, 0x85ebca77)) >>> 0;
  }

  private grow(): void {
    const capacity = this.from.length * 2;
    const from = new Int32Array(capacity);
    from.set(this.from);
    this.from = from;
    const to = new Int32Array(capacity);
    to.set(this.to);
    this.to = to;
    const reasons = new Uint8Array(capacity);
    reasons.set(this.reasons);
    this.reasons = reasons;
    const slots = new Int32Array(capacity * 2);
    const mask = slots.length - 1;
    for (let index = 0; index < this.used; index++) {
      let slot = EdgeSet.hash(this.from[index]!, this.to[index]!) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = index + 1;
    }
    this.slots = slots;
  }

  add(from: number, to: number, reason: number, file?: string): void {
    const slots = this.slots;
    const mask = slots.length - 1;
    let slot = EdgeSet.hash(from, to) & mask;
    for (;;) {
      const stored = slots[slot]!;
      if (stored === 0) break;
      const index = stored - 1;
      if (this.from[index] === from && this.to[index] === to) {
        this.reasons[index]! |= reason;
        if (file !== undefined) this.addFile(index, file);
        return;
      }
      slot = (slot + 1) & mask;
    }
    if (this.used === this.from.length) {
      this.grow();
      this.add(from, to, reason, file);
      return;
    }
    const index = this.used++;
    this.from[index] = from;
    this.to[index] = to;
    this.reasons[index] = reason;
    this.shared[index] = file;
    slots[slot] = index + 1;
  }

  private addFile(index: number, file: string): void {
    const files = this.shared[index];
    if (files === undefined) this.shared[index] = file;
    else if (typeof files === 'string') {
      if (files !== file) this.shared[index] = [files, file];
    } else if (files.length < MAX_FILES_PER_EDGE && !files.includes(file)) files.push(file);
  }

  /** How many edges carry any of the reasons in `mask`. */
  count(mask: number): number {
    let found = 0;
    for (let index = 0; index < this.used; index++) if (this.reasons[index]! & mask) found++;
    return found;
  }

  files(index: number): string[] {
    const files = this.shared[index];
    return files === undefined ? [] : typeof files === 'string' ? [files] : [...files];
  }
}
