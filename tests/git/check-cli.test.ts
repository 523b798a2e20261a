import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { git, gitRepo, writeFiles } from '../helpers/git-repo.ts';
import { runCli } from '../helpers/run-cli.ts';
import { isAlive } from '../helpers/processes.ts';

// `parallel-agents check` runs the declared check of a task in that task's worktree: what an agent
// allowed only `Bash(parallel-agents:*)` uses instead of `cd <worktree> && npm test`.

const PLAN = `name: p
check: node check.js
tasks:
  - {id: api, title: API, files: [src/api/**], prompt: x}
  - {id: ui, title: UI, files: [src/ui/**], check: "node check.js ui && echo UI-CHECK", prompt: x}
  - {id: slow, title: Slow, files: [slow/**], check: "sleep 300 & echo $! > slow.pid; wait", prompt: x}
`;

// Passes when src/api/health.js exists here; prints where it ran and with which port.
const CHECK_JS = `const fs = require('fs');
console.log('cwd=' + process.cwd() + ' port=' + process.env.PARALLEL_PORT + ' count=' + process.env.PARALLEL_PORT_COUNT + ' task=' + process.env.PARALLEL_TASK_ID);
if (process.argv[2] !== 'ui' && !fs.existsSync('src/api/health.js')) { console.error('missing src/api/health.js'); process.exit(4); }
`;

function project(): string {
  const repo = gitRepo({ 'check.js': CHECK_JS, '.gitignore': 'slow.pid\n', '.parallel-agents.json': JSON.stringify({ ports: { count: 1, from: 24_000 + Math.floor(Math.random() * 4000) } }) });
  writeFiles(repo, { 'plan.yaml': PLAN });
  for (const args of [['plan', 'publish', 'plan.yaml'], ['worktree', 'add', '--task', 'api'], ['worktree', 'add', '--task', 'ui'], ['worktree', 'add', '--task', 'slow']]) {
    const result = runCli(args, { cwd: repo });
    expect(result.exitCode, result.stderr).toBe(0);
  }
  return repo;
}

describe('parallel-agents check', () => {
  test('runs the check in the task\'s worktree with its port, failing then passing as the work changes', () => {
    const repo = project();
    const worktree = join(repo, '.parallel', 'worktrees', 'api');
    const port = JSON.parse(runCli(['worktree', 'list', '--json'], { cwd: repo }).stdout).worktrees.find((w: any) => w.task === 'api').ports.from;

    const failing = runCli(['check', '--task', 'api', '--json'], { cwd: repo });
    expect(failing.exitCode).toBe(1);
    expect(failing.json).toMatchObject({ task: 'api', worktree, command: 'node check.js', source: 'task', passed: false, exit_code: 4, timed_out: false, ports: { from: port, count: 1 } });
    expect(failing.json.output_tail).toBe(`cwd=${worktree} port=${port} count=1 task=api\nmissing src/api/health.js`);
    const text = runCli(['check', '--task', 'api'], { cwd: repo });
    expect(text.stdout).toMatch(/^FAILED: check of task api in \.parallel\/worktrees\/api: node check\.js \(exit 4, \d+(ms|s)\)\n {2}\| cwd=/);

    writeFiles(worktree, { 'src/api/health.js': 'ok\n' });
    // From inside the worktree too: the CLI finds the main checkout and the task's worktree.
    const passing = runCli(['check', '--task', 'api', '--json'], { cwd: worktree });
    expect(passing.exitCode, passing.stderr).toBe(0);
    expect(passing.json).toMatchObject({ passed: true, exit_code: 0 });
  });

  test('a task\'s own check wins over the plan\'s; the project\'s is the fallback', () => {
    const repo = project();
    const ui = runCli(['check', '--task', 'ui', '--json'], { cwd: repo });
    expect(ui.exitCode, ui.stderr).toBe(0);
    expect(ui.json.output_tail).toMatch(/task=ui\nUI-CHECK$/);

    // A worktree with no task in the store (ad hoc) uses the project's check.
    writeFileSync(join(repo, '.parallel-agents.json'), JSON.stringify({ check: 'echo PROJECT-CHECK in $PWD' }));
    expect(runCli(['worktree', 'add', '--task', 'adhoc', '--tasks-dir', join(repo, 'other-store')], { cwd: repo }).exitCode).toBe(0);
    const adhoc = runCli(['check', '--task', 'adhoc', '--tasks-dir', join(repo, 'other-store'), '--json'], { cwd: repo });
    expect(adhoc.exitCode, adhoc.stderr).toBe(0);
    expect(adhoc.json).toMatchObject({ source: 'project', output_tail: `PROJECT-CHECK in ${join(repo, '.parallel', 'worktrees', 'adhoc')}`, ports: null });
  });

  test('a check past its timeout is killed with everything it started', async () => {
    const repo = project();
    const result = runCli(['check', '--task', 'slow', '--timeout', '1s', '--json'], { cwd: repo });
    expect(result.exitCode).toBe(1);
    expect(result.json).toMatchObject({ passed: false, timed_out: true });
    expect(result.json.output_tail).toContain('timed out after 1 s');
    const { readFileSync } = await import('node:fs');
    const pid = Number(readFileSync(join(repo, '.parallel', 'worktrees', 'slow', 'slow.pid'), 'utf8'));
    const deadline = Date.now() + 5_000;
    while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
    expect(isAlive(pid)).toBe(false);
  });

  test('refuses, in one line with the fix, a task without a worktree or without a check; never takes a command from the caller', () => {
    const repo = gitRepo({ 'README.md': '#\n' });
    expect(runCli(['init'], { cwd: repo }).exitCode).toBe(0);
    expect(runCli(['add', '--id', 'bare', '--title', 'Bare', '--files', 'a/**'], { cwd: repo }).exitCode).toBe(0);
    const noWorktree = runCli(['check', '--task', 'bare'], { cwd: repo });
    expect([noWorktree.exitCode, noWorktree.stderr]).toEqual([1, 'parallel-agents: task bare has no worktree; create it with "parallel-agents worktree add --task bare", then check again\n']);
    expect(runCli(['worktree', 'add', '--task', 'bare'], { cwd: repo }).exitCode).toBe(0);
    const noCheck = runCli(['check', '--task', 'bare'], { cwd: repo });
    expect([noCheck.exitCode, noCheck.stderr]).toEqual([1, 'parallel-agents: no check is declared for task bare: give the task a "check" in its plan (or the plan one for all its tasks), or the project a "check" in .parallel-agents.json\n']);
    const injected = runCli(['check', '--task', 'bare', '--command', 'touch pwned'], { cwd: repo });
    expect(injected.exitCode).toBe(2);
    expect(injected.stderr).toMatch(/^parallel-agents: unknown option --command; usage: parallel-agents check --task ID/);
    expect(runCli(['check', '--task', '../x'], { cwd: repo }).exitCode).toBe(2);
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });
});
