import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runCli, type CliRun } from '../helpers/run-cli.ts';

// The transitions remote-kills.test.ts kills the CLI in: how each is prepared on clone a, what a
// retry of the same command must answer, and the state it leads to.

export const ENV = { PARALLEL_STORE: 'git:origin', PARALLEL_REMOTE_RETRIES: '0', PARALLEL_REMOTE_TIMEOUT_MS: '10000' };
export const ID = 't';

export type Cli = (clone: string, ...args: string[]) => CliRun;
export const cli: Cli = (clone, ...args) => {
  const run = runCli(args, { cwd: clone, env: ENV });
  return run;
};

export interface Transition {
  name: string;
  /** The subject of the commit the transition adds to the task's ref. */
  verb: RegExp;
  /** Brings clone `a` to the state before the transition; returns the command to kill. */
  prepare(a: string): string[];
  /** What a retry of the same command must answer, given whether the killed one landed. */
  retried(run: CliRun, landed: boolean): void;
  /** The task's state once the retry ran. */
  finalState: string;
}

function claimed(a: string, options: string[] = []): string {
  expect(cli(a, 'add', '--id', ID, '--title', 'T', '--files', 'src/t.txt', ...options).exitCode).toBe(0);
  const claim = cli(a, 'claim', '--agent', 'alice', '--task', ID, '--json');
  expect(claim.exitCode, claim.stderr).toBe(0);
  return claim.json.token as string;
}

/** landed: refused as the holder no longer (exit 5, naming the state it reached); else done now. */
const spentOrDone = (state: string) => (run: CliRun, landed: boolean): void => {
  if (landed) expect([run.exitCode, run.stderr]).toStrictEqual([5, expect.stringContaining(`it is ${state}`)]);
  else expect(run.exitCode, run.stderr).toBe(0);
};

export const TRANSITIONS: Record<string, Transition> = {
  claim: {
    name: 'claim',
    verb: /^claim t by alice/,
    prepare: (a) => {
      expect(cli(a, 'add', '--id', ID, '--title', 'T').exitCode).toBe(0);
      return ['claim', '--agent', 'alice', '--task', ID, '--json'];
    },
    // A claim that landed is held under a token nobody got: the retry is refused, and recover takes it back after a lease.
    retried: (run, landed) => expect(run.exitCode, run.stderr).toBe(landed ? 3 : 0),
    finalState: 'claimed',
  },
  complete: {
    name: 'complete',
    verb: /^complete t by alice/,
    prepare: (a) => {
      const token = claimed(a);
      expect(cli(a, 'worktree', 'add', '--task', ID).exitCode).toBe(0);
      mkdirSync(join(a, '.parallel', 'worktrees', ID, 'src'));
      writeFileSync(join(a, '.parallel', 'worktrees', ID, 'src', 't.txt'), 'work\n');
      return ['complete', '--agent', 'alice', '--task', ID, '--token', token, '--commit-worktree', '--summary', 'did t', '--json'];
    },
    // Landed: told its own completion stands (exit 0, already_completed); else completed now.
    retried: (run, landed) => {
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.json.already_completed ?? false).toBe(landed);
    },
    finalState: 'completed',
  },
  heartbeat: {
    name: 'heartbeat',
    verb: /^heartbeat t by alice/,
    prepare: (a) => ['heartbeat', '--agent', 'alice', '--task', ID, '--token', claimed(a)],
    retried: (run) => expect(run.exitCode, run.stderr).toBe(0),
    finalState: 'claimed',
  },
  fail: {
    name: 'fail',
    verb: /^fail t by alice/,
    prepare: (a) => ['fail', '--agent', 'alice', '--task', ID, '--token', claimed(a), '--reason', 'broken'],
    retried: spentOrDone('failed'),
    finalState: 'failed',
  },
  release: {
    name: 'release',
    verb: /^release t by alice/,
    prepare: (a) => ['release', '--agent', 'alice', '--task', ID, '--token', claimed(a)],
    retried: spentOrDone('available'),
    finalState: 'available',
  },
  recover: {
    name: 'recover',
    verb: /^recover t from alice/,
    prepare: (a) => {
      claimed(a);
      return ['recover', '--stale-after', '0s', '--json'];
    },
    retried: (run, landed) => {
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.json.recovered.map((item: { id: string }) => item.id)).toStrictEqual(landed ? [] : [ID]);
    },
    finalState: 'failed',
  },
  add: {
    name: 'add',
    verb: /^add t/,
    prepare: (a) => {
      expect(cli(a, 'init').exitCode).toBe(0);
      return ['add', '--id', ID, '--title', 'T'];
    },
    // Landed: the id is taken (exit 2, "already exists"), by the task the killed add wrote.
    retried: (run, landed) => expect([run.exitCode, landed ? /already exists/.test(run.stderr) : true], run.stderr).toStrictEqual([landed ? 2 : 0, true]),
    finalState: 'available',
  },
};

