import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fork } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-dir.ts';
import { fixturePath } from '../helpers/paths.ts';
import { idsByState, openTestStore, raceWorkers, seedTasks } from '../helpers/store-fixtures.ts';

async function finishAll(dir: string, log: string): Promise<void> {
  const [exit] = await raceWorkers(1, () => [dir, 'finisher', log]);
  expect(exit!.code).toBe(0);
}

/** How many filesystem calls one claim and one complete make, from a traced run of the worker. */
async function countCalls(): Promise<Record<'claim' | 'complete', number>> {
  const dir = tempDir();
  const store = await openTestStore(join(dir, '_tasks'));
  await seedTasks(store, 1);
  const log = join(dir, 'trace.log');
  const [exit] = await raceWorkers(1, () => [store.dir, 'tracer', log], { TRACE: '1' });
  expect(exit!.code).toBe(0);
  const counts = { claim: 0, complete: 0 };
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const [kind, op, n] = line.split(' ');
    if (kind === 'trace' && (op === 'claim' || op === 'complete')) counts[op] = Math.max(counts[op], Number(n));
  }
  return counts;
}

describe('kill -9 of a holder at every filesystem call of claim and complete', () => {
  it('dies at each call in turn; recover leaves every id in one state, nothing lost, evidence whole', async () => {
    const counts = await countCalls();
    // Enumerated, not listed by hand: a call added to either operation is attacked too.
    expect(counts.claim).toBeGreaterThan(3);
    expect(counts.complete).toBeGreaterThan(3);
    const cases = [...Array.from({ length: counts.claim }, (_, i) => `claim:${i + 1}`), ...Array.from({ length: counts.complete }, (_, i) => `complete:${i + 1}`)];
    for (const crashAt of cases) {
      const dir = tempDir();
      const store = await openTestStore(join(dir, '_tasks'));
      const ids = await seedTasks(store, 3);
      const [exit] = await raceWorkers(1, () => [store.dir, 'victim', join(dir, 'victim.log')], { CRASH_AT: crashAt });
      expect(exit!.signal, crashAt).toBe('SIGKILL');

      await store.recover({ staleAfterMs: 30 * 60_000 });
      const after = idsByState(store.dir);
      expect(after.duplicates, crashAt).toStrictEqual([]);
      expect(after.leftovers, crashAt).toStrictEqual([]);
      // The victim's process is gone, so its claim went back at once.
      expect(after.byState.claimed, crashAt).toStrictEqual([]);
      expect(Object.values(after.byState).flat().sort(), crashAt).toStrictEqual(ids);
      // A completion happened whole (with its evidence) or not at all.
      for (const id of after.byState.completed!) expect((await store.get(id))!.commit, crashAt).toBe('abcdef0');

      await finishAll(store.dir, join(dir, 'finisher.log'));
      const final = idsByState(store.dir);
      expect(final.byState.completed!.sort(), crashAt).toStrictEqual(ids);
      expect(final.duplicates, crashAt).toStrictEqual([]);
      for (const id of ids) expect((await store.get(id))!.commit, crashAt).toBe('abcdef0');
      // The journal agrees with the files once recover has run (a kill can fall between them).
      const report = await store.recover({ staleAfterMs: 30 * 60_000 });
      expect(report.reconciled, crashAt).toStrictEqual([]);
    }
  });

  it('random kill -9 of busy workers, five times over: nothing lost, nothing held twice', async () => {
    const dir = tempDir();
    const store = await openTestStore(join(dir, '_tasks'));
    // Five kills may hit the same task twice: allow enough attempts that none ends up blocked.
    const ids = await seedTasks(store, 300, { maxAttempts: 10 });
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
      await store.recover({ staleAfterMs: 30 * 60_000 });
      const state = idsByState(store.dir);
      expect(state.duplicates).toStrictEqual([]);
      expect(state.leftovers).toStrictEqual([]);
      expect(Object.values(state.byState).flat().sort()).toStrictEqual(ids);
    }
    await finishAll(store.dir, join(dir, 'finisher.log'));
    expect(idsByState(store.dir).byState.completed!.sort()).toStrictEqual(ids);
  });
});
