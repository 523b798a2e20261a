import { appendFileSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { TaskEvent } from './types.ts';

// The journal is append-only JSON lines. Each event is one write() on an O_APPEND descriptor,
// which local filesystems apply atomically for lines this small, so concurrent writers never
// interleave inside a line.

export function formatEvent(event: Omit<TaskEvent, 'ts'>): string {
  return `${JSON.stringify({ ts: new Date().toISOString(), ...event })}\n`;
}

export function appendEvent(path: string, event: Omit<TaskEvent, 'ts'>): void {
  appendFileSync(path, formatEvent(event));
}

/** A journal kept open by a long-lived process (the runner, a benchmark): one write per event. */
export class EventJournal {
  private fd: number | undefined;
  private readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  append(event: Omit<TaskEvent, 'ts'>): void {
    this.fd ??= openSync(this.path, 'a');
    writeSync(this.fd, formatEvent(event));
  }
}

export function readEvents(path: string): TaskEvent[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const events: TaskEvent[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      events.push(JSON.parse(line) as TaskEvent);
    } catch {
      // A torn final line (crash mid-append) is skipped rather than failing the whole journal.
    }
  }
  return events;
}
