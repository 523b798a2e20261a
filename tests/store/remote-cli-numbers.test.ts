// The ages the CLI prints about claims on a git-remote store, checked against the wall clock this
// test reads around each command. A clone dates a claim by its own observations; the clone whose
// push made a value current saw it then, and must not date it by a later look.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cloneRepo, createBareRepo } from '../helpers/git-server.ts';
import { runCli } from '../helpers/run-cli.ts';
import { TEST_BUNDLE } from '../helpers/paths.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const STORE = { PARALLEL_STORE: 'git:origin' };

function cli(cwd: string, ...args: string[]): ReturnType<typeof runCli> {
  const run = runCli(args, { cwd, env: STORE });
  expect(run.exitCode, run.stderr).toBe(0);
  return run;
}

/** Resolves once `ms` of wall time have passed since `from`: the ages under test need time to pass. */
async function until(from: number, ms: number): Promise<void> {
  while (Date.now() - from < ms) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** A command's claim of `id` and the wall-clock window the command ran in. */
function claimOf(cwd: string, id: string): { claim: any; start: number; end: number; text: string } {
  const start = Date.now();
  const show = cli(cwd, 'show', '--task', id, '--json');
  const end = Date.now();
  const text = cli(cwd, 'show', '--task', id).stdout;
  return { claim: show.json.task.claim, start, end, text };
}

/** A shared store with task t, and two clones of it: the first made the store. */
function twoClones(first: string, second: string): { base: string; clones: [string, string] } {
  const base = tempDir('pa-remote-numbers-');
  const url = `file://${createBareRepo(base)}`;
  const clones: [string, string] = [cloneRepo(url, join(base, first)), cloneRepo(url, join(base, second))];
  cli(clones[0], 'init');
  cli(clones[0], 'add', '--id', 't', '--title', 'T');
  return { base, clones };
}

describe('claim ages on a git-remote store, against the wall clock', () => {
  it('the clone that pushed a claim or heartbeat dates it by that push, not by its next look', async () => {
    const { clones: [a, b] } = twoClones('a', 'b');
    const claimStart = Date.now();
    const claimed = cli(a, 'claim', '--agent', 'alice', '--task', 't', '--json');
    const claimEnd = Date.now();
    expect(Date.parse(claimed.json.task.claim.claimed_at)).toBeGreaterThanOrEqual(claimStart - 5);
    // b looks for the first time: it cannot know the claim's age, and may only under-state it.
    const firstLook = claimOf(b, 't');
    expect(firstLook.claim.age_ms).toBeLessThanOrEqual(firstLook.end - claimStart);

    await until(claimEnd, 1100);
    const later = claimOf(a, 't');
    // The truth: claimed between claimStart and claimEnd, shown between later.start and later.end.
    expect(later.claim.age_ms).toBeGreaterThanOrEqual(later.start - claimEnd - 5);
    expect(later.claim.age_ms).toBeLessThanOrEqual(later.end - claimStart + 5);
    expect(Math.abs(Date.parse(later.claim.claimed_at) - Date.parse(claimed.json.task.claim.claimed_at))).toBeLessThan(claimEnd - claimStart + 10);
    expect(later.claim.heartbeat_age_ms).toBeGreaterThanOrEqual(later.start - claimEnd - 5);
    expect(later.text).toMatch(/claimed by alice at least [12]s ago, as this clone saw it \(the claimer's clock: \d{4}-/);
    // b's second look: at least as old as the time since its first, never older than the truth.
    const second = claimOf(b, 't');
    expect(second.claim.age_ms).toBeGreaterThanOrEqual(second.start - firstLook.end - 5);
    expect(second.claim.age_ms).toBeLessThanOrEqual(second.end - claimStart + 5);

    // A heartbeat is a new sign of life: a's next look dates it by the heartbeat's push.
    const beatStart = Date.now();
    cli(a, 'heartbeat', '--agent', 'alice', '--task', 't', '--token', claimed.json.token);
    const beatEnd = Date.now();
    await until(beatEnd, 800);
    const afterBeat = claimOf(a, 't');
    expect(afterBeat.claim.heartbeat_age_ms).toBeGreaterThanOrEqual(afterBeat.start - beatEnd - 5);
    expect(afterBeat.claim.heartbeat_age_ms).toBeLessThanOrEqual(afterBeat.end - beatStart + 5);
    expect(afterBeat.claim.age_ms).toBeGreaterThanOrEqual(afterBeat.start - claimEnd - 5);
    const status = cli(a, 'status', '--json').json.tasks.find((task: any) => task.id === 't').claim;
    expect(status.age_ms).toBeGreaterThanOrEqual(afterBeat.start - claimEnd - 5);
  });

  it('attempt numbers agree between the claimer\'s words and another clone\'s show and status', () => {
    const { clones: [a, b] } = twoClones('a', 'b');
    const used = (cwd: string): string[] => [
      /attempts: (\d+ of \d+) used/.exec(cli(cwd, 'show', '--task', 't').stdout)?.[1] ?? '',
      /^t\s+\w+\s+\S*\s+(\d+ of \d+)/m.exec(cli(cwd, 'status').stdout)?.[1] ?? '',
    ];
    const first = cli(a, 'claim', '--agent', 'alice', '--task', 't', '--json');
    expect(cli(b, 'show', '--task', 't', '--json').json.task).toMatchObject({ attempts: first.json.task.attempts, claim: { agent: 'alice', lease: first.json.task.claim.lease } });
    expect(used(b)).toStrictEqual(['1 of 2', '1 of 2']);
    cli(b, 'recover', '--force', '--task', 't');
    expect(used(a)).toStrictEqual(['1 of 2', '1 of 2']); // failed: one attempt used, none held
    const second = cli(b, 'claim', '--agent', 'bob', '--task', 't');
    expect(second.stdout).toMatch(/^claimed t \(attempt 2 of 2\) as bob\n(.*\n)*attempts: 2 of 2 used$/m);
    expect(used(a)).toStrictEqual(['2 of 2', '2 of 2']);
  });

  it('a heartbeat sent with the token from another clone prints no age from the claimer\'s clock, 5 hours behind', () => {
    const { base, clones: [slow, b] } = twoClones('slow', 'b');
    // A machine whose wall clock is 5 hours behind: Date is all node reads the wall time through.
    const preload = join(base, 'skew.cjs');
    writeFileSync(preload, `const Real = Date;\nglobalThis.Date = class extends Real { constructor(...a) { if (a.length === 0) super(Real.now() - 5 * 3600000); else super(...a); } static now() { return Real.now() - 5 * 3600000; } };\n`);
    const claimStart = Date.now();
    const claim = spawnSync(process.execPath, ['-r', preload, TEST_BUNDLE, 'claim', '--agent', 'alice', '--task', 't', '--json'], { cwd: slow, env: { ...process.env, ...STORE }, encoding: 'utf8' });
    expect(claim.status, claim.stderr).toBe(0);
    const beat = cli(b, 'heartbeat', '--agent', 'alice', '--task', 't', '--token', JSON.parse(claim.stdout).token, '--json');
    const { claim: seen } = beat.json.task;
    expect(seen.age_ms).toBeGreaterThanOrEqual(0);
    expect(seen.age_ms).toBeLessThanOrEqual(Date.now() - claimStart);
    expect(Date.parse(seen.claimed_at)).toBeGreaterThanOrEqual(claimStart - 5);
    expect(Date.parse(seen.claimer_stamp)).toBeLessThan(claimStart - 4 * 3_600_000);
  });
});
