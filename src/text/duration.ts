// Durations as people write them ("500ms", "90s", "20m", "1.5h") and as we print them, in one
// place: flags, plan estimates, lease ages and reports all read and write the same forms.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;

/**
 * Milliseconds, or undefined when the text is not a duration. A bare number means seconds unless
 * `unitRequired` (plan estimates must say what they mean).
 */
export function parseDuration(text: string, options: { unitRequired?: boolean } = {}): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match || (options.unitRequired && match[2] === undefined)) return undefined;
  return Math.round(Number(match[1]) * UNIT_MS[match[2] ?? 's']!);
}

/** 5400000 -> "1h30m"; 45000 -> "45s"; 250 -> "250ms"; keeps at most two units. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const totalSeconds = Math.round(ms / 1000);
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  if (hours > 0) return minutes > 0 ? `${hours}h${minutes}m` : `${hours}h`;
  if (minutes > 0) return seconds > 0 ? `${minutes}m${seconds}s` : `${minutes}m`;
  return `${seconds}s`;
}

/** The longest delay a Node timer holds: past it Node warns and fires after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A delay for setTimeout/setInterval: a longer one (or Infinity) waits as long as a timer can. */
export function timerDelay(ms: number): number {
  return Math.min(ms, MAX_TIMER_MS);
}
