import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runCliAsync } from '../helpers/run-cli.ts';
import { git } from '../helpers/git-repo.ts';
import { tempDir } from '../helpers/temp-dir.ts';

describe('parallel-agents demo', () => {
  it('runs the sample plan with the scripted agent, merges it behind the project tests, and keeps the repo with --keep', async () => {
    const cwd = tempDir();
    // The scripted agent's pauses are scaled down; everything else (processes, git, verify) is real.
    const result = await runCliAsync(['demo', '--agents', '4', '--keep', '--json'], { cwd, env: { PARALLEL_DEMO_SPEED: '0.2' } });
    const lines = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
    const final = lines.at(-1);
    onTestFinished(() => rmSync(final.repo, { recursive: true, force: true }));
    expect(result.exitCode).toBe(0);
    expect(final.kept).toBe(true);
    expect(lines[0]).toEqual({ event: 'demo-repo', repo: final.repo });
    expect(final.report.counts).toMatchObject({ total: 10, completed: 10 });
    expect(final.report.verify.status).toBe('merged');
    expect(final.report.verify.test.exit_code).toBe(0);
    expect(final.report.speedup).toBeGreaterThan(1.3);
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

  it('the scripted agent refuses a task it does not know', async () => {
    const cwd = tempDir();
    const result = await runCliAsync(['demo', 'agent'], { cwd, env: { PARALLEL_TASK_ID: 'nope' }, input: 'Task nope' });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('no script for task "nope"');
  });
});
