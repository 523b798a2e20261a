import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { progressEvents, runCliAsync } from '../helpers/run-cli.ts';
import { git } from '../helpers/git-repo.ts';
import { tempDir } from '../helpers/temp-dir.ts';

describe('parallel-agents demo', () => {
  it('runs the sample plan with the scripted agent, merges it behind the project tests, and keeps the repo with --keep', async () => {
    const cwd = tempDir();
    // The scripted agent thinks as long as in the real demo (1 to 3 s a task): the speedup is agent
    // work over wall time, so shorter pauses would mostly measure process start-up and git.
    const result = await runCliAsync(['demo', '--agents', '4', '--keep', '--json'], { cwd, env: { PARALLEL_DEMO_SPEED: '1' } });
    const final = result.json;
    const lines = progressEvents(result.stderr);
    onTestFinished(() => rmSync(final.repo, { recursive: true, force: true }));
    expect(result.exitCode).toBe(0);
    expect(final.kept).toBe(true);
    expect(lines[0]).toEqual({ event: 'demo-repo', repo: final.repo });
    expect(final.report.counts).toMatchObject({ total: 10, completed: 10 });
    expect(final.report.verify.status).toBe('merged');
    expect(final.report.verify.test.exit_code).toBe(0);
    expect(final.report.speedup).toBeGreaterThan(1.3);
    // Every merged worktree is gone, its work in main.
    expect(final.report.verify.removed).toHaveLength(10);
    expect(git(final.repo, 'worktree', 'list', '--porcelain').split('\n').filter((line) => line.startsWith('worktree '))).toHaveLength(1);
    // The overlapping pair ran in order: slugify-accents edited what slugify wrote.
    expect(lines.findIndex((line) => line.event === 'task-complete' && line.task === 'slugify'))
      .toBeLessThan(lines.findIndex((line) => line.event === 'task-start' && line.task === 'slugify-accents'));
    // The kept repository's main branch holds the merged, tested project.
    const repo = final.repo as string;
    expect(existsSync(join(repo, '_tasks', 'run-report.json'))).toBe(true);
    const tests = spawnSync(process.execPath, ['test/run.js'], { cwd: repo, encoding: 'utf8' });
    expect(tests.stdout).toContain('10 passed, 0 failed');
    expect(git(repo, 'status', '--porcelain')).toBe('');
    expect(git(repo, 'log', '--oneline', 'main')).toContain('Merge task docs');
  });

  it('says what its speedup means in one line', async () => {
    const { speedupMeaning } = await import('../../src/demo/demo-run.ts');
    const line = speedupMeaning({ speedup: 2.5, agents: 4, work_ms: 25_000, makespan_ms: 10_000 } as never);
    expect(line).toBe('speedup 2.50x: 4 agents did 25.0 s of agent work in 10.0 s of wall time (1.00x = one agent working without a pause; orchestration and idle time count against it).');
  });

  it('the scripted agent refuses a task it does not know', async () => {
    const cwd = tempDir();
    const result = await runCliAsync(['demo', 'agent'], { cwd, env: { PARALLEL_TASK_ID: 'nope' }, input: 'Task nope' });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('no script for task "nope"');
  });
});
