// The edges of a shared run (`run --store git:origin` in several clones): where it starts from, how
// every machine ends it, and the errors a machine joining it with other settings gets.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cloneRepo, createBareRepo, gitIn } from '../helpers/git-server.ts';
import { runCli } from '../helpers/run-cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { agentScript, startCli, waitFor } from './fixtures.ts';

interface Shared {
  bare: string;
  scratch: string;
  plan: string;
  machine(name: string): string;
}

function sharedPlan(tasks: { id: string; max_attempts?: number }[], name = 'shared-plan'): Shared {
  const base = tempDir('pa-shared-edges-');
  const bare = createBareRepo(base);
  const scratch = join(base, 'scratch');
  mkdirSync(scratch);
  const plan = join(scratch, `${name}.json`);
  writeFileSync(plan, JSON.stringify({
    name,
    tasks: tasks.map((task) => ({ id: task.id, title: `Task ${task.id}`, files: [`out/${task.id}.txt`], ...(task.max_attempts ? { max_attempts: task.max_attempts } : {}), prompt: `Write out/${task.id}.txt` })),
  }));
  return { bare, scratch, plan, machine: (dir) => cloneRepo(`file://${bare}`, join(base, dir)) };
}

function report(clone: string): any {
  return JSON.parse(readFileSync(join(clone, '_tasks', 'run-report.json'), 'utf8'));
}

const WRITE = 'cat > /dev/null\nmkdir -p out\necho "$PARALLEL_TASK_ID by $MACHINE" > "out/$PARALLEL_TASK_ID.txt"';
const runArgs = (plan: string, agent: string): string[] => ['run', plan, '--store', 'git:origin', '--agents', '1', '--agent-cmd', agent, '--timeout', '60s', '--stale-after', '6s'];
const worktrees = (clone: string): number => gitIn(clone, 'worktree', 'list').split('\n').length;
const taskBranches = (clone: string): string => gitIn(clone, 'branch', '--list', 'parallel/*');

function commitFile(clone: string, file: string, message: string): string {
  writeFileSync(join(clone, file), `${message}\n`);
  gitIn(clone, 'add', file);
  gitIn(clone, 'commit', '-q', '-m', message);
  return gitIn(clone, 'rev-parse', 'HEAD');
}

describe('where a shared run starts', () => {
  it('from the remote\'s target: a clone behind it runs on it; a clone with unpushed commits is refused before publishing anything', async () => {
    const shared = sharedPlan([{ id: 'x' }]);
    const agent = agentScript(shared.scratch, 'write.sh', WRITE);
    const [behind, ahead, pusher] = [shared.machine('behind'), shared.machine('ahead'), shared.machine('pusher')];
    const moved = commitFile(pusher, 'moved.txt', 'pushed after the others cloned');
    gitIn(pusher, 'push', '-q', 'origin', 'main');
    commitFile(ahead, 'private.txt', 'local only, never pushed');

    const refused = await startCli(runArgs(shared.plan, agent), ahead, { MACHINE: 'ahead' }).done;
    expect(refused.code).toBe(1);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect(refused.stderr.trim()).toMatch(/^parallel-agents: main here \([0-9a-f]{12}\) has commits that origin\/main \([0-9a-f]{12}\) does not, .*: push them \(git push origin main\) or reset main to origin\/main, then run the plan again$/);
    expect(gitIn(shared.bare, 'for-each-ref', 'refs/parallel/')).toBe('');

    const run = await startCli(runArgs(shared.plan, agent), behind, { MACHINE: 'behind' }).done;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const commit = report(behind).tasks.find((task: any) => task.id === 'x').commit;
    // The task's work was built on the pushed commit, not on the clone's stale main.
    expect(() => gitIn(behind, 'merge-base', '--is-ancestor', moved, commit)).not.toThrow();
    expect(gitIn(shared.bare, 'ls-tree', '--name-only', 'main').split('\n').sort()).toStrictEqual(['moved.txt', 'out']);
    expect(gitIn(behind, 'rev-parse', 'main')).toBe(gitIn(shared.bare, 'rev-parse', 'main'));
  });
});

describe('how a shared run ends on every machine', () => {
  it('the machine whose verify found nothing to merge removes its merged worktrees too, and a re-run behaves the same on both', async () => {
    const shared = sharedPlan([{ id: 'p1' }, { id: 'p2' }]);
    const barrier = join(shared.scratch, 'barrier');
    mkdirSync(barrier);
    // Each task waits until both have started: one runs on each machine.
    const agent = agentScript(shared.scratch, 'w.sh', `cat > /dev/null\ntouch "${barrier}/$PARALLEL_TASK_ID"\nwhile [ "$(ls "${barrier}" | wc -l)" -lt 2 ]; do sleep 0.02; done\nmkdir -p out\necho "$PARALLEL_TASK_ID by $MACHINE" > "out/$PARALLEL_TASK_ID.txt"`);
    const [a, b] = [shared.machine('a'), shared.machine('b')];
    const args = runArgs(shared.plan, agent);
    const first = startCli(args, a, { MACHINE: 'a' });
    await waitFor(() => readdirSync(barrier).length === 1, 'a to start one task', 30_000);
    const runs = await Promise.all([first.done, startCli(args, b, { MACHINE: 'b' }).done]);
    for (const run of runs) expect(run.code, run.stdout + run.stderr).toBe(0);
    expect([report(a).verify.status, report(b).verify.status].sort()).toStrictEqual(['merged', 'nothing-to-merge']);
    const main = gitIn(shared.bare, 'rev-parse', 'main');
    for (const clone of [a, b]) {
      expect([worktrees(clone), taskBranches(clone)], clone).toStrictEqual([1, '']);
      expect(gitIn(clone, 'rev-parse', 'main'), clone).toBe(main);
    }
    const again = await Promise.all([startCli(args, a, { MACHINE: 'a' }).done, startCli(args, b, { MACHINE: 'b' }).done]);
    for (const run of again) expect(run.code, run.stderr).toBe(0);
    expect([report(a).verify.status, report(b).verify.status]).toStrictEqual(['nothing-to-merge', 'nothing-to-merge']);
  });

  it('nothing to merge: the local target comes along only when that loses nothing, then the merged worktrees go (--keep-worktrees keeps them)', () => {
    const shared = sharedPlan([{ id: 'x' }]);
    const cli = (cwd: string, ...args: string[]) => runCli(args, { cwd, env: { PARALLEL_STORE: 'git:origin' } });
    const [a, b] = [shared.machine('a'), shared.machine('b')];
    commitFile(a, 'notes.txt', 'a tracked file');
    gitIn(a, 'push', '-q', 'origin', 'main');
    expect(cli(a, 'plan', 'publish', shared.plan).exitCode).toBe(0);
    const claim = cli(a, 'claim', '--agent', 'alice', '--task', 'x', '--json');
    expect(cli(a, 'worktree', 'add', '--task', 'x').exitCode).toBe(0);
    mkdirSync(join(a, '.parallel', 'worktrees', 'x', 'out'));
    writeFileSync(join(a, '.parallel', 'worktrees', 'x', 'out', 'x.txt'), 'x\n');
    const done = cli(a, 'complete', '--agent', 'alice', '--task', 'x', '--token', claim.json.token, '--commit-worktree', '--summary', 'did x');
    expect(done.exitCode, done.stderr).toBe(0);
    expect(cli(b, 'verify', '--into', 'main').stdout).toMatch(/MERGED 1 task/);
    const merged = gitIn(shared.bare, 'rev-parse', 'main');
    const before = gitIn(a, 'rev-parse', 'main');

    // a's checked-out main has an uncommitted change to a tracked file: main stays, and so does the worktree.
    writeFileSync(join(a, 'notes.txt'), 'edited, not committed\n');
    const dirty = cli(a, 'verify', '--into', 'main');
    expect(dirty.exitCode, dirty.stderr).toBe(0);
    expect(dirty.stdout).toMatch(/^nothing to merge into main$/m);
    expect(dirty.stdout).toMatch(/^local main: left at [0-9a-f]{12}: main is checked out at .* with uncommitted changes \(e\.g\. notes\.txt\).*\(git pull --ff-only brings it along\)/m);
    expect(dirty.stdout).toMatch(/^kept the worktree of x: the local main does not have the merge yet/m);
    expect([gitIn(a, 'rev-parse', 'main'), worktrees(a)]).toStrictEqual([before, 2]);

    gitIn(a, 'checkout', '--', 'notes.txt');
    const kept = cli(a, 'verify', '--into', 'main', '--keep-worktrees');
    expect(kept.stdout).toMatch(/^local main: fast-forwarded in /m);
    expect([gitIn(a, 'rev-parse', 'main'), worktrees(a)]).toStrictEqual([merged, 2]);
    expect(readFileSync(join(a, 'out', 'x.txt'), 'utf8')).toBe('x\n');

    const cleaned = cli(a, 'verify', '--into', 'main');
    expect(cleaned.stdout).toMatch(/^removed 1 merged worktree\(s\) and their branches: x/m);
    expect([worktrees(a), taskBranches(a)]).toStrictEqual([1, '']);
  });
});

describe('errors a machine joining a shared run gets', () => {
  it('started with another --max-attempts: the error names the flag and the value to give', async () => {
    const shared = sharedPlan([{ id: 'x' }]);
    const agent = agentScript(shared.scratch, 'write.sh', WRITE);
    const [a, b] = [shared.machine('a'), shared.machine('b')];
    const first = await startCli([...runArgs(shared.plan, agent), '--max-attempts', '3'], a, { MACHINE: 'a' }).done;
    expect(first.code, first.stderr).toBe(0);
    const plain = await startCli(runArgs(shared.plan, agent), b, { MACHINE: 'b' }).done;
    expect(plain.code).toBe(2);
    expect(plain.stderr.trim().split('\n').at(-1)).toBe('parallel-agents: task "x" already exists (completed) with max_attempts 3, but this run has no --max-attempts, and the plan\'s max_attempts is 2; start every machine joining the run with the same --max-attempts (here --max-attempts 3)');
    const other = await startCli([...runArgs(shared.plan, agent), '--max-attempts', '4'], b, { MACHINE: 'b' }).done;
    expect(other.stderr).toMatch(/with max_attempts 3, but this run has --max-attempts 4; .*\(here --max-attempts 3\)$/m);
  });

  it('the next plan after one that ended with a blocked task: run names --allow-mixed, and accepts it', async () => {
    const shared = sharedPlan([{ id: 'x', max_attempts: 1 }]);
    const fail = agentScript(shared.scratch, 'fail.sh', 'cat > /dev/null\nexit 1');
    const a = shared.machine('a');
    expect((await startCli(runArgs(shared.plan, fail), a).done).code).toBe(1);
    const next = join(shared.scratch, 'next.json');
    writeFileSync(next, JSON.stringify({ name: 'next-plan', tasks: [{ id: 'n1', title: 'N1', files: ['out/n1.txt'], prompt: 'write it' }] }));
    const write = agentScript(shared.scratch, 'write.sh', WRITE);
    const refused = await startCli(runArgs(next, write), a).done;
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/1 task of plan "shared-plan" is unfinished: x \(blocked\); finish them first or pass --allow-mixed$/m);
    const followed = await startCli([...runArgs(next, write), '--allow-mixed'], a, { MACHINE: 'a' }).done;
    expect(followed.code, followed.stderr).toBe(0);
    expect(gitIn(shared.bare, 'show', 'main:out/n1.txt')).toBe('n1 by a');
  });
});

describe('durations a shared run is given', () => {
  it('a lease past 7 days, or any duration flag past it, is refused in one line naming the flag, the limit and the fix', () => {
    const shared = sharedPlan([{ id: 'x' }]);
    const agent = agentScript(shared.scratch, 'write.sh', WRITE);
    const clone = shared.machine('a');
    for (const flag of ['--stale-after', '--heartbeat', '--timeout']) {
      const refused = runCli(['run', shared.plan, '--store', 'git:origin', '--agent-cmd', agent, flag, '2000h'], { cwd: clone });
      expect(refused.exitCode, refused.stderr).toBe(2);
      expect(refused.stderr.trim()).toBe(`parallel-agents: ${flag} must be at most 168h (7 days) (got "2000h"); give a shorter duration, such as 24h`);
    }
    expect(gitIn(shared.bare, 'for-each-ref', 'refs/parallel/')).toBe('');
  });
});

