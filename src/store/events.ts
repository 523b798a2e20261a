import { appendFileSync, readFileSync } from 'node:fs';
import type { TaskEvent } from './types.ts';

// The journal is append-only JSON lines. Each event is one write() on an O_APPEND descriptor,
// which local filesystems apply atomically for lines this small, so concurrent writers never
// interleave inside a line.

export function appendEvent(path: string, event: Omit<TaskEvent, 'ts'>): void {
  const line = `${JSON.stringify({ ts: new Date().toISOString(), ...event })}\n`;
  appendFileSync(path, line);
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
