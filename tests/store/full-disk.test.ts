import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostId } from '../../src/process/liveness.ts';
import { LocalStore } from '../../src/store/local/local-store.ts';
import { moveFileName, parseClaimFileName } from '../../src/store/local/names.ts';
import { runCli, type CliRun } from '../helpers/run-cli.ts';
import { BODY_9K, deadPid, deadWriter } from './fault-scenarios.ts';
import { drainViolations, snapshotTasks, viewStore } from './invariants.ts';

// A real disk that fills up: a small tmpfs, filled to leave N bytes (or K inodes) free, under every
// command of the real CLI bundle. Each command either succeeds whole or fails with exit 1, one
// line naming the file and the disk (E_IO), no stack trace; then the task files are exactly as
// they were, nothing hidden is left, and once space is freed the store is claimable as before.
// tmpfs counts whole pages, so N sweeps 0..16 KB page by page; the journal is padded to a page
// end first, so its next line needs a page of its own.

const PAGE = 4096;
let mount = '';
let cwd = '';

beforeAll(() => {
  mount = mkdtempSync(join(tmpdir(), 'pa-full-disk-'));
  cwd = mkdtempSync(join(tmpdir(), 'pa-full-disk-cwd-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,nr_inodes=256', 'tmpfs', mount], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    throw new Error(`cannot mount a small tmpfs at ${mount} (${(mounted.stderr || String(mounted.error)).trim()}): this test fills a real disk and needs root, as CI has; it fails rather than pass without it`);
  }
});

afterAll(() => {
  try {
    if (mount && spawnSync('umount', [mount]).status !== 0) spawnSync('umount', ['-l', mount]);
  } finally {
    rmSync(mount, { recursive: true, force: true });
    rmSync(cwd, { recursive: true, force: true });
  }
});

interface Setup {
  store: LocalStore;
  token: string;
  plan: string;
}

interface Command {
  name: string;
  args: (setup: Setup) => string[];
  /** What the store must show when the command said it succeeded. */
  whole: (setup: Setup, run: CliRun) => Promise<void>;
  /** What a failure may leave changed (a publish adds tasks one by one; recover repairs one thing at a time). */
  onFailure?: 'grown' | 'partial';
  /** Changes to the common setup before the disk fills. */
  trim?: (setup: Setup) => void;
}

const COMMANDS: Command[] = [
  { name: 'add', args: () => ['add', '--id', 'n0', '--title', 'new', '--body', BODY_9K], whole: async ({ store }) => expect((await store.get('n0'))?.body).toBe(BODY_9K) },
  { name: 'claim', args: () => ['claim', '--agent', 'bob'], whole: async ({ store }, run) => expect([(await store.get(run.json.task.id))?.claim?.agent, run.json.token.length]).toStrictEqual(['bob', 32]) },
  {
    name: 'complete',
    args: ({ token }) => ['complete', '--agent', 'alice', '--task', 'h0', '--token', token, '--summary', BODY_9K],
    whole: async ({ store }) => expect(await store.get('h0')).toMatchObject({ state: 'completed', summary: BODY_9K, completed_by: 'alice' }),
  },
  { name: 'fail', args: ({ token }) => ['fail', '--agent', 'alice', '--task', 'h0', '--token', token, '--reason', 'disk'], whole: async ({ store }) => expect(await store.get('h0')).toMatchObject({ state: 'failed', attempts: 1, last_error: 'disk' }) },
  { name: 'release', args: ({ token }) => ['release', '--agent', 'alice', '--task', 'h0', '--token', token], whole: async ({ store }) => expect(await store.get('h0')).toMatchObject({ state: 'available', attempts: 0 }) },
  { name: 'heartbeat', args: ({ token }) => ['heartbeat', '--agent', 'alice', '--task', 'h0', '--token', token], whole: async ({ store }) => expect((await store.get('h0'))?.state).toBe('claimed') },
  {
    name: 'recover',
    args: () => ['recover'],
    whole: async ({ store }) => {
      expect(await store.get('d0')).toMatchObject({ state: 'failed', attempts: 1 });
      expect(await store.get('m0')).toMatchObject({ state: 'failed', attempts: 1 });
      expect(viewStore(store.dir).leftovers).toStrictEqual([]);
    },
    onFailure: 'partial',
  },
  {
    // Without a dead writer's files to delete first, recover has no space to make: it must write into a full disk.
    name: 'recover (nothing to delete)',
    args: () => ['recover'],
    whole: async ({ store }) => expect(await store.get('d0')).toMatchObject({ state: 'failed', attempts: 1 }),
    onFailure: 'partial',
    trim: ({ store }) => {
      for (const name of viewStore(store.dir).leftovers) rmSync(join(store.dir, name));
    },
  },
  {
    name: 'plan publish',
    args: ({ plan }) => ['plan', 'publish', plan, '--allow-mixed'],
    whole: async ({ store }) => {
      for (const id of ['p0', 'p1', 'p2']) expect((await store.get(id))?.body).toBe(BODY_9K);
    },
    onFailure: 'grown',
  },
];

/** t0 available, h0 held by alice, d0 held by a dead process, m0 in the middle of a dead writer's move, a dead writer's temp file. */
async function setUp(): Promise<Setup> {
  const dir = join(mount, 'store');
  rmSync(dir, { recursive: true, force: true });
  const store = new LocalStore({ dir, repoRoot: undefined, gitCommonDir: undefined });
  await store.add(['t0', 'h0', 'd0', 'm0'].map((id) => ({ id, title: id, max_attempts: 5 })));
  const { token } = await store.claim({ agent: 'alice', task: 'h0' });
  await store.claim({ agent: 'ghost', task: 'd0', holder: { pid: deadPid(), host: hostId() } });
  const m0 = await store.claim({ agent: 'ghost', task: 'm0' });
  const lease = parseClaimFileName(m0.task.file.split('/').pop()!)!.lease;
  writeFileSync(join(dir, 'failed', moveFileName('pending', 'm0', lease, deadWriter())), '---\nid: "m0"\ntitle: "m0"\nattempts: 1\nmax_attempts: 5\n---\n');
  renameSync(m0.task.file, join(dir, 'failed', moveFileName('moving', 'm0', lease, deadWriter())));
  writeFileSync(join(dir, 'available', `.tmp~${deadWriter()}~x.md`), 'half');
  const plan = join(cwd, 'plan.json');
  writeFileSync(plan, JSON.stringify({ name: 'disk', tasks: ['p0', 'p1', 'p2'].map((id) => ({ id, title: id, files: [`${id}/**`], prompt: BODY_9K })) }));
  // Blank lines are skipped by readers: the journal ends on a page boundary, so its next line needs a new page.
  const size = statSync(store.eventsPath).size;
  appendFileSync(store.eventsPath, '\n'.repeat((PAGE - (size % PAGE)) % PAGE));
  return { store, token, plan };
}

/** Leaves exactly `pages` pages or `inodes` inodes free on the tmpfs; returns how to give them back. */
function fill(free: { pages?: number; inodes?: number }): () => void {
  const filler = join(mount, 'filler');
  mkdirSync(filler);
  const before = statfsSync(mount);
  if (free.pages !== undefined) writeFileSync(join(filler, 'bytes'), Buffer.alloc((before.bavail - free.pages) * before.bsize));
  if (free.inodes !== undefined) for (let i = statfsSync(mount).ffree; i > free.inodes; i--) writeFileSync(join(filler, `i${i}`), '');
  const after = statfsSync(mount);
  if (free.pages !== undefined) expect(after.bavail * after.bsize).toBe(free.pages * PAGE);
  if (free.inodes !== undefined) expect(after.ffree).toBe(free.inodes);
  return () => rmSync(filler, { recursive: true, force: true });
}

async function attack(command: Command, free: { pages?: number; inodes?: number }): Promise<'ok' | 'E_IO'> {
  const setup = await setUp();
  const { store } = setup;
  command.trim?.(setup);
  const where = `${command.name} with ${free.pages !== undefined ? `${free.pages * PAGE} bytes` : `${free.inodes} inodes`} free`;
  const photo = snapshotTasks(store.dir);
  const hiddenBefore = viewStore(store.dir).leftovers;
  const release = fill(free);
  let run: CliRun;
  let leftovers: string[];
  try {
    run = runCli([...command.args(setup), '--tasks-dir', store.dir, '--json'], { cwd });
    leftovers = viewStore(store.dir).leftovers;
  } finally {
    release();
  }
  if (run.exitCode === 0) {
    await command.whole(setup, run);
  } else {
    expect([run.exitCode, run.json?.error?.code], `${where}: ${run.stderr}`).toStrictEqual([1, 'E_IO']);
    expect(run.stderr, where).toMatch(/^parallel-agents: cannot write \/\S+: no space left on the disk holding \/\S+; free space or fix the disk, then retry \(nothing was changed\)\n$/);
    const now = snapshotTasks(store.dir);
    if (command.onFailure === undefined) expect(now, where).toStrictEqual(photo);
    if (command.onFailure === 'grown') for (const [name, text] of Object.entries(photo)) expect(now[name], `${where}: ${name}`).toBe(text);
    // Nothing half-written or hidden is added (the dead writer's files of the setup stay for recover).
    if (command.onFailure !== 'partial') expect(leftovers, where).toStrictEqual(hiddenBefore);
    // The previous state is intact: alice still holds h0, with her token.
    expect((await store.get('h0'))?.claim?.agent, where).toBe('alice');
  }
  if ((await store.get('h0'))?.state === 'claimed') await store.complete({ agent: 'alice', task: 'h0', token: setup.token });
  await store.recover({ staleAfterMs: -1 });
  const view = viewStore(store.dir);
  expect([...view.where].filter(([, states]) => states.length > 1), where).toStrictEqual([]);
  expect(view.leftovers, where).toStrictEqual([]);
  expect((await store.list()).problems, where).toStrictEqual([]);
  expect(await drainViolations(store), where).toStrictEqual([]);
  return run.exitCode === 0 ? 'ok' : 'E_IO';
}

describe('a full tmpfs under every command of the CLI', () => {
  for (const command of COMMANDS) {
    it(`${command.name}: with 0..16 KB free, succeeds whole or fails with E_IO and changes nothing`, async () => {
      const outcomes: string[] = [];
      for (let pages = 0; pages <= 4; pages++) outcomes.push(await attack(command, { pages }));
      // The sweep crosses the boundary: refused with no room, done with enough (heartbeat writes
      // nothing; recover deletes a dead writer's files before it writes; three 9 KB tasks need
      // more than 16 KB).
      if (command.name !== 'heartbeat' && command.name !== 'recover') expect(outcomes[0]).toBe('E_IO');
      if (command.name !== 'plan publish') expect(outcomes.at(-1)).toBe('ok');
    });
  }
  for (const name of ['add', 'complete', 'fail', 'plan publish']) {
    it(`${name}: with 0..2 inodes free, succeeds whole or fails with E_IO and changes nothing`, async () => {
      const command = COMMANDS.find((item) => item.name === name)!;
      const outcomes: string[] = [];
      for (let inodes = 0; inodes <= 2; inodes++) outcomes.push(await attack(command, { inodes }));
      expect(outcomes[0]).toBe('E_IO');
    });
  }
});
