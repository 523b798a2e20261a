// Additive-increase / multiplicative-decrease concurrency, as TCP does for congestion: a provider
// that answers 429/529 is saying "fewer at once", so halve the number of agents allowed to start
// and pause starts for a jittered, growing delay (agents that were throttled together must not
// all retry together); every `limit` successes in a row earn one more slot back, up to the
// configured number of agents. A rate limit is never a task failure: the attempt is released
// without counting, and finished work is kept.

export interface ConcurrencyOptions {
  max: number;
  min?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Injected for tests: returns [0, 1). */
  random?: () => number;
}

export interface RateLimitDecision {
  limit: number;
  delayMs: number;
  resumeAt: number;
}

export class ConcurrencyController {
  readonly max: number;
  readonly min: number;
  private current: number;
  private pausedUntil = 0;
  private consecutiveLimits = 0;
  private successesAtLimit = 0;
  private lowest: number;
  private limitedCount = 0;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly random: () => number;

  constructor(options: ConcurrencyOptions) {
    this.max = Math.max(1, options.max);
    this.min = Math.min(this.max, Math.max(1, options.min ?? 1));
    this.current = this.max;
    this.lowest = this.max;
    this.baseDelayMs = options.baseDelayMs ?? 2000;
    this.maxDelayMs = options.maxDelayMs ?? 60_000;
    this.random = options.random ?? Math.random;
  }

  get limit(): number {
    return this.current;
  }

  /** The smallest limit reached during the run (shows in the report that it slowed down). */
  get lowestLimit(): number {
    return this.lowest;
  }

  get rateLimitedCount(): number {
    return this.limitedCount;
  }

  /** May one more agent start now, with `running` already running? */
  canStart(running: number, now: number): boolean {
    return now >= this.pausedUntil && running < this.current;
  }

  /** Milliseconds until starts are allowed again (0 when not paused). */
  pauseRemaining(now: number): number {
    return Math.max(0, this.pausedUntil - now);
  }

  onRateLimited(now: number): RateLimitDecision {
    this.limitedCount++;
    this.consecutiveLimits++;
    this.successesAtLimit = 0;
    this.current = Math.max(this.min, Math.floor(this.current / 2));
    this.lowest = Math.min(this.lowest, this.current);
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (this.consecutiveLimits - 1));
    // "Equal jitter": at least half the backoff, so a storm cannot retry immediately.
    const delayMs = Math.round(ceiling / 2 + (ceiling / 2) * this.random());
    this.pausedUntil = Math.max(this.pausedUntil, now + delayMs);
    return { limit: this.current, delayMs, resumeAt: this.pausedUntil };
  }

  onSuccess(): void {
    this.consecutiveLimits = 0;
    if (this.current >= this.max) return;
    this.successesAtLimit++;
    if (this.successesAtLimit >= this.current) {
      this.current++;
      this.successesAtLimit = 0;
    }
  }
}
