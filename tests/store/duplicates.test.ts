import { copyFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError } from '../../src/errors.ts';
import { claimFileName, formatLease } from '../../src/store/local/names.ts';
import { fixturePath } from '../helpers/paths.ts';
import { openTestStore } from '../helpers/store-fixtures.ts';
import type { AgentRecord } from './agent-protocol.ts';
import { AgentProcess, makeFifo, readRecords, releaseFifo } from './agent-process.ts';
import { viewStore } from './invariants.ts';
import { caseRoot } from './fault-cases.ts';

// A task id filed twice by hand (a copy in another state folder, or two claim files) is ambiguous:
// no claim may ever hand it out, however many claimers race for it, both copies stay where they
// are for a person to resolve (status names them), and recover still does the rest of its work.

const AGENT = fixturePath('store-agent');
let claimers: AgentProcess[];

beforeAll(async () => {
  claimers = await Promise.all(Array.from({ length: 4 }, () => AgentProcess.start(AGENT)));
});
afterAll(async () => {
  await Promise.all(claimers.map((agent) => agent.stop()));
});

type Place = 'available' | 'failed' | 'completed' | 'blocked' | 'claimed';

function handClaim(name: string): string {
  return claimFileName('dup', name, formatLease(Date.now(), '0123456789abcdef'));
}

const COMBINATIONS: { name: string; copies: Place[] }[] = [
  { name: 'available and failed', copies: ['available', 'failed'] },
  { name: 'available and completed', copies: ['available', 'completed'] },
  { name: 'available and blocked', copies: ['available', 'blocked'] },
  { name: 'failed and completed', copies: ['failed', 'completed'] },
  { name: 'failed and blocked', copies: ['failed', 'blocked'] },
  { name: 'available and claimed', copies: ['available', 'claimed'] },
  { name: 'failed and claimed', copies: ['failed', 'claimed'] },
  { name: 'twice in claimed', copies: ['claimed', 'claimed'] },
  { name: 'available and twice in claimed', copies: ['available', 'claimed', 'claimed'] },
];

describe('claim never hands out an id filed twice', () => {
  for (const { name, copies } of COMBINATIONS) {
    it(`${name}: four racing claimers and recover leave both copies, unclaimed`, async () => {
      const root = caseRoot();
      const store = await openTestStore(join(root, '_tasks'));
      await store.add([{ id: 'dup', title: 'filed twice', max_attempts: 5 }, { id: 'other', title: 'a real task', max_attempts: 5 }]);
      const original = join(store.dir, 'available', 'dup.md');
      const filed = copies.map((place, i) => join(place, place === 'claimed' ? handClaim(`hand${i}`) : 'dup.md'));
      for (const path of filed) if (path !== join('available', 'dup.md')) copyFileSync(original, join(store.dir, path));
      if (!filed.includes(join('available', 'dup.md'))) unlinkSync(original);
      const before = filedNames(store.dir);

      const logs = await Promise.all(claimers.map((agent, i) => agent.run(store.dir, join(root, `c${i}.log`), [{ op: 'claim', agent: `c${i}` }, { op: 'claim', agent: `c${i}` }])));
      const won = logs.flat().filter((record: AgentRecord) => !record.begin && record.ok).map((record) => record.id);
      expect(won, 'only the real task is handed out').toStrictEqual(['other']);
      expect(filedNames(store.dir)).toStrictEqual(before);
      await expect(store.claim({ agent: 'me', task: 'dup' })).rejects.toBeInstanceOf(CliError);

      // Taking back every claim, hand-made ones included, must not stop at the ambiguous one.
      const report = await store.recover({ staleAfterMs: -1 });
      expect(report.recovered.map((item) => item.id)).toContain('other');
      expect(filedNames(store.dir)).toHaveLength(copies.length);
      const { problems } = await store.list();
      expect(problems.some((problem) => problem.message.includes('"dup"'))).toBe(true);
      expect(readdirSync(join(store.dir, 'claimed')).filter((file) => !file.startsWith('dup~'))).toStrictEqual([]);
    });
  }
});

/** Where the copies of dup are, by name. */
function filedNames(dir: string): string[] {
  const names: string[] = [];
  for (const state of ['available', 'claimed', 'completed', 'failed', 'blocked']) {
    for (const name of readdirSync(join(dir, state))) if (name.startsWith('dup')) names.push(`${state}/${name}`);
  }
  return names.sort();
}

describe('two adds of one id, with a claim in between', () => {
  for (const op of ['add', 'publish'] as const) {
    it(`${op} stalled right before its link while another ${op} files the id and a claimer takes it: no second copy`, async () => {
      const root = caseRoot();
      const store = await openTestStore(join(root, '_tasks'));
      await store.add([{ id: 'other', title: 'other' }]);
      const plan = join(root, 'plan.json');
      writeFileSync(plan, JSON.stringify({ name: 'twice', tasks: [{ id: 'p0', title: 'p0', files: ['p/**'], prompt: 'do it' }] }));
      const step = op === 'add' ? { op, id: 'p0', label: op } : { op, planFile: plan, label: op };
      const [slow, rival, claimer] = claimers as [AgentProcess, AgentProcess, AgentProcess];
      const probe = await openTestStore(join(root, 'probe'));
      await probe.add([{ id: 'other', title: 'other' }]);
      const trace = await slow.run(probe.dir, join(root, 'trace.log'), [step], { kind: 'trace', label: '', n: 0 });
      const link = trace.filter((record) => record.op === 'trace').findIndex((record) => record.call === 'linkSync') + 1;
      expect(link).toBeGreaterThan(0);

      const fifo = makeFifo(join(root, 'stall.fifo'));
      slow.send(store.dir, join(root, 'slow.log'), [step], { kind: 'stall', label: op, n: link, fifo });
      expect((await slow.next()).kind).toBe('stall');
      const filed = await rival.run(store.dir, join(root, 'rival.log'), [{ ...step, label: undefined }]);
      expect(filed.at(-1)).toMatchObject({ ok: true });
      const claimed = await claimer.run(store.dir, join(root, 'claimer.log'), [{ op: 'claim', agent: 'taker', task: 'p0' }]);
      expect(claimed.at(-1)).toMatchObject({ ok: true, id: 'p0' });
      await releaseFifo(fifo);
      expect((await slow.next()).kind).toBe('done');
      const late = readRecords(join(root, 'slow.log')).at(-1)!;
      // Refused, or (publish) told it was already there; never a second copy.
      if (op === 'add') expect(late).toMatchObject({ ok: false, code: 'E_EXISTS' });
      const view = viewStore(store.dir);
      expect(view.where.get('p0')).toStrictEqual(['claimed']);
      expect(view.leftovers).toStrictEqual([]);
    });
  }
});

describe('an add whose own task moves on before it looks for copies', () => {
  it('stalled right after its link while a claimer takes and completes the task: the add is not refused', async () => {
    const root = caseRoot();
    const store = await openTestStore(join(root, '_tasks'));
    const [slow, claimer] = claimers as [AgentProcess, AgentProcess];
    const probe = await openTestStore(join(root, 'probe'));
    const step = { op: 'add' as const, id: 'n0', label: 'add' };
    const trace = await slow.run(probe.dir, join(root, 'trace.log'), [step], { kind: 'trace', label: '', n: 0 });
    const afterLink = trace.filter((record) => record.op === 'trace').findIndex((record) => record.call === 'linkSync') + 2;
    const fifo = makeFifo(join(root, 'stall.fifo'));
    slow.send(store.dir, join(root, 'slow.log'), [step], { kind: 'stall', label: 'add', n: afterLink, fifo });
    expect((await slow.next()).kind).toBe('stall');
    const done = await claimer.run(store.dir, join(root, 'claimer.log'), [{ op: 'claim', agent: 'fast', task: 'n0' }, { op: 'complete', agent: 'fast', task: 'n0' }]);
    expect(done.at(-1)).toMatchObject({ ok: true, state: 'completed' });
    await releaseFifo(fifo);
    expect((await slow.next()).kind).toBe('done');
    expect(readRecords(join(root, 'slow.log')).at(-1)).toMatchObject({ op: 'add', ok: true, id: 'n0' });
    expect(viewStore(store.dir).where.get('n0')).toStrictEqual(['completed']);
  });
});
