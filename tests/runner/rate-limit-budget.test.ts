import { describe, expect, it } from 'vitest';
import { ConcurrencyController } from '../../src/runner/rate-limit.ts';
import { Budget } from '../../src/runner/budget.ts';

describe('ConcurrencyController', () => {
  it('halves the limit on a rate limit, pauses with jitter, and earns slots back on success', () => {
    const control = new ConcurrencyController({ max: 8, baseDelayMs: 1000, random: () => 0.5 });
    expect(control.canStart(7, 0)).toBe(true);
    const first = control.onRateLimited(0);
    expect(first).toEqual({ limit: 4, delayMs: 750, resumeAt: 750 });
    expect(control.canStart(0, 500)).toBe(false);
    expect(control.canStart(3, 750)).toBe(true);
    expect(control.canStart(4, 750)).toBe(false);
    const second = control.onRateLimited(800);
    expect(second.limit).toBe(2);
    expect(second.delayMs).toBe(1500);
    control.onRateLimited(900);
    control.onRateLimited(1000);
    expect(control.limit).toBe(1);
    expect(control.lowestLimit).toBe(1);
    // Additive increase: one slot back per `limit` successes in a row.
    control.onSuccess();
    expect(control.limit).toBe(2);
    control.onSuccess();
    expect(control.limit).toBe(2);
    control.onSuccess();
    expect(control.limit).toBe(3);
    for (let index = 0; index < 30; index++) control.onSuccess();
    expect(control.limit).toBe(8);
    expect(control.rateLimitedCount).toBe(4);
  });

  it('caps the backoff and keeps jitter within [half, full] of it', () => {
    const low = new ConcurrencyController({ max: 2, baseDelayMs: 1000, maxDelayMs: 4000, random: () => 0 });
    const high = new ConcurrencyController({ max: 2, baseDelayMs: 1000, maxDelayMs: 4000, random: () => 0.999 });
    let lowDelay = 0;
    let highDelay = 0;
    for (let index = 0; index < 10; index++) {
      lowDelay = low.onRateLimited(0).delayMs;
      highDelay = high.onRateLimited(0).delayMs;
    }
    expect(lowDelay).toBe(2000);
    expect(highDelay).toBe(3998);
    expect(low.limit).toBe(1);
  });
});

describe('Budget', () => {
  it('stops starting attempts when the next one would pass the limit', () => {
    const budget = new Budget(1.0);
    expect(budget.allowsStart()).toBe(true);
    budget.record(0.3);
    expect(budget.allowsStart()).toBe(true);
    budget.record(0.3);
    // spent 0.6 + expected 0.3 = 0.9 <= 1.0
    expect(budget.allowsStart()).toBe(true);
    budget.record(0.3);
    // 0.9 + 0.3 > 1.0
    expect(budget.allowsStart()).toBe(false);
    expect(budget.exhausted).toBe(true);
    expect(budget.spentUsd).toBeCloseTo(0.9);
  });

  it('never stops without a limit', () => {
    const budget = new Budget(undefined);
    budget.record(1000);
    expect(budget.allowsStart()).toBe(true);
  });
});
