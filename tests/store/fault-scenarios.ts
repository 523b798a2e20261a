import { spawnSync } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPlan } from '../../src/plan/load-plan.ts';
import { publishPlan } from '../../src/plan/publish-plan.ts';
import { hostId } from '../../src/process/liveness.ts';
import type { LocalStore } from '../../src/store/local/local-store.ts';
import { moveFileName, parseClaimFileName } from '../../src/store/local/names.ts';
import { serializeTask } from '../../src/store/task-file.ts';
import type { AgentStep } from './agent-protocol.ts';
import { EVIDENCE } from './invariants.ts';

// The store states each transition is attacked from, and the script the victim runs on them. Every
// labelled step is a transition whose filesystem calls are enumerated and faulted one by one.

export const BODY_9K = `${'nine kilobytes of instructions. '.repeat(288)}\n`;

let dead: number | undefined;
/** The pid of a process that has exited (and been reaped): a writer or holder certainly gone. */
export function deadPid(): number {
  dead ??= spawnSync(process.execPath, ['-e', '0']).pid!;
  return dead;
}

export function deadWriter(): string {
  return `${deadPid()}-${hostId()}-0badc0de`;
}

/** c0 completed; t0 available after c0; t1 failed once; t2 available. */
async function baseStore(store: LocalStore): Promise<void> {
  await store.add([
    { id: 'c0', title: 'done', max_attempts: 20 },
    { id: 't0', title: 'after c0', depends_on: ['c0'], max_attempts: 20 },
    { id: 't1', title: 'failed once', max_attempts: 20 },
    { id: 't2', title: 'plain', max_attempts: 20 },
  ]);
  const c0 = await store.claim({ agent: 'setup', task: 'c0' });
  await store.complete({ agent: 'setup', task: 'c0', token: c0.token, commit: EVIDENCE });
  const t1 = await store.claim({ agent: 'setup', task: 't1' });
  await store.fail({ agent: 'setup', task: 't1', token: t1.token, reason: 'first try' });
}

/** What recover meets after crashes: a dead holder's claim, a dead writer's half-done move, its temp files, a hand-made task. */
async function crashedStore(store: LocalStore): Promise<void> {
  await baseStore(store);
  await store.add([{ id: 'd0', title: 'held by the dead', max_attempts: 20 }, { id: 'm0', title: 'moved by the dead', max_attempts: 20 }]);
  await store.claim({ agent: 'ghost', task: 'd0', holder: { pid: deadPid(), host: hostId() } });
  const m0 = await store.claim({ agent: 'ghost', task: 'm0' });
  const claim = parseClaimFileName(m0.task.file.split('/').pop()!)!;
  const failed = join(store.dir, 'failed');
  writeFileSync(join(failed, moveFileName('pending', 'm0', claim.lease, deadWriter())), serializeTask({ id: 'm0', title: 'moved by the dead', attempts: 1, max_attempts: 20, last_error: 'died' }, ''));
  renameSync(m0.task.file, join(failed, moveFileName('moving', 'm0', claim.lease, deadWriter())));
  writeFileSync(join(store.dir, 'completed', moveFileName('pending', 't2', claim.lease, deadWriter())), 'never installed\n');
  writeFileSync(join(store.dir, 'available', `.tmp~${deadWriter()}~n9.md`), 'half an add');
  writeFileSync(join(store.dir, `.tmp~${deadWriter()}~events.jsonl`), 'half a write');
  writeFileSync(join(store.dir, 'available', 'h0.md'), serializeTask({ id: 'h0', title: 'written by hand', attempts: 0, max_attempts: 20 }, 'no journal line\n'));
}

export interface Scenario {
  name: string;
  /** The labels of the steps whose calls are attacked. */
  labels: string[];
  setup: (store: LocalStore, dir: string) => Promise<void>;
  steps: (dir: string) => AgentStep[];
  /** Attempts a finished repair sets regardless of the victim (the dead writer's move). */
  settled?: Record<string, number>;
  /**
   * What a failed operation may leave changed: nothing (one transition), new tasks (publish adds
   * them one by one, in dependency order), or finished repairs (recover repairs one thing at a time).
   */
  onFailure?: 'unchanged' | 'grown' | 'partial';
  /** Ids the victim's operation creates, if it got far enough. */
  maybe?: string[];
  /** Checks of its own once the store is recovered (bodies whole, a second publish). */
  finish?: (store: LocalStore, dir: string) => Promise<string[]>;
}

async function bodiesWhole(store: LocalStore): Promise<string[]> {
  const problems: string[] = [];
  for (const task of (await store.list()).tasks) {
    if ((task.id === 'n0' || task.id === 'p0') && task.body !== BODY_9K) problems.push(`${task.id}: body cut to ${task.body.length} bytes`);
  }
  return problems;
}

/** A publish cut short leaves its tasks in dependency order, and a second publish adds the rest once. */
async function republish(store: LocalStore, dir: string): Promise<string[]> {
  const problems = await bodiesWhole(store);
  const ids = new Set((await store.list()).tasks.map((task) => task.id));
  if (ids.has('p1') && !ids.has('p0')) problems.push('p1 was published before p0, which it depends on');
  await publishPlan(store, await loadPlan(join(dir, 'plan.json')));
  const after = (await store.list()).tasks;
  for (const id of ['p0', 'p1']) if (after.filter((task) => task.id === id).length !== 1) problems.push(`${id} is not there once after a second publish`);
  if (!after.find((task) => task.id === 'p1')?.depends_on.includes('p0')) problems.push('p1 lost its dependency on p0');
  return problems;
}

const victim = 'victim';
const claimT0: AgentStep = { op: 'claim', agent: victim };

export const SCENARIOS: Scenario[] = [
  {
    name: 'claim',
    labels: ['claim', 'claim-failed'],
    setup: baseStore,
    steps: () => [{ ...claimT0, label: 'claim' }, { op: 'claim', agent: victim, task: 't1', label: 'claim-failed' }],
  },
  { name: 'heartbeat', labels: ['heartbeat'], setup: baseStore, steps: () => [claimT0, { op: 'heartbeat', agent: victim, task: 't0', label: 'heartbeat' }] },
  {
    name: 'complete',
    labels: ['complete'],
    setup: baseStore,
    steps: () => [claimT0, { op: 'complete', agent: victim, task: 't0', summary: 'victim did it', label: 'complete' }, { op: 'complete-again', agent: victim, task: 't0' }],
  },
  { name: 'fail', labels: ['fail'], setup: baseStore, steps: () => [claimT0, { op: 'fail', agent: victim, task: 't0', reason: 'victim failed', label: 'fail' }] },
  { name: 'release', labels: ['release'], setup: baseStore, steps: () => [claimT0, { op: 'release', agent: victim, task: 't0', label: 'release' }] },
  { name: 'reopen', labels: ['reopen'], setup: baseStore, steps: () => [{ op: 'reopen', task: 'c0', reason: 'verify refused it', label: 'reopen' }] },
  { name: 'recover', labels: ['recover'], setup: crashedStore, steps: () => [{ op: 'recover', label: 'recover' }], settled: { m0: 1 }, onFailure: 'partial' },
  {
    name: 'add',
    labels: ['add'],
    setup: baseStore,
    steps: () => [{ op: 'add', id: 'n0', body: BODY_9K, maxAttempts: 20, label: 'add' }],
    maybe: ['n0'],
    finish: bodiesWhole,
  },
  {
    name: 'publish',
    labels: ['publish'],
    setup: baseStore,
    steps: (dir) => {
      const planFile = join(dir, 'plan.json');
      writeFileSync(planFile, JSON.stringify({
        name: 'faults',
        tasks: [
          { id: 'p0', title: 'schema', files: ['db/**'], prompt: BODY_9K, max_attempts: 20 },
          { id: 'p1', title: 'api', files: ['db/api.ts'], prompt: 'use the schema', max_attempts: 20 },
        ],
      }));
      return [{ op: 'publish', planFile, label: 'publish' }];
    },
    maybe: ['p0', 'p1'],
    finish: republish,
    onFailure: 'grown',
  },
];
