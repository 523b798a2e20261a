import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishPlan } from '../../src/plan/publish-plan.ts';
import { loadPlan } from '../../src/plan/load-plan.ts';
import type { LocalStore } from '../../src/store/local/local-store.ts';
import { fixturePath } from '../helpers/paths.ts';
import { AgentProcess } from './agent-process.ts';
import { buildTemplate, caseRoot, runCase, traceScenario, type Actors, type CaseSpec, type TracedCall } from './fault-cases.ts';
import { BODY_9K, SCENARIOS, type Scenario } from './fault-scenarios.ts';

// Issue 9's fault injection: every filesystem call of every transition (claim, heartbeat,
// complete, fail, release, reopen, recover, add, publish), enumerated from a traced run so a call
// added later is attacked too, is the site of a SIGKILL and of a stall (the process blocked in a
// FIFO read) while claimers and recoverers with an already-expired lease work in their own
// processes; afterwards every invariant of tests/store/invariants.ts must hold.

const AGENT = fixturePath('store-agent');
let actors: Actors;
let stalling: AgentProcess;
let spare: Promise<AgentProcess>;

beforeAll(async () => {
  const started = await Promise.all(Array.from({ length: 5 }, () => AgentProcess.start(AGENT)));
  actors = { churners: started.slice(0, 2), recoverers: started.slice(2, 4) };
  stalling = started[4]!;
  spare = AgentProcess.start(AGENT);
});

afterAll(async () => {
  await Promise.all([...actors.churners, ...actors.recoverers, stalling, await spare].map((agent) => agent.stop()));
});

/** A fresh victim for a kill, the next one starting while this case runs. */
async function freshVictim(): Promise<AgentProcess> {
  const victim = await spare;
  spare = AgentProcess.start(AGENT);
  return victim;
}

async function bodiesWhole(store: LocalStore): Promise<string[]> {
  const problems: string[] = [];
  for (const task of (await store.list()).tasks) {
    if ((task.id === 'n0' || task.id === 'p0') && task.body !== BODY_9K) problems.push(`${task.id}: body cut to ${task.body.length} bytes`);
  }
  return problems;
}

/** A publish cut short leaves its tasks in dependency order, and a second publish adds the rest once. */
function republish(dir: string) {
  return async (store: LocalStore): Promise<string[]> => {
    const problems = await bodiesWhole(store);
    const ids = new Set((await store.list()).tasks.map((task) => task.id));
    if (ids.has('p1') && !ids.has('p0')) problems.push('p1 was published before p0, which it depends on');
    await publishPlan(store, await loadPlan(join(dir, 'plan.json')));
    const after = (await store.list()).tasks;
    for (const id of ['p0', 'p1', 'p2']) if (after.filter((task) => task.id === id).length !== 1) problems.push(`${id} is not there once after a second publish`);
    if (!after.find((task) => task.id === 'p1')?.depends_on.includes('p0')) problems.push('p1 lost its dependency on p0');
    return problems;
  };
}

function finishFor(scenario: Scenario, dir: string): Pick<CaseSpec, 'finish' | 'maybe'> {
  if (scenario.name === 'add') return { finish: bodiesWhole, maybe: ['n0'] };
  if (scenario.name === 'publish') return { finish: republish(dir), maybe: ['p0', 'p1', 'p2'] };
  return {};
}

// A kill right before a call that changes nothing on disk (a read, an fsync, a close) leaves the
// same files as a kill right before the next call: the suite kills at every call that changes the
// disk and after the last one; FULL_MATRIX=1 (run by `npm run soak`) kills at every call.
const CHANGES_DISK = new Set(['openSync', 'writeSync', 'renameSync', 'linkSync', 'unlinkSync', 'mkdirSync', 'utimesSync']);

function killWorthRunning(calls: readonly TracedCall[], n: number): boolean {
  return process.env.FULL_MATRIX === '1' || n > calls.length || CHANGES_DISK.has(calls[n - 1]!.call);
}

describe('kill -9 and a stall at every filesystem call of every transition', () => {
  for (const scenario of SCENARIOS) {
    it(`${scenario.name}: invariants hold after each`, { timeout: 300_000 }, async () => {
      const root = caseRoot();
      const template = await buildTemplate(scenario, root);
      const traced = await traceScenario(stalling, scenario, template, join(root, 'trace'));
      let cases = 0;
      for (const label of scenario.labels) {
        const calls = traced.get(label)!;
        // A transition makes several calls; an empty trace would mean the hook lost the port.
        expect(calls.length, label).toBeGreaterThan(3);
        for (let n = 1; n <= calls.length + 1; n++) {
          for (const kind of ['kill', 'stall'] as const) {
            if (kind === 'stall' && n > calls.length) continue;
            if (kind === 'kill' && !killWorthRunning(calls, n)) continue;
            const dir = join(root, `${kind}-${label}-${n}`);
            const victim = kind === 'kill' ? await freshVictim() : stalling;
            const result = await runCase({ scenario, template, kind, label, n, dir, victim, actors, ...finishFor(scenario, dir) });
            const where = `${kind} at ${label} call ${n} (${calls[n - 1]?.call ?? 'after the last call'})`;
            expect(result.violations, where).toStrictEqual([]);
            if (n <= calls.length) expect(result.hit?.call, where).toBe(calls[n - 1]!.call);
            cases++;
          }
        }
      }
    });
  }
});
