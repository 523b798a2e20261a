import { describe, expect, it } from 'vitest';
import { soak } from '../../bench/soak-engine.ts';
import { fixturePath } from '../helpers/paths.ts';
import { tempDir } from '../helpers/temp-dir.ts';

// The randomized soak of bench/soak-engine.ts at CI's size: ten agent processes (two of them
// recoverers with leases down to zero) on the ordinary disk, killed and stalled at random moments
// from outside (SIGKILL, SIGSTOP/SIGCONT) and right before random filesystem calls from inside,
// every invariant checked after every round. The seed changes every run and is printed on a
// failure (SOAK_SEED=<seed> replays it). `npm run soak` runs it far longer: bench/RESULTS.md.

describe('randomized soak', () => {
  it('kills, stalls and tiny leases over several rounds: every invariant holds after each', { timeout: 180_000 }, async () => {
    const seed = Number(process.env.SOAK_SEED ?? Date.now() % 1e9);
    const result = await soak({
      dir: tempDir(),
      worker: fixturePath('store-agent'),
      churners: 8,
      recoverers: 2,
      rounds: 4,
      ticksPerRound: 50,
      tasks: 40,
      seed,
      killRate: 0.05,
      stallRate: 0.08,
      callKillRate: 0.004,
      callStallRate: 0.006,
    });
    expect(result.violations, `SOAK_SEED=${seed}`).toStrictEqual([]);
    // The chaos happened: enough work, kills and stalls to mean something.
    expect(result.rounds).toBe(4);
    expect(result.begun, `SOAK_SEED=${seed}`).toBeGreaterThan(250);
    expect(result.kills, `SOAK_SEED=${seed}`).toBeGreaterThan(5);
    expect(result.stalls, `SOAK_SEED=${seed}`).toBeGreaterThan(10);
    expect(result.completes, `SOAK_SEED=${seed}`).toBeGreaterThan(20);
  });
});
