import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../../src/errors.ts';
import { NODE_FS } from '../../src/fs/fs-port.ts';
import { TASK_STATES } from '../../src/store/backend.ts';
import { isOpen } from '../../src/store/rules.ts';
import type { LocalStore } from '../../src/store/local/local-store.ts';
import { readEvents } from '../../src/store/local/journal.ts';
import { idOfTaskFile, parseClaimFileName } from '../../src/store/local/names.ts';
import type { AgentRecord } from './agent-protocol.ts';

// The store's promises as checks that return what broke (empty when nothing did), shared by the
// fault matrix, the full-disk sweep and the soak. What the processes were told (their logs) is the
// ledger; the files must agree with it: every id in one state folder once, nothing hidden left
// over, nothing lost, attempts counted once per failed attempt (an operation that was in flight
// when its process died may or may not have happened), a completion with its evidence and by a
// holder that was told it completed, never twice for one claim, and no double holder seen.

export const EVIDENCE = 'abcdef0';

export interface Ledger {
  /** Ids that must exist. */
  present: Set<string>;
  /** Ids an unacknowledged add may or may not have created. */
  maybe: Set<string>;
  /** Attempts when the ledger started. */
  base: Map<string, number>;
  /** Failed attempts (fail, recover, reopen) acknowledged since. */
  failing: Map<string, number>;
  /** Failed attempts that were in flight (killed or stalled forever): each may or may not have happened. */
  inflightFailing: Map<string, number>;
  /** Failing operations in flight whose task is unknown (a killed recover): may touch any task once. */
  inflightAny: number;
  /** Agents told they completed each id, and agents whose complete of it was in flight. */
  completes: Map<string, string[]>;
  inflightCompletes: Map<string, string[]>;
  /** Reopens acknowledged or in flight per id (each lets the id be completed once more). */
  reopens: Map<string, number>;
  /** Completed at the start, by whom. */
  completedBy: Map<string, string>;
  /** Holder tokens told "completed": a second complete with each must be refused. */
  completedTokens: { agent: string; id: string; token: string }[];
  /** Records that break a promise on their own (double holder, a second complete accepted, a raw error). */
  violations: string[];
}

export function emptyLedger(): Ledger {
  return {
    present: new Set(), maybe: new Set(), base: new Map(), failing: new Map(), inflightFailing: new Map(), inflightAny: 0,
    completes: new Map(), inflightCompletes: new Map(), reopens: new Map(), completedBy: new Map(), completedTokens: [], violations: [],
  };
}

const add = (map: Map<string, number>, id: string, n = 1): void => void map.set(id, (map.get(id) ?? 0) + n);
const push = (map: Map<string, string[]>, id: string, value: string): void => void map.set(id, [...(map.get(id) ?? []), value]);

/** Starts a ledger from the store as it is (after setup, before any process runs). */
export async function ledgerFromStore(store: LocalStore): Promise<Ledger> {
  const ledger = emptyLedger();
  for (const task of (await store.list()).tasks) {
    ledger.present.add(task.id);
    ledger.base.set(task.id, task.attempts);
    if (task.state === 'completed') ledger.completedBy.set(task.id, task.completed_by ?? '');
  }
  return ledger;
}

/** Adds one process's log to the ledger. `alive` false: its last operation begun without an outcome was cut short. */
export function addRecords(ledger: Ledger, records: readonly AgentRecord[], where: string): void {
  let open: AgentRecord | undefined;
  for (const record of records) {
    if (record.op === 'trace' || record.op === 'fault') continue;
    if (record.begin) {
      open = record;
      continue;
    }
    open = undefined;
    const id = record.id;
    if (record.code?.startsWith('RAW:')) ledger.violations.push(`${where}: ${record.op} ${id ?? ''} threw a raw error: ${record.message}`);
    if (record.op === 'complete-again') {
      if (record.ok || record.code !== 'E_NOT_HOLDER') ledger.violations.push(`${where}: a second complete of ${id} by ${record.agent} with the same claim was not refused (${record.ok ? 'exit 0' : record.code})`);
      continue;
    }
    // A recover that failed half-way took back some claims, unknown which.
    if (!record.ok && record.op === 'recover') ledger.inflightAny++;
    if (!record.ok) continue;
    if (record.op === 'claim' && (record.holders ?? 1) > 1) ledger.violations.push(`${where}: ${record.agent} won ${id} while ${record.holders} claim files of it existed`);
    if (record.op === 'fail' || record.op === 'reopen') add(ledger.failing, id!);
    if (record.op === 'reopen') add(ledger.reopens, id!);
    if (record.op === 'recover') for (const recovered of record.recovered ?? []) add(ledger.failing, recovered);
    if (record.op === 'complete') {
      push(ledger.completes, id!, record.agent!);
      ledger.completedTokens.push({ agent: record.agent!, id: id!, token: record.token! });
    }
    if (record.op === 'add') ledger.present.add(id!);
    if (record.op === 'publish') for (const published of record.published ?? []) ledger.present.add(published);
  }
  if (!open) return;
  const id = open.id;
  if ((open.op === 'fail' || open.op === 'reopen') && id) add(ledger.inflightFailing, id);
  if (open.op === 'reopen' && id) add(ledger.reopens, id);
  if (open.op === 'recover') ledger.inflightAny++;
  if (open.op === 'complete' && id) push(ledger.inflightCompletes, id, open.agent ?? 'agent');
  if (open.op === 'add' && id) ledger.maybe.add(id);
}

export interface StoreView {
  byState: Record<string, string[]>;
  /** Every id, with the states it is filed in. */
  where: Map<string, string[]>;
  /** Hidden or foreign names in the state folders. */
  leftovers: string[];
}

export function viewStore(dir: string): StoreView {
  const byState: Record<string, string[]> = {};
  const where = new Map<string, string[]>();
  const leftovers: string[] = [];
  for (const state of TASK_STATES) {
    byState[state] = [];
    for (const name of readdirSync(join(dir, state))) {
      const id = state === 'claimed' ? parseClaimFileName(name)?.id : idOfTaskFile(name);
      if (id === undefined) {
        leftovers.push(`${state}/${name}`);
        continue;
      }
      byState[state]!.push(id);
      where.set(id, [...(where.get(id) ?? []), state]);
    }
  }
  for (const name of readdirSync(dir)) if (name.startsWith('.')) leftovers.push(name);
  return { byState, where, leftovers };
}

/** Everything the ledger and the files disagree on, once the store is quiet and recovered. */
export async function storeViolations(store: LocalStore, ledger: Ledger, options: { journalMayLead?: boolean } = {}): Promise<string[]> {
  const problems = [...ledger.violations];
  const view = viewStore(store.dir);
  for (const [id, states] of view.where) if (states.length > 1) problems.push(`${id} is filed ${states.length} times: ${states.join(', ')}`);
  if (view.leftovers.length > 0) problems.push(`leftovers after recover: ${view.leftovers.join(', ')}`);
  for (const id of ledger.present) if (!view.where.has(id)) problems.push(`${id} is lost`);
  for (const id of view.where.keys()) if (!ledger.present.has(id) && !ledger.maybe.has(id)) problems.push(`${id} exists but was never added`);
  const listing = await store.list();
  for (const problem of listing.problems) problems.push(`unreadable: ${problem.message}`);
  const events = readEvents(NODE_FS, store.eventsPath);
  for (const task of listing.tasks) {
    const base = ledger.base.get(task.id) ?? 0;
    const low = base + (ledger.failing.get(task.id) ?? 0);
    const high = low + (ledger.inflightFailing.get(task.id) ?? 0) + ledger.inflightAny;
    if (task.attempts < low || task.attempts > high) problems.push(`${task.id}: attempts ${task.attempts}, expected ${low === high ? low : `${low}..${high}`}`);
    // A resurrected copy carries the attempts of a generation the journal has already moved past.
    const journaled = Math.max(0, ...events.filter((event) => event.task === task.id && event.event !== 'reconcile' && typeof event.attempts === 'number').map((event) => event.attempts as number));
    if (task.attempts < journaled && !options.journalMayLead) problems.push(`${task.id}: the file says attempts ${task.attempts} but the journal already recorded ${journaled}: superseded content came back`);
    const told = ledger.completes.get(task.id) ?? [];
    if (told.length > 1 + (ledger.reopens.get(task.id) ?? 0)) problems.push(`${task.id}: completed ${told.length} times (${told.join(', ')}): two holders`);
    if (task.state !== 'completed') continue;
    if (task.commit !== EVIDENCE) problems.push(`${task.id}: completed without its evidence (commit ${task.commit})`);
    const by = task.completed_by ?? '';
    const allowed = [...told, ...(ledger.inflightCompletes.get(task.id) ?? []), ...(ledger.completedBy.has(task.id) ? [ledger.completedBy.get(task.id)!] : [])];
    if (!allowed.includes(by)) problems.push(`${task.id}: completed by ${by}, who was never told it completed it (told: ${told.join(', ') || 'nobody'})`);
  }
  for (const { agent, id, token } of ledger.completedTokens) {
    try {
      await store.complete({ agent, task: id, token, commit: EVIDENCE });
      problems.push(`${id}: a second complete by ${agent} with the same token succeeded`);
    } catch (error) {
      if (!(error instanceof CliError) || error.code !== 'E_NOT_HOLDER' || error.exitCode !== 5) problems.push(`${id}: a second complete by ${agent} gave ${String(error)} instead of E_NOT_HOLDER (exit 5)`);
    }
  }
  const again = await store.recover({ staleAfterMs: 30 * 60_000 });
  if (again.reconciled.length + again.repaired.length + again.recovered.length > 0) problems.push(`a second recover still found work: ${JSON.stringify(again)}`);
  return problems;
}

/** Claims and completes everything claimable, in this process; returns what could not be finished. */
export async function drainViolations(store: LocalStore): Promise<string[]> {
  for (let guard = 0; guard < 1000; guard++) {
    let claimed;
    try {
      claimed = await store.claim({ agent: 'drainer' });
    } catch (error) {
      if (error instanceof CliError && error.code === 'E_NO_WORK') break;
      return [`draining stopped: ${String(error)}`];
    }
    await store.complete({ agent: 'drainer', task: claimed.task.id, token: claimed.token, commit: EVIDENCE });
  }
  const problems: string[] = [];
  const { tasks } = await store.list();
  const stateOf = new Map(tasks.map((task) => [task.id, task.state]));
  for (const task of tasks) {
    if (task.state === 'completed' || task.state === 'blocked') continue;
    // Open for ever only behind a dependency that will never complete (blocked, or itself stuck).
    const waiting = task.depends_on.some((dep) => stateOf.get(dep) !== 'completed');
    if (!isOpen(task.state) || !waiting) problems.push(`${task.id} is ${task.state} after draining`);
  }
  const report = await store.recover({ staleAfterMs: 30 * 60_000 });
  if (report.reconciled.length > 0) problems.push(`the journal disagrees after draining: ${report.reconciled.join('; ')}`);
  return problems;
}

/** File name -> content of every task file, for "nothing changed" (the journal excluded). */
export function snapshotTasks(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const state of TASK_STATES) {
    for (const name of readdirSync(join(dir, state)).sort()) files[`${state}/${name}`] = readFileSync(join(dir, state, name), 'utf8');
  }
  return files;
}
