import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-dir.ts';
import { idsByState, openTestStore, raceWorkers, seedTasks } from '../helpers/store-fixtures.ts';
import { NODE_FS } from '../../src/fs/fs-port.ts';
import { readEvents as readJournal } from '../../src/store/local/journal.ts';
import { hookedFs } from '../helpers/fault-fs.ts';

const readEvents = (path: string) => readJournal(NODE_FS, path);

function countLines(logs: string[], kind: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const log of logs) {
    for (const line of log.split('\n')) {
      const [event, id] = line.split(' ');
      if (event === kind && id) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  return counts;
}

describe('claim race through the library API', () => {
  // Two rounds: a race that passes once by luck should not pass twice.
  for (const round of [1, 2]) {
    it(`16 processes claim and complete 600 tasks: each exactly once (round ${round})`, async () => {
      const dir = tempDir();
      const store = await openTestStore(join(dir, '_tasks'));
      const ids = await seedTasks(store, 600);
      const logs = Array.from({ length: 16 }, (_, i) => join(dir, `worker-${i}.log`));
      const exits = await raceWorkers(16, (i) => [store.dir, `agent-${i}`, logs[i]!]);
      expect(exits.every((exit) => exit.code === 0)).toBe(true);

      const texts = logs.map((log) => { try { return readFileSync(log, 'utf8'); } catch { return ''; } });
      const claims = countLines(texts, 'claim');
      const completes = countLines(texts, 'complete');
      expect([...claims.values()].every((n) => n === 1)).toBe(true);
      expect([...completes.keys()].sort()).toStrictEqual(ids);
      expect([...completes.values()].every((n) => n === 1)).toBe(true);

      const { byState, duplicates, leftovers } = idsByState(store.dir);
      expect(byState.completed!.sort()).toStrictEqual(ids);
      expect(byState.available).toStrictEqual([]);
      expect(byState.claimed).toStrictEqual([]);
      expect(duplicates).toStrictEqual([]);
      expect(leftovers).toStrictEqual([]);

      const events = readEvents(store.eventsPath);
      expect(events.filter((event) => event.event === 'claim')).toHaveLength(600);
      expect(events.filter((event) => event.event === 'complete')).toHaveLength(600);
      // Spread: more than one contender actually won work.
      expect(texts.filter((text) => text.includes('complete')).length).toBeGreaterThan(1);
    });
  }

  it('8 recoverers racing over the same stale claims: each claim is recovered exactly once', async () => {
    const dir = tempDir();
    const store = await openTestStore(join(dir, '_tasks'));
    await seedTasks(store, 20);
    for (let i = 0; i < 20; i++) await store.claim({ agent: `holder-${i}` });
    const logs = Array.from({ length: 8 }, (_, i) => join(dir, `recover-${i}.log`));
    const exits = await raceWorkers(8, (i) => [store.dir, `r${i}`, logs[i]!], { WORKER_MODE: 'recover' });
    expect(exits.every((exit) => exit.code === 0)).toBe(true);
    const texts = logs.map((log) => { try { return readFileSync(log, 'utf8'); } catch { return ''; } });
    const recovered = countLines(texts, 'recovered');
    expect(recovered.size).toBe(20);
    expect([...recovered.values()].every((n) => n === 1)).toBe(true);
    const { tasks } = await store.list();
    expect(tasks.every((task) => task.state === 'failed' && task.attempts === 1)).toBe(true);
    expect(readEvents(store.eventsPath).filter((event) => event.event === 'recover')).toHaveLength(20);
  });

  it('8 processes claiming and failing 4 tasks in a loop never see two holders of one task', async () => {
    const dir = tempDir();
    const store = await openTestStore(join(dir, '_tasks'));
    await seedTasks(store, 4, { maxAttempts: 100 });
    const logs = Array.from({ length: 8 }, (_, i) => join(dir, `cycle-${i}.log`));
    const exits = await raceWorkers(8, (i) => [store.dir, `c${i}`, logs[i]!], { WORKER_MODE: 'claim-fail', ROUNDS: '60' });
    expect(exits.every((exit) => exit.code === 0)).toBe(true);
    const text = logs.map((log) => { try { return readFileSync(log, 'utf8'); } catch { return ''; } }).join('');
    expect(text.split('\n').filter((line) => line.startsWith('double'))).toStrictEqual([]);
    expect(text.split('\n').filter((line) => line.startsWith('cycle')).length).toBeGreaterThan(50);
    const { byState, duplicates, leftovers } = idsByState(store.dir);
    expect(duplicates).toStrictEqual([]);
    expect(leftovers).toStrictEqual([]);
    expect(byState.failed!.length + byState.blocked!.length).toBe(4);
  });

  it('a claimer racing a fail mid-move finds the task neither claimable twice nor gone', async () => {
    const dir = tempDir();
    let midMove: () => void = () => {};
    // Bob claims right after Alice's ownership rename, before her new content is installed.
    const alice = await openTestStore(join(dir, '_tasks'), hookedFs((call) => {
      if (call.name === 'existsSync' && call.target.endsWith('.md') && !call.target.includes('.moving~')) midMove();
    }));
    await seedTasks(alice, 1, { maxAttempts: 5 });
    const bob = await openTestStore(alice.dir);
    const { task, token } = await alice.claim({ agent: 'alice' });
    let seenByBob: string | undefined;
    let fired = false;
    midMove = () => {
      if (fired || !idsByState(alice.dir).leftovers.some((name) => name.includes('.moving~'))) return;
      fired = true;
      // LocalStore's work is synchronous: the claim has run once this call returns.
      bob.claim({ agent: 'bob' }).then(() => (seenByBob = 'claimed'), (error: { code?: string }) => (seenByBob = error.code));
    };
    await alice.fail({ agent: 'alice', task: task.id, token, reason: 'boom' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(fired).toBe(true);
    // Mid-move the task is not claimable, and yet work remains (exit 3, not "no work left").
    expect(seenByBob).toBe('E_NOTHING_CLAIMABLE');
    const carol = await openTestStore(alice.dir);
    expect((await carol.claim({ agent: 'carol' })).task).toMatchObject({ id: task.id, attempts: 1 });
    expect(idsByState(alice.dir).byState.claimed).toStrictEqual([task.id]);
  });
});
