// The randomized soak: many agent processes (tests/fixtures/store-agent.ts) claim, complete, fail,
// release, heartbeat, add, reopen and recover with tiny leases on one store, while the soak
// SIGKILLs them, and stops (SIGSTOP) and resumes (SIGCONT) them, at random moments. Time is
// counted in finished scripts, never in sleeps: each script an agent finishes is a tick, and each
// tick may kill, stall or resume someone. After every round everyone is let go and finishes,
// recover runs, and every invariant of tests/store/invariants.ts is checked against what the
// processes were told. Used by tests/store/soak.test.ts (CI's budget) and bench/soak.ts (long).
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { LocalStore } from '../src/store/local/local-store.ts';
import { AgentProcess, makeFifo, nudgeFifo, readRecords, type AgentEvent } from '../tests/store/agent-process.ts';
import type { AgentStep } from '../tests/store/agent-protocol.ts';
import { addRecords, drainViolations, ledgerFromStore, storeViolations, viewStore } from '../tests/store/invariants.ts';
import { seededRandom } from './seeded-random.ts';

export interface SoakOptions {
  dir: string;
  /** The bundled store agent. */
  worker: string;
  churners: number;
  recoverers: number;
  rounds: number;
  ticksPerRound: number;
  tasks: number;
  seed: number;
  /** Per tick: the chance to SIGKILL a busy agent, and to SIGSTOP one, at whatever it is doing. */
  killRate: number;
  stallRate: number;
  /** Per filesystem call of every agent: the chance it kills itself, and stops itself, right before the call. */
  callKillRate: number;
  callStallRate: number;
  progress?: (line: string) => void;
}

export interface SoakResult {
  rounds: number;
  /** Store operations begun, and those whose outcome the process was told (success or refusal). */
  begun: number;
  answered: number;
  kills: number;
  stalls: number;
  processes: number;
  completes: number;
  failures: number;
  recoveries: number;
  durationMs: number;
  loadBefore: number[];
  loadAfter: number[];
  violations: string[];
}

interface Slot {
  agent: AgentProcess;
  name: string;
  log: string;
  /** The FIFO the agent blocks on when it stalls itself right before a filesystem call. */
  fifo: string;
  consumed: number;
  role: 'churn' | 'recover';
  busy: Promise<{ slot: Slot; event: AgentEvent }> | undefined;
  /** Stopped by SIGSTOP from here, until this tick. */
  stoppedUntil: number | undefined;
  /** Blocked on its FIFO, until this tick. */
  stalledUntil: number | undefined;
  killed: boolean;
}

export async function soak(options: SoakOptions): Promise<SoakResult> {
  const started = Date.now();
  const loadBefore = loadavg();
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const store = new LocalStore({ dir: join(options.dir, '_tasks'), repoRoot: undefined, gitCommonDir: undefined });
  await store.init();
  const ids = Array.from({ length: options.tasks }, (_, i) => `s${String(i).padStart(4, '0')}`);
  await store.add(ids.map((id, i) => ({ id, title: id, max_attempts: i % 10 === 0 ? 2 : 50, depends_on: i % 7 === 3 ? [ids[i - 1]!] : [] })));
  const ledger = await ledgerFromStore(store);
  const result = { begun: 0, answered: 0, kills: 0, stalls: 0, processes: 0, completes: 0, failures: 0, recoveries: 0 };
  let generation = 0;
  let added = 0;
  let tick = 0;

  const spawn = async (role: Slot['role']): Promise<Slot> => {
    const name = `${role === 'churn' ? 'w' : 'r'}${generation++}`;
    result.processes++;
    const log = join(options.dir, `${name}.log`);
    const agent = await AgentProcess.start(options.worker);
    return { agent, name, log, fifo: makeFifo(`${log}.fifo`), consumed: 0, role, busy: undefined, stoppedUntil: undefined, stalledUntil: undefined, killed: false };
  };
  const script = (slot: Slot): AgentStep[] => {
    if (slot.role === 'recover') return [{ op: 'recover', staleAfterMs: pick([0, 20, 200, 2000]) }];
    const roll = random();
    if (roll < 0.08) return [{ op: 'add', id: `${slot.name}-n${added++}`, maxAttempts: 50 }];
    if (roll < 0.14) return [{ op: 'reopen', task: pick(ids), reason: 'soak reopened it' }];
    return [{ op: 'churn', agent: slot.name, rounds: 3, seed: Math.floor(random() * 1e9) }];
  };
  /** The slot's next event; a process killed just after it finished or stalled reports that first: its exit is what counts. */
  const wait = (slot: Slot): Promise<{ slot: Slot; event: AgentEvent }> => {
    const settle = async (): Promise<AgentEvent> => {
      let event = await slot.agent.next();
      while (slot.killed && event.kind !== 'exit') event = await slot.agent.next();
      return event;
    };
    return settle().then((event) => ({ slot, event }));
  };
  const dispatch = (slot: Slot): void => {
    const chaos = { kind: 'chaos' as const, label: '', n: 0, fifo: slot.fifo, killRate: options.callKillRate, stallRate: options.callStallRate, seed: Math.floor(random() * 1e9) };
    slot.agent.send(store.dir, slot.log, script(slot), chaos);
    slot.busy = wait(slot);
  };
  const wake = (slot: Slot): void => {
    if (slot.stoppedUntil !== undefined) slot.agent.child.kill('SIGCONT');
    if (slot.stalledUntil !== undefined) nudgeFifo(slot.fifo);
    slot.stoppedUntil = undefined;
    slot.stalledUntil = undefined;
  };
  const asleep = (slot: Slot): boolean => slot.stoppedUntil !== undefined || slot.stalledUntil !== undefined;
  /** Reads what a process logged since last time into the ledger. */
  const ingest = (slot: Slot): void => {
    const records = readRecords(slot.log).slice(slot.consumed);
    slot.consumed += records.length;
    for (const record of records) {
      if (record.begin) result.begun++;
      else if (record.op !== 'trace' && record.op !== 'fault') result.answered++;
      if (!record.begin && record.ok && record.op === 'complete') result.completes++;
      if (!record.begin && record.ok && record.op === 'fail') result.failures++;
      if (!record.begin && record.ok && record.op === 'recover') result.recoveries += record.recovered?.length ?? 0;
    }
    addRecords(ledger, records, slot.name);
  };
  const replace = async (slot: Slot): Promise<Slot> => {
    ingest(slot);
    const fresh = await spawn(slot.role);
    slots[slots.indexOf(slot)] = fresh;
    return fresh;
  };

  const slots: Slot[] = [];
  for (let i = 0; i < options.churners; i++) slots.push(await spawn('churn'));
  for (let i = 0; i < options.recoverers; i++) slots.push(await spawn('recover'));
  const violations: string[] = [];
  let round = 0;
  for (; round < options.rounds && violations.length === 0; round++) {
    for (const slot of slots) dispatch(slot);
    for (let ticks = 0; ticks < options.ticksPerRound; ticks++) {
      tick++;
      // Never wait on processes that are all asleep.
      if (!slots.some((slot) => slot.busy && !asleep(slot))) wake(slots.find(asleep)!);
      const { slot, event } = await Promise.race(slots.filter((item) => item.busy).map((item) => item.busy!));
      slot.busy = undefined;
      if (event.kind === 'stall') {
        // It blocked itself right before a filesystem call: the others go on; it goes on later.
        slot.stalledUntil = tick + 2 + Math.floor(random() * 12);
        result.stalls++;
        slot.busy = wait(slot);
      } else if (event.kind === 'exit') {
        // Killed (by us or by itself): what it was doing stays in flight for ever; a new process takes its place.
        result.kills++;
        dispatch(await replace(slot));
      } else {
        dispatch(slot);
      }
      for (const item of slots) {
        if ((item.stoppedUntil ?? Infinity) <= tick || (item.stalledUntil ?? Infinity) <= tick) wake(item);
      }
      const roll = random();
      const victims = slots.filter((item) => item.busy && !item.killed);
      if (roll < options.killRate && victims.length > 0) {
        const victim = pick(victims);
        victim.agent.child.kill('SIGKILL');
        victim.killed = true;
      } else if (roll < options.killRate + options.stallRate) {
        const awake = victims.filter((item) => !asleep(item));
        if (awake.length > 1) {
          const victim = pick(awake);
          victim.agent.child.kill('SIGSTOP');
          victim.stoppedUntil = tick + 2 + Math.floor(random() * 12);
          result.stalls++;
        }
      }
    }
    // End of round: wake everyone and let each finish what it is doing, then check at rest.
    for (let i = 0; i < slots.length; i++) {
      let slot = slots[i]!;
      wake(slot);
      while (slot.busy) {
        const { event } = await slot.busy;
        slot.busy = undefined;
        if (event.kind === 'stall') {
          nudgeFifo(slot.fifo);
          slot.busy = wait(slot);
        } else if (event.kind === 'exit') {
          result.kills++;
          slot = await replace(slot);
        }
      }
    }
    for (const slot of slots) ingest(slot);
    const report = await store.recover({ staleAfterMs: -1 });
    addRecords(ledger, [{ op: 'recover', ok: true, recovered: report.recovered.map((item) => item.id) }], 'round recover');
    const claimed = viewStore(store.dir).byState.claimed!;
    if (claimed.length > 0) violations.push(`round ${round}: claims left after recover: ${claimed.join(', ')}`);
    violations.push(...(await storeViolations(store, ledger)).map((problem) => `round ${round}: ${problem}`));
    options.progress?.(`round ${round + 1}/${options.rounds}: ${result.begun} operations, ${result.kills} kills, ${result.stalls} stalls, ${violations.length} violations`);
  }
  if (violations.length === 0) violations.push(...(await drainViolations(store)));
  await Promise.all(slots.map((slot) => slot.agent.stop()));
  return { rounds: round, ...result, durationMs: Date.now() - started, loadBefore, loadAfter: loadavg(), violations };
}
