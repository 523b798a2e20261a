import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath } from '../helpers/paths.ts';
import { AgentProcess } from './agent-process.ts';
import { buildTemplate, caseRoot, runCase, traceScenario, type Actors, type TracedCall } from './fault-cases.ts';
import { LocalStore } from '../../src/store/local/local-store.ts';
import { SCENARIOS } from './fault-scenarios.ts';

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

// A kill right before a call that changes nothing on disk (a read, an fsync, a close) leaves the
// same files as a kill right before the next call: the suite kills at every call that changes the
// disk and after the last one; FULL_MATRIX=1 (run by `npm run soak`) kills at every call.
const CHANGES_DISK = new Set(['openSync', 'writeSync', 'renameSync', 'linkSync', 'unlinkSync', 'mkdirSync', 'utimesSync']);

function killWorthRunning(calls: readonly TracedCall[], n: number): boolean {
  return process.env.FULL_MATRIX === '1' || n > calls.length || CHANGES_DISK.has(calls[n - 1]!.call);
}

describe('the matrix covers every transition', () => {
  it('each public operation of the local store that writes is a scenario; the rest only read', () => {
    // A new operation lands in one list or the other, or this fails: none is skipped silently.
    const readOnly = ['exists', 'list', 'get', 'heldBy'];
    const covered = new Map([['init', 'add'], ['add', 'add'], ['claim', 'claim'], ['heartbeat', 'heartbeat'], ['complete', 'complete'], ['fail', 'fail'], ['release', 'release'], ['reopen', 'reopen'], ['recover', 'recover']]);
    const methods = Object.getOwnPropertyNames(LocalStore.prototype).filter((name) => name !== 'constructor' && typeof Object.getOwnPropertyDescriptor(LocalStore.prototype, name)?.value === 'function');
    const open = methods.filter((name) => !readOnly.includes(name) && !covered.has(name) && !isPrivate(name));
    expect(open).toStrictEqual([]);
    for (const scenario of covered.values()) expect(SCENARIOS.map((item) => item.name)).toContain(scenario);
    expect(SCENARIOS.map((item) => item.name)).toContain('publish');
  });
});

/** TypeScript's private methods are ordinary properties at run time: these are the store's own helpers. */
function isPrivate(name: string): boolean {
  return ['present', 'requireStore', 'journal', 'refuseSecondCopy', 'findClaim', 'notHolder', 'moveClaim'].includes(name);
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
            const result = await runCase({ scenario, template, kind, label, n, dir, victim, actors });
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
