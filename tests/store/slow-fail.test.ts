import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../helpers/paths.ts';
import { openTestStore } from '../helpers/store-fixtures.ts';
import { AgentProcess, makeFifo, readRecords, releaseFifo } from './agent-process.ts';
import type { AgentRecord, AgentStep } from './agent-protocol.ts';
import { caseRoot } from './fault-cases.ts';
import { addRecords, drainViolations, ledgerFromStore, storeViolations, viewStore } from './invariants.ts';

// Issue 9, item 1, through the library: a fail stalled right after it installed failed/t0.md (its
// moving file not yet deleted), then claim, recover, claim from other processes. Once with the
// slow process alive (then let go), once with it killed at that moment, and once with the
// recoverer's lease already expired, so it takes the new holder's claim while the move is open.

const AGENT = fixturePath('store-agent');
let others: AgentProcess[];

beforeAll(async () => {
  others = await Promise.all(Array.from({ length: 3 }, () => AgentProcess.start(AGENT)));
});
afterAll(async () => {
  await Promise.all(others.map((agent) => agent.stop()));
});

const outcome = (records: AgentRecord[], op: string): AgentRecord => records.filter((record) => record.op === op && !record.begin).at(-1)!;

for (const fate of ['let go', 'killed', 'let go, recover at an expired lease'] as const) {
  describe(`a fail stalled between installing the new content and deleting its moving file (${fate})`, () => {
    it('claim, recover, claim: one holder, attempts counted once, nothing resurrected', async () => {
      const root = caseRoot();
      const store = await openTestStore(join(root, '_tasks'));
      await store.add([{ id: 't0', title: 'slow', max_attempts: 5 }]);
      const ledger = await ledgerFromStore(store);
      const slow = await AgentProcess.start(AGENT);
      const steps: AgentStep[] = [{ op: 'claim', agent: 'alice' }, { op: 'fail', agent: 'alice', task: 't0', label: 'fail' }];
      // The moment, from a traced fail on a twin store: the call after the install, on the moving file.
      const probe = await openTestStore(join(root, 'probe'));
      await probe.add([{ id: 't0', title: 'slow', max_attempts: 5 }]);
      const trace = await slow.run(probe.dir, join(root, 'probe.log'), steps, { kind: 'trace', label: '', n: 0 });
      const calls = trace.filter((record) => record.op === 'trace' && record.label === 'fail');
      const install = calls.findIndex((call) => call.call === 'renameSync' && call.target!.includes('.pending~'));
      expect(calls[install + 1]).toMatchObject({ call: 'unlinkSync', target: expect.stringContaining('.moving~') });
      addRecords(ledger, await slow.run(store.dir, join(root, 'claim.log'), steps.slice(0, 1)), 'alice');
      const fifo = makeFifo(join(root, 'stall.fifo'));
      slow.send(store.dir, join(root, 'alice.log'), steps.slice(1), { kind: fate === 'killed' ? 'kill' : 'stall', label: 'fail', n: install + 2, fifo });
      const stopped = await slow.next();
      expect(stopped.kind).toBe(fate === 'killed' ? 'exit' : 'stall');
      expect(viewStore(store.dir).byState.failed).toStrictEqual(['t0']);

      const [bob, recoverer, carol] = others as [AgentProcess, AgentProcess, AgentProcess];
      const log = (name: string) => join(root, `${name}.log`);
      const b = await bob.run(store.dir, log('bob'), [{ op: 'claim', agent: 'bob' }]);
      expect(outcome(b, 'claim')).toMatchObject({ ok: true, id: 't0', attempts: 1 });
      const expired = fate === 'let go, recover at an expired lease';
      const r = await recoverer.run(store.dir, log('recoverer'), [{ op: 'recover', staleAfterMs: expired ? -1 : 30 * 60_000 }]);
      // Alive, the slow process's move is left alone; killed, its moving file is only deleted.
      expect(outcome(r, 'recover').recovered).toStrictEqual(expired ? ['t0'] : []);
      const c = await carol.run(store.dir, log('carol'), [{ op: 'claim', agent: 'carol' }]);
      if (expired) expect(outcome(c, 'claim')).toMatchObject({ ok: true, id: 't0', attempts: 2 });
      else expect(outcome(c, 'claim')).toMatchObject({ ok: false, code: 'E_NOTHING_CLAIMABLE' });
      expect(viewStore(store.dir).byState.claimed, 'one holder').toStrictEqual(['t0']);

      if (fate !== 'killed') {
        await releaseFifo(fifo);
        expect((await slow.next()).kind).toBe('done');
      }
      expect(viewStore(store.dir).byState.claimed, 'one holder').toStrictEqual(['t0']);
      const holder = expired ? carol : bob;
      const finish = await holder.run(store.dir, log('finish'), [{ op: 'complete', agent: expired ? 'carol' : 'bob', task: 't0' }, { op: 'complete-again', agent: expired ? 'carol' : 'bob', task: 't0' }]);
      for (const records of [readRecords(join(root, 'alice.log')), b, r, c, finish]) addRecords(ledger, records, 'agents');
      await slow.stop();
      await store.recover({ staleAfterMs: 30 * 60_000 });
      expect([...(await storeViolations(store, ledger)), ...(await drainViolations(store))]).toStrictEqual([]);
      expect(await store.get('t0')).toMatchObject({ state: 'completed', attempts: expired ? 2 : 1 });
    });
  });
}
