import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../fs/atomic-write.ts';
import type { StoreClock } from './clock.ts';

// "How long has this claim shown no sign of life?", answered without anyone's timestamp: this
// machine notes, on its monotonic clock, when it first saw each value of a claimed task's ref.
// Every sign of life (a heartbeat) is a new commit, so a new value; a value seen unchanged for the
// lease is silent for at least that long, because refs only move forward: the value was current
// when first seen and is still current when a recover's compare-and-swap on it succeeds.
//
// The notes are kept in one file per remote, so they survive between CLI calls, and tagged with
// the boot id, because monotonic time restarts at a reboot. Concurrent writers may lose each
// other's notes; a lost note is taken again later, which only ever delays a recovery.

interface NotesFile {
  boot: string;
  /** key (a commit id, or "lease:<lease>") -> monotonic ms when first seen. */
  seen: Record<string, number>;
}

export class Observations {
  private readonly path: string;
  private readonly clock: StoreClock;

  constructor(path: string, clock: StoreClock) {
    this.path = path;
    this.clock = clock;
  }

  private read(): NotesFile {
    const boot = this.clock.bootId();
    try {
      const parsed = JSON.parse(readFileSync(this.path, 'utf8')) as NotesFile;
      if (parsed && parsed.boot === boot && typeof parsed.seen === 'object' && parsed.seen !== null) return parsed;
    } catch {
      // Missing or torn: start again (later first sightings are always safe).
    }
    return { boot, seen: {} };
  }

  /**
   * Notes keys this machine has just made current (its own pushes landed) at the current monotonic
   * time, keeping every other note: a value this machine wrote needs no later look to be dated,
   * and a later look would date it late. Called after the push answered, so never too early.
   * Returns when each key was first seen.
   */
  note(keys: readonly string[]): Map<string, number> {
    const now = this.clock.monotonic();
    const notes = this.read();
    const first = new Map<string, number>();
    let changed = false;
    for (const key of keys) {
      const seen = notes.seen[key];
      if (typeof seen === 'number' && seen <= now) {
        first.set(key, seen);
        continue;
      }
      notes.seen[key] = now;
      first.set(key, now);
      changed = true;
    }
    if (changed) this.write(notes);
    return first;
  }

  private write(notes: NotesFile): void {
    try {
      writeFileAtomic(this.path, `${JSON.stringify(notes)}\n`);
    } catch {
      // A note not written is taken again at the next look: recovery only comes later.
    }
  }

  /**
   * Notes every key not seen before at the current monotonic time and forgets keys no longer
   * current; returns when each key was first seen. Call it with every claimed value of a
   * snapshot, taken after the snapshot was read.
   */
  observe(keys: Iterable<string>): Map<string, number> {
    const now = this.clock.monotonic();
    const notes = this.read();
    const current = new Map<string, number>();
    let changed = false;
    for (const key of keys) {
      const first = notes.seen[key];
      if (typeof first === 'number' && first <= now) current.set(key, first);
      else {
        current.set(key, now);
        changed = true;
      }
    }
    if (Object.keys(notes.seen).length !== current.size) changed = true;
    if (changed) this.write({ boot: notes.boot, seen: Object.fromEntries(current) });
    return current;
  }
}
