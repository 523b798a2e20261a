import { cpSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTempName } from '../../src/fs/atomic-write.ts';
import { parseClaimFileName } from '../../src/store/local/names.ts';
import { runCli } from '../helpers/run-cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { viewStore } from './invariants.ts';
import { callIndex, straceCli, straceStopped } from './strace.ts';

// Issue 9's reproductions against the real CLI bundle, with the fault on the real system call
// (strace -e inject), on the ordinary disk: a slow fail stopped right after it installed the new
// content while others claim and recover; kills right before each rename of complete and right
// before the journal write; temp files of a killed add or publish, removed by recover.

function cliIn(cwd: string, dir: string) {
  return (...args: string[]) => runCli([...args, '--tasks-dir', dir, '--json'], { cwd });
}

function holdersOf(dir: string, id: string): string[] {
  return readdirSync(join(dir, 'claimed')).filter((name) => parseClaimFileName(name)?.id === id).map((name) => parseClaimFileName(name)!.agent);
}

describe('strace -f -e inject against the CLI bundle', () => {
  it('a fail stopped after installing failed/t0.md, then claim, recover, claim: one holder, nothing resurrected', async () => {
    const cwd = tempDir();
    const dir = join(cwd, '_tasks');
    const cli = cliIn(cwd, dir);
    expect(cli('add', '--id', 't0', '--title', 'slow', '--max-attempts', '5').exitCode).toBe(0);
    const alice = cli('claim', '--agent', 'alice').json.token as string;
    const failArgs = ['fail', '--agent', 'alice', '--task', 't0', '--token', alice, '--reason', 'slow', '--tasks-dir', dir];
    // Which rename installs the new content, from a traced run of the same command on a copy.
    cpSync(dir, join(cwd, 'copy'), { recursive: true });
    const dry = straceCli(['-e', 'trace=rename'], [...failArgs.slice(0, -1), join(cwd, 'copy')], cwd);
    expect(dry.exitCode, dry.stderr).toBe(0);
    const install = callIndex(dry.stderr, 'rename', '.pending~');

    const slow = await straceStopped(['-e', 'trace=rename', '-e', `inject=rename:signal=SIGSTOP:when=${install}`], failArgs, cwd);
    expect(readdirSync(join(dir, 'failed')).filter((name) => name.startsWith('.moving~'))).toHaveLength(1);
    const bob = cli('claim', '--agent', 'bob');
    expect([bob.exitCode, bob.json.task?.id, bob.json.task?.attempts]).toStrictEqual([0, 't0', 1]);
    const recovered = cli('recover');
    expect(recovered.exitCode).toBe(0);
    expect(recovered.json).toMatchObject({ recovered: [], repaired: [] });
    const carol = cli('claim', '--agent', 'carol');
    expect([carol.exitCode, carol.json.error?.code]).toStrictEqual([3, 'E_NOTHING_CLAIMABLE']);
    expect(holdersOf(dir, 't0')).toStrictEqual(['bob']);

    const failed = await slow.resume();
    expect(failed.exitCode, failed.stderr).toBe(0);
    expect(holdersOf(dir, 't0')).toStrictEqual(['bob']);
    const done = cli('complete', '--agent', 'bob', '--task', 't0', '--token', bob.json.token, '--summary', 'bob did it');
    expect(done.exitCode, done.stderr).toBe(0);
    // Bob's retry is told his completion stands and changes nothing; alice's old claim is spent.
    expect(cli('complete', '--agent', 'bob', '--task', 't0', '--token', bob.json.token).json).toMatchObject({ already_completed: true, task: { completed_by: 'bob', summary: 'bob did it' } });
    expect(cli('complete', '--agent', 'alice', '--task', 't0', '--token', alice).exitCode).toBe(5);
    expect(cli('recover').json).toMatchObject({ recovered: [], repaired: [], reconciled: [] });
    expect(cli('show', '--task', 't0').json.task).toMatchObject({ state: 'completed', attempts: 1, completed_by: 'bob', summary: 'bob did it' });
    expect(viewStore(dir).leftovers).toStrictEqual([]);
  });

  for (const at of ['the ownership rename', 'the install rename', 'the journal write'] as const) {
    it(`complete killed right before ${at}: recover leaves it whole, done or still held, the journal agreeing`, () => {
      const cwd = tempDir();
      const dir = join(cwd, '_tasks');
      const cli = cliIn(cwd, dir);
      cli('add', '--id', 't0', '--title', 'work');
      const token = cli('claim', '--agent', 'alice').json.token as string;
      const args = ['complete', '--agent', 'alice', '--task', 't0', '--token', token, '--summary', 'whole', '--tasks-dir', dir];
      const filter = at === 'the journal write'
        ? ['-P', join(dir, 'events.jsonl'), '-e', 'trace=write', '-e', 'inject=write:signal=SIGKILL:when=1']
        : ['-e', 'trace=rename', '-e', `inject=rename:signal=SIGKILL:when=${at === 'the ownership rename' ? 1 : 2}`];
      const killed = straceCli(filter, args, cwd);
      expect(killed.signal, killed.stderr).toBe('SIGKILL');
      const report = cli('recover');
      expect(report.exitCode).toBe(0);
      if (at === 'the ownership rename') {
        // Nothing happened: the claim is still alice's, and her retry completes it.
        expect(holdersOf(dir, 't0')).toStrictEqual(['alice']);
        expect(cli('complete', '--agent', 'alice', '--task', 't0', '--token', token, '--summary', 'whole').exitCode).toBe(0);
      } else {
        // Ownership was taken: recover finishes the move, and alice's retry is told her completion stands.
        expect(report.json.repaired.join('\n')).toContain('completed/t0: finished an interrupted move');
        const retry = cli('complete', '--agent', 'alice', '--task', 't0', '--token', token);
        expect([retry.exitCode, retry.json.already_completed]).toStrictEqual([0, true]);
      }
      expect(cli('show', '--task', 't0').json.task).toMatchObject({ state: 'completed', summary: 'whole', completed_by: 'alice' });
      if (at === 'the journal write') expect(report.json.reconciled.join('\n')).toContain('t0: the journal said claimed');
      expect(cli('recover').json).toMatchObject({ recovered: [], repaired: [], reconciled: [] });
      expect(viewStore(dir).leftovers).toStrictEqual([]);
    });
  }

  it('add and plan publish killed right before a link leave a temp file named by their pid; recover removes it', () => {
    const cwd = tempDir();
    const dir = join(cwd, '_tasks');
    const cli = cliIn(cwd, dir);
    cli('add', '--id', 'a0', '--title', 'first');
    const add = straceCli(['-e', 'trace=link', '-e', 'inject=link:signal=SIGKILL:when=1'], ['add', '--id', 'a1', '--title', 'killed', '--tasks-dir', dir], cwd);
    expect(add.signal, add.stderr).toBe('SIGKILL');
    const plan = join(cwd, 'plan.json');
    writeFileSync(plan, JSON.stringify({ name: 'p', tasks: ['p0', 'p1', 'p2'].map((id) => ({ id, title: id, files: [`${id}/**`], prompt: 'do it' })) }));
    const publish = straceCli(['-e', 'trace=link', '-e', 'inject=link:signal=SIGKILL:when=2'], ['plan', 'publish', plan, '--allow-mixed', '--tasks-dir', dir], cwd);
    expect(publish.signal, publish.stderr).toBe('SIGKILL');

    const temps = readdirSync(join(dir, 'available')).filter((name) => name.startsWith('.tmp~'));
    expect(temps.map((name) => name.replace(/^\.tmp~[^~]+~/, '')).sort()).toStrictEqual(['a1.md', 'p1.md']);
    // The writer's pid comes first in the name, and it is the killed process's (strace names it at the link).
    const linker = (run: { stderr: string }) => Number(/(?:^|\n)(?:\[pid +)?(\d+)\]? ?link\(/.exec(run.stderr)?.[1]);
    expect(temps.map((name) => parseTempName(name)?.pid).sort()).toStrictEqual([linker(add), linker(publish)].sort());

    const report = cli('recover');
    expect(report.json.repaired.filter((line: string) => line.includes("removed a dead writer's temp file"))).toHaveLength(2);
    expect(viewStore(dir).leftovers).toStrictEqual([]);
    expect(cli('add', '--id', 'a1', '--title', 'again').exitCode).toBe(0);
    expect(runCli(['plan', 'publish', plan, '--allow-mixed', '--tasks-dir', dir, '--json'], { cwd }).json.published).toStrictEqual(['p1', 'p2']);
    expect(cli('recover').json).toMatchObject({ recovered: [], repaired: [], reconciled: [] });
    expect(viewStore(dir).byState.available!.sort()).toStrictEqual(['a0', 'a1', 'p0', 'p1', 'p2']);
  });
});
