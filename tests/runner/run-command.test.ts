import { existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { progressEvents, runCli, runCliAsync } from '../helpers/run-cli.ts';
import { git } from '../helpers/git-repo.ts';
import { agentScript, events, isAlive, planFixture, readReport, startCli, statesOf, waitFor } from './fixtures.ts';

// A well-behaved shell agent: writes its file and leaves the commit to the runner.
const WRITE_OUT = 'mkdir -p out && echo "done by $PARALLEL_TASK_ID" > "out/$PARALLEL_TASK_ID.txt"';

describe('parallel-agents run', () => {
  it('runs a plan with a shell agent, merges it behind the test command and reports', async () => {
    const { repo, plan, scratch } = planFixture([
      { id: 'a' }, { id: 'b' }, { id: 'c', depends_on: ['a', 'b'] },
    ]);
    const agent = agentScript(scratch, 'agent.sh', `cat > /dev/null\n${WRITE_OUT}`);
    const result = await runCliAsync(['run', plan, '--agent-cmd', agent, '--agents', '2', '--test', 'test -f out/c.txt', '--json'], { cwd: repo });
    expect(result.exitCode).toBe(0);
    // stdout is the one report document; progress went to stderr, as JSON lines only.
    const final = result.json;
    const lines = progressEvents(result.stderr);
    expect(lines.every((line) => typeof line.event === 'string')).toBe(true);
    expect(final.report.counts).toMatchObject({ total: 3, completed: 3 });
    expect(final.report.verify.status).toBe('merged');
    expect(lines.some((line) => line.event === 'task-complete' && line.task === 'c')).toBe(true);
    // c started from a and b's commits, and main now holds all three files.
    expect(readFileSync(join(repo, 'out', 'c.txt'), 'utf8')).toBe('done by c\n');
    expect(git(repo, 'ls-files', 'out').split('\n').sort()).toEqual(['out/a.txt', 'out/b.txt', 'out/c.txt']);
    expect(readReport(repo).lower_bound_ms).toBeGreaterThan(0);
  });

  it('retries a failing task, then blocks it with the exit code and stderr as the reason', async () => {
    const { repo, plan, scratch } = planFixture([{ id: 'bad', max_attempts: 2 }, { id: 'after', depends_on: ['bad'] }, { id: 'good' }]);
    const agent = agentScript(scratch, 'agent.sh', `cat > /dev/null\nif [ "$PARALLEL_TASK_ID" = bad ]; then echo "cannot do $PARALLEL_TASK_ID" >&2; exit 7; fi\n${WRITE_OUT}`);
    const result = await runCliAsync(['run', plan, '--agent-cmd', agent, '--agents', '2', '--json'], { cwd: repo });
    expect(result.exitCode).toBe(1);
    expect(statesOf(repo)).toEqual({ bad: 'blocked', after: 'available', good: 'completed' });
    const report = readReport(repo);
    const bad = report.tasks.find((task: any) => task.id === 'bad');
    expect(bad).toMatchObject({ state: 'blocked', attempts: 2 });
    expect(bad.last_error).toBe('agent failed (exit code 7); stderr: cannot do bad');
    expect(report.verify.status).toBe('clean-dry-run');
    // The target did not move: a partial plan is never merged.
    expect(existsSync(join(repo, 'out'))).toBe(false);
  });

  it('a failure that only looks like a rate limit is not retried for free, and a real one is capped', async () => {
    const { repo, plan, scratch } = planFixture([{ id: 'trace', max_attempts: 1 }, { id: 'storm', max_attempts: 1 }]);
    // "trace" fails with a stack frame at line 429: an ordinary failure. "storm" is throttled
    // forever: after MAX_FREE_RATE_LIMITS free retries it counts as the task's failure.
    const agent = agentScript(scratch, 'agent.sh', [
      'cat > /dev/null',
      'if [ "$PARALLEL_TASK_ID" = trace ]; then echo "    at parse (src/parser.js:429:17)" >&2; exit 1; fi',
      'echo "API Error: Request rejected (429) · rate limited" >&2; exit 1',
    ].join('\n'));
    const result = await runCliAsync(['run', plan, '--agent-cmd', agent, '--agents', '2', '--backoff', '10ms', '--json'], { cwd: repo });
    expect(result.exitCode).toBe(1);
    expect(statesOf(repo)).toEqual({ trace: 'blocked', storm: 'blocked' });
    const limited = progressEvents(result.stderr).filter((line) => line.event === 'rate-limited');
    expect(limited.filter((line) => line.task === 'trace')).toHaveLength(0);
    expect(limited.filter((line) => line.task === 'storm')).toHaveLength(7);
    expect(runCli(['show', '--task', 'storm', '--json'], { cwd: repo }).json.task.last_error).toMatch(/^rate limited 8 times in a row/);
    // The report agrees with the store: throttled attempts are not the task's attempts.
    expect(readReport(repo).tasks.find((task: any) => task.id === 'storm').attempts).toBe(1);
  });

  it('kills the whole process group on timeout and fails the attempt with that reason', async () => {
    const { repo, plan, scratch } = planFixture([{ id: 'hang', max_attempts: 1 }]);
    const pids = join(scratch, 'pids');
    mkdirSync(pids);
    const agent = agentScript(scratch, 'agent.sh', `sleep 300 &\necho $! > "${pids}/grandchild"\necho $$ > "${pids}/agent"\nwait`);
    const result = await runCliAsync(['run', plan, '--agent-cmd', agent, '--timeout', '1s', '--json'], { cwd: repo });
    expect(result.exitCode).toBe(1);
    const grandchild = Number(readFileSync(join(pids, 'grandchild'), 'utf8'));
    expect(isAlive(grandchild)).toBe(false);
    expect(isAlive(Number(readFileSync(join(pids, 'agent'), 'utf8')))).toBe(false);
    expect(readReport(repo).tasks[0].last_error).toMatch(/^timed out after 1s; the process group was killed/);
    expect(statesOf(repo)).toEqual({ hang: 'blocked' });
  });

  it('stops starting attempts when the budget would be passed', async () => {
    const { repo, plan, scratch } = planFixture([{ id: 't1' }, { id: 't2' }, { id: 't3' }, { id: 't4' }]);
    const agent = agentScript(scratch, 'agent.sh', `cat > /dev/null\n${WRITE_OUT}\necho '{"total_cost_usd":0.4}'`);
    const result = await runCliAsync(['run', plan, '--agent-cmd', agent, '--agents', '1', '--budget-usd', '1', '--json'], { cwd: repo });
    expect(result.exitCode).toBe(1);
    const report = readReport(repo);
    expect(report.counts.completed).toBe(2);
    expect(report.cost_usd).toBeCloseTo(0.8);
    expect(report.budget_stopped).toBe(true);
    expect(progressEvents(result.stderr).filter((event) => event.event === 'budget-stop')).toEqual([{ event: 'budget-stop', spent_usd: expect.closeTo(0.8), budget_usd: 1 }]);
    expect(result.json.report.budget_stopped).toBe(true);
  });

  it('on SIGINT terminates the agents, releases the claims and keeps the worktrees', async () => {
    const { repo, plan, scratch } = planFixture([{ id: 'w1' }, { id: 'w2' }]);
    const marks = join(scratch, 'marks');
    mkdirSync(marks);
    const agent = agentScript(scratch, 'agent.sh', `echo partial > "partial-$PARALLEL_TASK_ID.txt"\nsleep 300 &\necho $! > "${marks}/$PARALLEL_TASK_ID"\nwait`);
    const run = startCli(['run', plan, '--agent-cmd', agent, '--agents', '2'], repo);
    await waitFor(() => readdirSync(marks).length === 2 && readdirSync(marks).every((name) => readFileSync(join(marks, name), 'utf8').trim() !== ''), 'both agents to start');
    run.child.kill('SIGINT');
    const exit = await run.done;
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('interrupted by SIGINT');
    expect(statesOf(repo)).toEqual({ w1: 'available', w2: 'available' });
    for (const name of ['w1', 'w2']) {
      expect(isAlive(Number(readFileSync(join(marks, name), 'utf8')))).toBe(false);
      // The worktree and what the agent wrote in it are still there for the resumed run.
      expect(readFileSync(join(repo, '.parallel', 'worktrees', name, `partial-${name}.txt`), 'utf8')).toBe('partial\n');
    }
    expect(events(repo).filter((event) => event.event === 'release')).toHaveLength(2);
  });

  it('on SIGINT stops a worktree set-up command under way, releases the claim and exits', async () => {
    const { repo, plan, scratch } = planFixture([{ id: 's1' }]);
    const started = join(scratch, 'setup-started');
    const release = join(scratch, 'release');
    writeFileSync(join(repo, '.parallel-agents.json'), JSON.stringify({ setup: `echo $$ > "${started}"; while [ ! -e "${release}" ]; do sleep 0.05; done`, setup_timeout: '10m' }));
    git(repo, 'add', '.parallel-agents.json');
    git(repo, 'commit', '-q', '-m', 'config');
    const agent = agentScript(scratch, 'agent.sh', `cat > /dev/null\n${WRITE_OUT}`);
    const run = startCli(['run', plan, '--agent-cmd', agent, '--agents', '1'], repo);
    await waitFor(() => existsSync(started) && readFileSync(started, 'utf8').trim() !== '', 'the set-up command to start');
    run.child.kill('SIGINT');
    // Without the interrupt reaching it, the set-up loops until its 10-minute timeout and the test
    // times out; the release file then ends it, so nothing outlives a failed test.
    onTestFinished(() => writeFileSync(release, ''));
    const exit = await run.done;
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain('interrupted by SIGINT');
    expect(isAlive(Number(readFileSync(started, 'utf8').trim()))).toBe(false);
    expect(statesOf(repo)).toEqual({ s1: 'available' });
  });

  it('an agent that deletes its own worktree: the retry gets a worktree again, from the task branch', async () => {
    const { repo, plan, scratch } = planFixture([{ id: 'del', max_attempts: 2 }]);
    const first = join(scratch, 'first');
    const agent = agentScript(scratch, 'agent.sh', [
      'cat > /dev/null',
      `if [ ! -e "${first}" ]; then touch "${first}"; d="$PWD"; cd /; rm -rf "$d"; exit 0; fi`,
      WRITE_OUT,
    ].join('\n'));
    const result = await runCliAsync(['run', plan, '--agent-cmd', agent, '--agents', '1', '--json'], { cwd: repo });
    expect({ code: result.exitCode, states: statesOf(repo) }).toEqual({ code: 0, states: { del: 'completed' } });
    expect(readReport(repo).tasks[0]).toMatchObject({ id: 'del', attempts: 2 });
  });

  it('--resume beside a run still going is refused in one line naming a live claim; the first run finishes alone', async () => {
    const { repo, plan, scratch } = planFixture([{ id: 'r1' }]);
    const started = join(scratch, 'agent-started');
    const release = join(scratch, 'release');
    const agent = agentScript(scratch, 'agent.sh', `cat > /dev/null\ntouch "${started}"\nwhile [ ! -e "${release}" ]; do sleep 0.05; done\n${WRITE_OUT}`);
    onTestFinished(() => writeFileSync(release, ''));
    const first = startCli(['run', plan, '--agent-cmd', agent, '--agents', '1'], repo);
    await waitFor(() => existsSync(started), 'the first run\'s agent to start');
    const second = runCli(['run', plan, '--agent-cmd', agent, '--resume', '--json'], { cwd: repo });
    expect(second.exitCode).toBe(1);
    expect(second.json.error).toMatchObject({ code: 'E_REFUSED', held: ['r1'] });
    expect(second.json.error.message).toMatch(/is still being run: 1 of its task\(s\) held by live agents, e\.g\. r1 by agent-1 \(process \d+\)/);
    writeFileSync(release, '');
    expect((await first.done).code).toBe(0);
    expect(statesOf(repo)).toEqual({ r1: 'completed' });
  });

  it('after kill -9 of the runner, --resume finishes without redoing completed tasks', async () => {
    const { repo, plan, scratch } = planFixture([{ id: 'quick' }, { id: 'slow' }, { id: 'last', depends_on: ['quick', 'slow'] }]);
    const runs = join(scratch, 'runs');
    mkdirSync(runs);
    const release = join(scratch, 'release');
    // Every agent start is counted; slow blocks until the test releases it.
    const agent = agentScript(scratch, 'agent.sh', [
      'cat > /dev/null',
      `echo $$ >> "${runs}/$PARALLEL_TASK_ID"`,
      `if [ "$PARALLEL_TASK_ID" = slow ] && [ ! -e "${release}" ]; then sleep 300 & wait; fi`,
      WRITE_OUT,
    ].join('\n'));
    const first = startCli(['run', plan, '--agent-cmd', agent, '--agents', '2'], repo);
    await waitFor(() => statesOf(repo).quick === 'completed' && existsSync(join(runs, 'slow')), 'quick to complete while slow runs');
    first.child.kill('SIGKILL');
    await first.done;
    const orphan = Number(readFileSync(join(runs, 'slow'), 'utf8').trim());
    expect(isAlive(orphan)).toBe(true);
    writeFileSync(release, '');
    const resumed = await runCliAsync(['run', plan, '--agent-cmd', agent, '--agents', '2', '--resume', '--json'], { cwd: repo });
    expect(resumed.exitCode).toBe(0);
    // The agent the dead runner left behind was stopped before its task was handed out again.
    expect(isAlive(orphan)).toBe(false);
    expect(statesOf(repo)).toEqual({ quick: 'completed', slow: 'completed', last: 'completed' });
    expect(readFileSync(join(runs, 'quick'), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(readFileSync(join(runs, 'slow'), 'utf8').trim().split('\n')).toHaveLength(2);
    expect(readReport(repo).verify.status).toBe('merged');
    // Without --resume, a plan that already ran is refused rather than silently mixed.
    const again = runCli(['run', plan, '--agent-cmd', agent], { cwd: repo });
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toContain('--resume');
  });
});

describe('parallel-agents run, human output and usage', () => {
  it('defaults the agent count to the plan recommendation and prints the report', async () => {
    const { repo, plan, scratch } = planFixture([{ id: 'x' }, { id: 'y' }]);
    const agent = agentScript(scratch, 'agent.sh', `cat > /dev/null\n${WRITE_OUT}`);
    const result = await runCliAsync(['run', plan, '--agent-cmd', agent], { cwd: repo });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(/^agents: 2 \(/m);
    expect(result.stdout).toContain('2/2 tasks completed with 2 agents (command)');
    expect(result.stdout).toMatch(/efficiency \d\.\d\d/);
    expect(result.stdout).toContain('verify: merged');
    expect(result.stdout).toContain(`report: ${join(repo, '_tasks', 'run-report.json')}`);
  });

  it('refuses a missing or doubled agent choice and a bad budget, in one line', () => {
    const { repo, plan } = planFixture([{ id: 'x' }]);
    const none = runCli(['run', plan], { cwd: repo });
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain('exactly one of --agent-cmd CMD or --claude');
    const both = runCli(['run', plan, '--claude', '--agent-cmd', 'true'], { cwd: repo });
    expect(both.exitCode).toBe(2);
    const budget = runCli(['run', plan, '--claude', '--budget-usd', 'lots'], { cwd: repo });
    expect(budget.stderr.trim().split('\n')).toEqual(['parallel-agents: --budget-usd must be a positive amount in dollars such as 5 or 2.50 (got "lots")']);
    const quote = runCli(['run', plan, '--agent-cmd', 'node "unclosed'], { cwd: repo });
    expect(quote.exitCode).toBe(2);
    expect(quote.stderr).toContain('unterminated');
  });

  it('with --claude --plugin-dir, refuses a role the plugin has no agent for before claiming anything', () => {
    const { repo, scratch } = planFixture([]);
    const plugin = join(scratch, 'plugin');
    mkdirSync(join(plugin, 'agents'), { recursive: true });
    writeFileSync(join(plugin, 'agents', 'backend-developer.md'), '---\nname: backend-developer\ndescription: x\n---\nBody\n');
    const plan = join(scratch, 'roles.json');
    const task = (id: string, role: string) => ({ id, title: id, role, files: [`${id}.txt`], prompt: `Write ${id}.txt` });
    writeFileSync(plan, JSON.stringify({ name: 'roles', tasks: [task('api', 'backend-developer'), task('ops', 'data-wizard'), task('ext', 'other-plugin:helper')] }));
    // A fake claude that records being started: it must never be.
    const bin = join(scratch, 'bin');
    mkdirSync(bin);
    agentScript(bin, 'claude', `touch "${join(scratch, 'claude-started')}"`);
    const result = runCli(['run', plan, '--claude', '--plugin-dir', plugin], { cwd: repo, env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      `parallel-agents: task "ops" in ${plan} has role "data-wizard", but ${join(plugin, 'agents')} defines no such agent (backend-developer); set its role to one of them`,
    ]);
    expect(existsSync(join(scratch, 'claude-started'))).toBe(false);
    expect(existsSync(join(repo, '_tasks'))).toBe(false);
  });
});

describe('run then verify', () => {
  it('a failing test gate leaves the target alone, and verify later merges the stacked branches without scope violations', async () => {
    const { repo, plan, scratch } = planFixture([{ id: 'a' }, { id: 'b', depends_on: ['a'] }]);
    const agent = agentScript(scratch, 'agent.sh', `cat > /dev/null\n${WRITE_OUT}`);
    const before = git(repo, 'rev-parse', 'main');
    const run = await runCliAsync(['run', plan, '--agent-cmd', agent, '--agents', '2', '--test', 'exit 3'], { cwd: repo });
    expect(run.exitCode).toBe(1);
    expect(readReport(repo).verify.stopped_because).toEqual(['test-failure']);
    expect(git(repo, 'rev-parse', 'main')).toBe(before);
    // b's branch holds a's commit too (it started from it); ownership must count only b's file.
    const verify = runCli(['verify', '--json'], { cwd: repo });
    const report = verify.json;
    expect(report.violations).toEqual([]);
    expect(report.status).toBe('merged');
    expect(verify.exitCode).toBe(0);
    expect(git(repo, 'ls-files', 'out').split('\n').sort()).toEqual(['out/a.txt', 'out/b.txt']);
  });
});
