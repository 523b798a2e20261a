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

export class EdgeSet {
  readonly from: number[] = [];
  readonly to: number[] = [];
  readonly reasons: number[] = [];
  readonly files: Array<string[] | undefined> = [];
  private readonly indexByPair = new Map<number, number>();
  private readonly taskCount: number;

  constructor(taskCount: number) {
    this.taskCount = taskCount;
  }

  get size(): number {
    return this.from.length;
  }

  add(from: number, to: number, reason: number, file?: string): void {
    const key = from * this.taskCount + to;
    let index = this.indexByPair.get(key);
    if (index === undefined) {
      index = this.from.length;
      this.indexByPair.set(key, index);
      this.from.push(from);
      this.to.push(to);
      this.reasons.push(reason);
      this.files.push(file === undefined ? undefined : [file]);
      return;
    }
    this.reasons[index]! |= reason;
    if (file === undefined) return;
    const files = this.files[index];
    if (!files) this.files[index] = [file];
    else if (files.length < MAX_FILES_PER_EDGE && !files.includes(file)) files.push(file);
  }
}
