// Many machines, one run: `parallel-agents run --store git:origin` started in several clones of a
// repository served by a real `git daemon` on loopback shares one plan. Every task is completed
// once, dependents start from work finished on another machine, one verify merges and the other
// runs say so and exit 0; a machine that goes silent loses its claims after the lease.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { cloneRepo, createBareRepo, gitIn, startGitDaemon } from '../helpers/git-server.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { agentScript, isAlive, startCli, waitFor } from './fixtures.ts';

interface Shared {
  bare: string;
  scratch: string;
  plan: string;
  machine(name: string): string;
}

async function sharedPlan(tasks: { id: string; depends_on?: string[] }[]): Promise<Shared> {
  const base = tempDir('pa-shared-run-');
  const bare = createBareRepo(base);
  const daemon = await startGitDaemon(base);
  onTestFinished(() => daemon.stop());
  const scratch = join(base, 'scratch');
  mkdirSync(scratch);
  const plan = join(scratch, 'plan.json');
  writeFileSync(plan, JSON.stringify({
    name: 'shared-plan',
    tasks: tasks.map((task) => ({ id: task.id, title: `Task ${task.id}`, files: [`out/${task.id}.txt`], depends_on: task.depends_on ?? [], prompt: `Write out/${task.id}.txt` })),
  }));
  return { bare, scratch, plan, machine: (name) => cloneRepo(daemon.url(), join(base, name)) };
}

/** The task's journal on the remote, oldest first: one subject per transition. */
function journal(bare: string, id: string): string[] {
  return gitIn(bare, 'log', '--first-parent', '--reverse', '--format=%s', `refs/parallel/store/tasks/${id}`).split('\n');
}

function report(clone: string): any {
  return JSON.parse(readFileSync(join(clone, '_tasks', 'run-report.json'), 'utf8'));
}

// Writes its file: who wrote it, then every file of the tasks it was stacked on (its worktree's
// out/). Tasks named p* first wait until four of them have started, on any machine.
const WRITE = [
  'cat > /dev/null',
  'mkdir -p out',
  'case "$PARALLEL_TASK_ID" in p*)',
  '  touch "$BARRIER/$PARALLEL_TASK_ID"',
  '  while [ "$(ls "$BARRIER" | wc -l)" -lt 4 ]; do sleep 0.02; done;;',
  'esac',
  'deps="$(cat out/*.txt 2>/dev/null)"',
  'printf "%s by %s\\n%s" "$PARALLEL_TASK_ID" "$MACHINE" "$deps" > "out/$PARALLEL_TASK_ID.txt"',
].join('\n');

describe('run --store git:origin on several machines', () => {
  it('two machines share one plan: each task done once, a dependent built on both machines\' work, one verify merges', async () => {
    const shared = await sharedPlan([{ id: 'p1' }, { id: 'p2' }, { id: 'p3' }, { id: 'p4' }, { id: 'q', depends_on: ['p1', 'p2', 'p3', 'p4'] }]);
    const barrier = join(shared.scratch, 'barrier');
    mkdirSync(barrier);
    const agent = agentScript(shared.scratch, 'write.sh', WRITE);
    const args = ['run', shared.plan, '--store', 'git:origin', '--agents', '2', '--agent-cmd', agent, '--stale-after', '6s', '--timeout', '60s', '--test', 'test -f out/q.txt'];
    const [a, b] = [shared.machine('a'), shared.machine('b')];
    const first = startCli(args, a, { BARRIER: barrier, MACHINE: 'a' });
    // a's two agents hold two of the four first tasks (they wait for four), so b gets the others.
    await waitFor(() => readdirSync(barrier).length === 2, 'machine a to start two tasks', 30_000);
    const second = startCli(args, b, { BARRIER: barrier, MACHINE: 'b' });
    const runs = await Promise.all([first.done, second.done]);
    for (const run of runs) expect(run.code, run.stdout + run.stderr).toBe(0);

    const reports = [report(a), report(b)];
    const statuses = reports.map((entry) => entry.verify.status).sort();
    expect(statuses).toStrictEqual(['merged', 'nothing-to-merge']);
    const other = reports.find((entry) => entry.verify.status === 'nothing-to-merge');
    expect(other.verify.note).toMatch(/^(another machine's verify merged the plan|origin\/main at [0-9a-f]{10} already has every task's work)/);
    for (const entry of reports) expect(entry.counts).toMatchObject({ total: 5, completed: 5 });
    expect(runs.map((run) => run.stdout).join('')).toMatch(/verify: nothing-to-merge - /);

    // Each task completed exactly once, in one attempt, and no claim was taken back.
    for (const id of ['p1', 'p2', 'p3', 'p4', 'q']) {
      const subjects = journal(shared.bare, id);
      expect(subjects.filter((subject) => subject.startsWith('complete ')), id).toHaveLength(1);
      expect(subjects.filter((subject) => /^(claim|recover|fail|release) /.test(subject)).map((subject) => subject.split(' ')[0]), id).toStrictEqual(['claim']);
    }
    // The remote's main has the whole plan; q started from all four first tasks, two done on each machine.
    const main = 'refs/heads/main';
    const written = (id: string): string => gitIn(shared.bare, 'show', `${main}:out/${id}.txt`);
    const by = ['p1', 'p2', 'p3', 'p4'].map((id) => written(id).split('\n')[0]!);
    expect(by.map((line) => line.split(' by ')[1]).sort()).toStrictEqual(['a', 'a', 'b', 'b']);
    const q = written('q').split('\n');
    expect(q[0]).toMatch(/^q by [ab]$/);
    expect(q.slice(1).sort()).toStrictEqual([...by].sort());
    expect(gitIn(shared.bare, 'log', '--format=%s', main)).toContain('initial');
    expect(gitIn(shared.bare, 'for-each-ref', 'refs/parallel/store/locks/')).toBe('');
  });

  it('a machine that goes silent loses its claims after the lease; the other finishes the plan, and the silent one killed with -9 is refused a fresh start', async () => {
    const shared = await sharedPlan([{ id: 'p1' }, { id: 'p2' }, { id: 'p3' }, { id: 'q', depends_on: ['p1', 'p2', 'p3'] }]);
    const marks = join(shared.scratch, 'marks');
    mkdirSync(marks);
    // The silent machine's agents start their task and never finish it.
    const hang = agentScript(shared.scratch, 'hang.sh', `cat > /dev/null\necho $$ > "${marks}/$PARALLEL_TASK_ID"\nexec sleep 120`);
    const write = agentScript(shared.scratch, 'write.sh', WRITE.replace(/case[^]*esac\n/, ''));
    const args = ['run', shared.plan, '--store', 'git:origin', '--agents', '2', '--stale-after', '2s', '--max-attempts', '2', '--timeout', '60s'];
    const [silent, live] = [shared.machine('silent'), shared.machine('live')];
    const frozen = startCli([...args, '--agent-cmd', hang], silent);
    onTestFinished(() => {
      frozen.child.kill('SIGKILL');
      for (const name of existsSync(marks) ? readdirSync(marks) : []) {
        try { process.kill(Number(readFileSync(join(marks, name), 'utf8')), 'SIGKILL'); } catch { /* gone */ }
      }
    });
    await waitFor(() => readdirSync(marks).length === 2, 'the silent machine to start two tasks', 30_000);
    const held = readdirSync(marks).sort();
    // Stopped, the runner is alive (its claims are not a dead process's) but sends no heartbeat.
    frozen.child.kill('SIGSTOP');
    const run = await startCli([...args, '--agent-cmd', write], live, { MACHINE: 'live' }).done;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(report(live).verify.status).toBe('merged');
    frozen.child.kill('SIGKILL');
    await frozen.done;
    expect(isAlive(frozen.child.pid!)).toBe(false);

    for (const id of held) {
      const subjects = journal(shared.bare, id).filter((subject) => !subject.startsWith('heartbeat '));
      expect(subjects.map((subject) => subject.split(' ')[0])).toStrictEqual(['add', 'claim', 'recover', 'claim', 'complete']);
      // Taken back for silence seen on the live machine's own clock, not for a dead process.
      expect(subjects[2]).toMatch(/: failed \(attempt 1 of 2\): no sign of life seen for \d+s on this machine \(limit 2s\)$/);
    }
    for (const id of ['p1', 'p2', 'p3', 'q']) expect(gitIn(shared.bare, 'show', `refs/heads/main:out/${id}.txt`).split('\n')[0]).toBe(`${id} by live`);
    // Back on the silent machine, a plain start of the plan it ran is refused: --resume continues it.
    // (Its worktrees: the two it claimed, and the one it may have prepared ahead.)
    const again = startCli([...args, '--agent-cmd', write], silent);
    const refused = await again.done;
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/plan "shared-plan" already ran here \([23] task\(s\) not available.*--resume"$/m);
  });
  it('a machine frozen holding the verify lock: the other run takes it over after the lease the lock records, saying when; claims and lock record their run\'s --stale-after', async () => {
    const shared = await sharedPlan([{ id: 'x' }]);
    const gate = join(shared.scratch, 'gate');
    mkdirSync(gate);
    const write = agentScript(shared.scratch, 'write.sh', WRITE.replace(/case[^]*esac\n/, ''));
    // a's test gate hangs while a holds the lock; b's gate keeps the lock record it merges under.
    const test = agentScript(shared.scratch, 'gate.sh', `[ "$MACHINE" = a ] && { echo $$ > "${gate}/a"; exec sleep 120; }\ngit --git-dir="${shared.bare}" log -1 --format=%B refs/parallel/store/locks/verify > "${gate}/b"`);
    const args = ['run', shared.plan, '--store', 'git:origin', '--agents', '1', '--agent-cmd', write, '--timeout', '60s', '--test', test];
    const [a, b] = [shared.machine('a'), shared.machine('b')];
    const frozen = startCli([...args, '--stale-after', '4s'], a, { MACHINE: 'a' });
    onTestFinished(() => {
      frozen.child.kill('SIGKILL');
      try { process.kill(Number(readFileSync(join(gate, 'a'), 'utf8')), 'SIGKILL'); } catch { /* gone */ }
    });
    await waitFor(() => existsSync(join(gate, 'a')), 'a\'s verify to hold the lock and run its gate', 30_000);
    frozen.child.kill('SIGSTOP'); // alive, so not a dead process's lock, but it renews nothing
    const second = startCli([...args, '--stale-after', '3s'], b, { MACHINE: 'b' });
    let waitLine: { at: number; line: string } | undefined;
    second.child.stderr!.on('data', (chunk: string) => {
      const line = /^verify: another verify is merging.*$/m.exec(chunk)?.[0];
      if (line && !waitLine) waitLine = { at: Date.now(), line };
    });
    await waitFor(() => existsSync(join(gate, 'b')), 'b to take the lock over', 30_000);
    const tookOverAt = Date.now();
    const run = await second.done;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(report(b).verify.status).toBe('merged');
    // The lease a recorded (4s), not b's own 3s, and the time it announced, checked against the wall clock.
    const announced = /taken over in (\d+\.\d)s if it shows no sign of life \(its lease: 4\.0s\)$/.exec(waitLine?.line ?? '');
    expect(announced, waitLine?.line).not.toBeNull();
    expect(tookOverAt - waitLine!.at).toBeGreaterThanOrEqual(Number(announced![1]) * 1000 - 100);
    expect(JSON.parse(readFileSync(join(gate, 'b'), 'utf8').trim().split('\n').pop()!).lease_ms).toBe(3000);
    const claim = gitIn(shared.bare, 'log', '--first-parent', '--format=%B', '--grep=^claim x', 'refs/parallel/store/tasks/x').trim().split('\n').pop()!;
    expect(JSON.parse(claim).claim.lease_ms).toBe(4000);
  });
  it('wait_ms of a task held on another machine, then given back, counts only the time it was ready here', async () => {
    const shared = await sharedPlan([{ id: 'x' }]);
    const marks = join(shared.scratch, 'marks');
    mkdirSync(marks);
    // a's agent holds x until a is interrupted; b's agent notes when it starts (ms since the epoch).
    const agent = agentScript(shared.scratch, 'agent.sh', `cat > /dev/null\n[ "$MACHINE" = a ] && { touch "${marks}/a"; exec sleep 60; }\ndate +%s%3N > "${marks}/b"\nmkdir -p out\necho x > out/x.txt`);
    const args = ['run', shared.plan, '--store', 'git:origin', '--agents', '1', '--agent-cmd', agent, '--timeout', '60s', '--stale-after', '30s'];
    const [a, b] = [shared.machine('a'), shared.machine('b')];
    const holder = startCli(args, a, { MACHINE: 'a' });
    onTestFinished(() => { holder.child.kill('SIGKILL'); });
    await waitFor(() => existsSync(join(marks, 'a')), 'a to start x', 30_000);
    const second = startCli(args, b, { MACHINE: 'b' });
    let running = false;
    second.child.stderr!.on('data', (chunk: string) => (running ||= /^run: \d+ of \d+ task/m.test(chunk)));
    await waitFor(() => running, 'b to start its run (it has seen x held)', 30_000);
    // The span measured: b's free agent sees x held elsewhere for 3 s, time that is no wait of x here.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    holder.child.kill('SIGINT'); // a gives x back
    await holder.done;
    const run = await second.done;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const released = gitIn(shared.bare, 'log', '--first-parent', '--format=%B', '--grep=^release x', 'refs/parallel/store/tasks/x').trim().split('\n').pop()!;
    const releasedAt = Date.parse(JSON.parse(released).at);
    const startedAt = Number(readFileSync(join(marks, 'b'), 'utf8'));
    // x was ready on b at the earliest when a released it, and waited at most until b's agent started it.
    const line = report(b).tasks.find((task: any) => task.id === 'x');
    expect(line.wait_ms).toBeGreaterThanOrEqual(0);
    expect(line.wait_ms).toBeLessThanOrEqual(startedAt - releasedAt);
  });
});
