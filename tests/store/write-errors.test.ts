import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../helpers/paths.ts';
import { AgentProcess } from './agent-process.ts';
import type { AgentRecord } from './agent-protocol.ts';
import { buildTemplate, caseRoot, prepare, scenarioLedger, traceScenario } from './fault-cases.ts';
import { SCENARIOS } from './fault-scenarios.ts';
import { addRecords, drainViolations, snapshotTasks, storeViolations, viewStore } from './invariants.ts';

// A full disk or a failing device at any one write of any transition: the operation either
// succeeds whole or fails with E_IO (exit 1) naming the file, and then leaves the store exactly as
// it was, with nothing half-written or hidden left behind, claimable as before. The calls are the
// traced ones that change the disk (unlinks excepted: a failed unlink of a temp file is left to
// recover, which the kill cases cover), plus fsync and close, which report a write's failure late.

const AGENT = fixturePath('store-agent');
const FAILING = new Set(['openSync', 'writeSync', 'fsyncSync', 'closeSync', 'renameSync', 'linkSync', 'mkdirSync', 'utimesSync']);
let agent: AgentProcess;

beforeAll(async () => {
  agent = await AgentProcess.start(AGENT);
});
afterAll(async () => {
  await agent.stop();
});

describe('ENOSPC at every write of every transition', () => {
  for (const scenario of SCENARIOS) {
    it(`${scenario.name}: succeeds whole or fails with E_IO leaving the store as it was`, async () => {
      const root = caseRoot();
      const template = await buildTemplate(scenario, root);
      const traced = await traceScenario(agent, scenario, template, join(root, 'trace'));
      for (const label of scenario.labels) {
        const calls = traced.get(label)!;
        for (let n = 1; n <= calls.length; n++) {
          if (!FAILING.has(calls[n - 1]!.call)) continue;
          const where = `ENOSPC at ${label} call ${n} (${calls[n - 1]!.call} ${calls[n - 1]!.target.split('/').slice(-2).join('/')})`;
          const dir = join(root, `${label}-${n}`);
          const store = prepare(template, dir);
          const steps = scenario.steps(dir);
          const at = steps.findIndex((step) => step.label === label);
          const log = join(dir, 'agent.log');
          const ledger = await scenarioLedger(scenario, store, scenario.onFailure === 'grown');
          // One run, as traced; the agent photographs the task files right before the attacked step.
          const records = await agent.run(store.dir, log, [...steps.slice(0, at), { op: 'photo' }, ...steps.slice(at, at + 1)], { kind: 'error', label, n, code: 'ENOSPC' });
          const photo = records.find((record) => record.op === 'photo')!.files!;
          const outcome = records.find((record: AgentRecord) => record.label === label && record.op === steps[at]!.op && !record.begin)!;
          expect(records.find((record) => record.op === 'fault')?.call, where).toBe(calls[n - 1]!.call);
          if (!outcome.ok) {
            expect(outcome.code, `${where}: ${outcome.message}`).toBe('E_IO');
            expect(outcome.message, where).toMatch(/no space left on the disk holding \//);
            const now = snapshotTasks(store.dir);
            if (scenario.onFailure === 'grown') {
              for (const [name, text] of Object.entries(photo)) expect(now[name], `${where}: ${name}`).toBe(text);
              expect(Object.keys(now).filter((name) => !(name in photo) && !/^available\/p\d\.md$/.test(name)), where).toStrictEqual([]);
            } else if (scenario.onFailure !== 'partial') {
              expect(now, where).toStrictEqual(photo);
            }
            if (scenario.onFailure !== 'partial') expect(viewStore(store.dir).leftovers, where).toStrictEqual([]);
          }
          addRecords(ledger, records, 'agent');
          const report = await store.recover({ staleAfterMs: -1 });
          addRecords(ledger, [{ op: 'recover', ok: true, recovered: report.recovered.map((item) => item.id) }], 'final recover');
          // A close or rename failing after the journal line leaves the journal a step ahead until recover.
          const problems = [...(await storeViolations(store, ledger, { journalMayLead: true })), ...(scenario.finish ? await scenario.finish(store, dir) : []), ...(await drainViolations(store))];
          expect(problems, where).toStrictEqual([]);
        }
      }
    });
  }
});

describe('a second fault while the first is rolled back', () => {
  it('the journal write fails and so does renaming the claim back: the move is finished by recover, never lost', async () => {
    const scenario = SCENARIOS.find((item) => item.name === 'fail')!;
    const root = caseRoot();
    const template = await buildTemplate(scenario, root);
    const calls = (await traceScenario(agent, scenario, template, join(root, 'trace'))).get('fail')!;
    const journal = calls.findIndex((call) => call.call === 'openSync' && call.target.endsWith('events.jsonl')) + 1;
    // Off the traced path: the first call after the failed open is the rollback's rename.
    const renameBack = journal + 1;
    expect(calls[journal - 2]!.call).toBe('existsSync');
    const dir = join(root, 'case');
    const store = prepare(template, dir);
    // The writer must be gone for recover to touch its move: a process of its own, which exits.
    const victim = await AgentProcess.start(AGENT);
    const records = await victim.run(store.dir, join(dir, 'victim.log'), scenario.steps(dir), { kind: 'error', label: 'fail', n: journal, code: 'ENOSPC', also: [{ n: renameBack, code: 'EIO' }] });
    await victim.stop();
    const faults = records.filter((record) => record.op === 'fault');
    expect(faults.map((record) => record.call)).toStrictEqual(['openSync', 'renameSync']);
    expect(faults[1]!.target).toContain('.moving~');
    expect(records.find((record) => record.op === 'fail' && !record.begin)).toMatchObject({ ok: false, code: 'E_IO' });
    await store.recover({ staleAfterMs: 30 * 60_000 });
    const t0 = await store.get('t0');
    expect(t0, 't0 is lost').toBeDefined();
    expect(viewStore(store.dir).leftovers).toStrictEqual([]);
    // The holder asked to fail it and was told the disk failed: either outcome counts one attempt.
    expect(t0).toMatchObject({ state: 'failed', attempts: 1 });
  });
});
