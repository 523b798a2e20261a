import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-dir.ts';
import { fixturePath } from '../helpers/paths.ts';
import { idsByState, openTestStore, raceWorkers, seedTasks } from '../helpers/store-fixtures.ts';

const CRASH_STEPS = ['claim:renamed', 'claim:recorded', 'transition:pending-written', 'transition:moved', 'transition:installed'];

async function finishAll(dir: string, log: string): Promise<void> {
  const [exit] = await raceWorkers(1, () => [dir, 'finisher', log]);
  expect(exit!.code).toBe(0);
}

describe('kill -9 of a holder at every step of claim and complete', () => {
  for (const step of CRASH_STEPS) {
    it(`crash at ${step}: recover leaves every id in one state and nothing lost`, async () => {
      const dir = tempDir();
      const store = openTestStore(join(dir, '_tasks'));
      const ids = seedTasks(store, 5);
      const [exit] = await raceWorkers(1, () => [store.dir, 'victim', join(dir, 'victim.log')], { CRASH_AT: step });
      expect(exit!.signal).toBe('SIGKILL');

      const report = store.recoverSync({ staleAfterMs: 30 * 60_000 });
      const after = idsByState(store.dir);
      expect(after.duplicates).toStrictEqual([]);
      expect(after.leftovers).toStrictEqual([]);
      expect(after.byState.claimed).toStrictEqual([]);
      expect(Object.values(after.byState).flat().sort()).toStrictEqual(ids);
      if (step.startsWith('claim:')) {
        // The dead holder's claim went back as a failed attempt: its process is gone.
        expect(report.recovered.map((item) => item.agent)).toStrictEqual(['victim']);
      } else {
        // The completion either happened whole (with its evidence) or not at all.
        for (const id of after.byState.completed!) expect(store.get(id)!.commit).toBe('abcdef0');
      }

      await finishAll(store.dir, join(dir, 'finisher.log'));
      const final = idsByState(store.dir);
      expect(final.byState.completed!.sort()).toStrictEqual(ids);
      expect(final.duplicates).toStrictEqual([]);
      for (const id of ids) expect(store.get(id)!.commit).toBe('abcdef0');
    });
  }

  it('random kill -9 of busy workers, five times over: nothing lost, nothing held twice', async () => {
    const dir = tempDir();
    const store = openTestStore(join(dir, '_tasks'));
    // Five kills may hit the same task twice: allow enough attempts that none ends up blocked.
    const ids = seedTasks(store, 300, { maxAttempts: 10 });
    for (let round = 0; round < 5; round++) {
      const log = join(dir, `round-${round}.log`);
      const child = fork(fixturePath('store-worker'), [store.dir, `w${round}`, log], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      await new Promise<void>((resolve) => child.once('message', () => resolve()));
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send('go');
      // Kill it mid-stream: once it has made some progress (read from its own log), not after a fixed delay.
      await new Promise<void>((resolve) => {
        const check = (): void => {
          let lines = 0;
          try { lines = readFileSync(log, 'utf8').split('\n').length; } catch { /* not yet */ }
          if (lines > 10 + round * 7) resolve();
          else setImmediate(check);
        };
        check();
      });
      child.kill('SIGKILL');
      await exited;
      store.recoverSync({ staleAfterMs: 30 * 60_000 });
      const state = idsByState(store.dir);
      expect(state.duplicates).toStrictEqual([]);
      expect(state.leftovers).toStrictEqual([]);
      expect(Object.values(state.byState).flat().sort()).toStrictEqual(ids);
    }
    await finishAll(store.dir, join(dir, 'finisher.log'));
    expect(idsByState(store.dir).byState.completed!.sort()).toStrictEqual(ids);
  });
});
