import { cpSync, mkdirSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { LocalStore } from '../../src/store/local/local-store.ts';
import type { AgentRecord, AgentStep } from './agent-protocol.ts';
import { AgentProcess, makeFifo, readRecords, releaseFifo } from './agent-process.ts';
import { addRecords, drainViolations, ledgerFromStore, storeViolations, viewStore, type Ledger } from './invariants.ts';
import type { Scenario } from './fault-scenarios.ts';

// One case of the fault matrix: a scenario's store, its victim killed or stalled right before one
// filesystem call, claimers and recoverers running meanwhile in their own processes, then recover
// and every invariant.

export interface TracedCall {
  call: string;
  target: string;
}

/** The filesystem calls of each labelled step, from an unfaulted run of the scenario on a copy of its template. */
export async function traceScenario(agent: AgentProcess, scenario: Scenario, template: string, dir: string): Promise<Map<string, TracedCall[]>> {
  const store = prepare(template, dir);
  const records = await agent.run(store.dir, join(dir, 'trace.log'), scenario.steps(dir), { kind: 'trace', label: '', n: 0 });
  const calls = new Map<string, TracedCall[]>(scenario.labels.map((label) => [label, []]));
  for (const record of records) if (record.op === 'trace') calls.get(record.label!)?.push({ call: record.call!, target: record.target! });
  const failed = records.filter((record) => record.ok === false && record.op !== 'complete-again');
  if (failed.length > 0) throw new Error(`the unfaulted ${scenario.name} run failed: ${JSON.stringify(failed)}`);
  return calls;
}

/** Builds the scenario's store once; every case starts from a copy (building it through the library costs fsyncs). */
export async function buildTemplate(scenario: Scenario, root: string): Promise<string> {
  const store = new LocalStore({ dir: join(root, 'template', '_tasks'), repoRoot: undefined, gitCommonDir: undefined });
  await store.init();
  await scenario.setup(store, store.dir);
  return store.dir;
}

/** The ledger of a scenario's store before its victim runs. */
export async function scenarioLedger(scenario: Scenario, store: LocalStore, inDoubt = true): Promise<Ledger> {
  const ledger = await ledgerFromStore(store);
  for (const [id, attempts] of Object.entries(scenario.settled ?? {})) {
    ledger.present.add(id);
    ledger.base.set(id, attempts);
  }
  if (inDoubt) for (const id of scenario.maybe ?? []) ledger.maybe.add(id);
  return ledger;
}

export function prepare(template: string, dir: string): LocalStore {
  mkdirSync(dir, { recursive: true });
  const store = new LocalStore({ dir: join(dir, '_tasks'), repoRoot: undefined, gitCommonDir: undefined });
  cpSync(template, store.dir, { recursive: true });
  return store;
}

export interface Actors {
  churners: AgentProcess[];
  recoverers: AgentProcess[];
}

let round = 0;

/** Claimers and recoverers, each in its own process, all at once on the store; their records join the ledger. */
export async function actorsRound(actors: Actors, store: LocalStore, dir: string, ledger: Ledger, staleAfterMs: number): Promise<void> {
  round++;
  const runs = [
    ...actors.churners.map((agent, i) => ({ agent, name: `churner-${i}`, steps: [{ op: 'churn', agent: `churner-${i}`, rounds: 4, seed: round * 10 + i }] as AgentStep[] })),
    ...actors.recoverers.map((agent, i) => ({ agent, name: `recoverer-${i}`, steps: [{ op: 'recover', staleAfterMs }, { op: 'recover', staleAfterMs }] as AgentStep[] })),
  ];
  const logs = await Promise.all(runs.map(({ agent, name, steps }) => agent.run(store.dir, join(dir, `${name}-${round}.log`), steps)));
  logs.forEach((records, i) => addRecords(ledger, records, runs[i]!.name));
}

export interface CaseResult {
  violations: string[];
  /** The call the fault hit, as the victim logged it. */
  hit: AgentRecord | undefined;
  victimRecords: AgentRecord[];
}

export interface CaseSpec {
  scenario: Scenario;
  /** The scenario's store, copied for the case. */
  template: string;
  kind: 'kill' | 'stall';
  label: string;
  /** 1-based call to fault; past the last call, a kill lands right after the script returns. */
  n: number;
  dir: string;
  /** A fresh process for a kill; a reused one for a stall. */
  victim: AgentProcess;
  actors: Actors;
}

export async function runCase(spec: CaseSpec): Promise<CaseResult> {
  const { scenario, kind, label, n, dir, victim, actors } = spec;
  const store = prepare(spec.template, dir);
  // A stalled victim is told its outcome, so only a kill (or a publish, which adds one by one) leaves ids in doubt.
  const ledger = await scenarioLedger(scenario, store, kind === 'kill' || scenario.onFailure === 'grown');
  const log = join(dir, 'victim.log');
  const fifo = kind === 'stall' ? makeFifo(join(dir, 'stall.fifo')) : undefined;
  victim.send(store.dir, log, scenario.steps(dir), { kind, label, n, fifo });
  const event = await victim.next();
  const violations: string[] = [];
  if (kind === 'kill') {
    if (event.kind === 'done') await victim.kill();
    else if (event.kind !== 'exit' || event.signal !== 'SIGKILL') violations.push(`victim: expected a kill, got ${JSON.stringify(event)}`);
    addRecords(ledger, readRecords(log), 'victim');
    await actorsRound(actors, store, dir, ledger, 30 * 60_000);
  } else {
    if (event.kind !== 'stall') return { violations: [`victim: expected a stall, got ${JSON.stringify(event)}`], hit: undefined, victimRecords: readRecords(log) };
    // The victim is blocked inside the transition: the others work around it, then it goes on.
    await actorsRound(actors, store, dir, ledger, -1);
    await releaseFifo(fifo!);
    const end = await victim.next();
    if (end.kind !== 'done') violations.push(`victim: expected to finish after the stall, got ${JSON.stringify(end)}`);
    addRecords(ledger, readRecords(log), 'victim');
  }
  // Quiet now: a kill's dead holder goes back by its death, a stall's leftover claim by the lease.
  const report = await store.recover({ staleAfterMs: kind === 'kill' ? 30 * 60_000 : -1 });
  addRecords(ledger, [{ op: 'recover', ok: true, recovered: report.recovered.map((item) => item.id) }], 'final recover');
  const claimed = viewStore(store.dir).byState.claimed!;
  if (claimed.length > 0) violations.push(`claims left after recover: ${claimed.join(', ')}`);
  violations.push(...(await storeViolations(store, ledger)));
  if (scenario.finish) violations.push(...(await scenario.finish(store, dir)));
  violations.push(...(await drainViolations(store)));
  const victimRecords = readRecords(log);
  return { violations, hit: victimRecords.find((record) => record.op === 'fault'), victimRecords };
}

/**
 * A temp folder on tmpfs when the machine has one (/dev/shm): the store's calls behave the same
 * there, and its fsync costs nothing, which keeps hundreds of cases within the suite's budget
 * (the soak and the CLI tests run on the ordinary temp folder). Removed when the test ends.
 */
export function caseRoot(): string {
  let base = tmpdir();
  try {
    if (statfsSync('/dev/shm').type === TMPFS_MAGIC) base = '/dev/shm';
  } catch { /* no /dev/shm: the ordinary temp folder */ }
  const dir = mkdtempSync(join(base, 'pa-faults-'));
  onTestFinished(() => {
    if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

const TMPFS_MAGIC = 0x01021994;
