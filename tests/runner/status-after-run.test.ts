// What status and the run report say after a run must agree with each other and with claim.
import { describe, expect, it } from 'vitest';
import { runCli, runCliAsync } from '../helpers/run-cli.ts';
import { agentScript, planFixture, readReport, startCli } from './fixtures.ts';

describe('status and the run report agree', () => {
  it('a task completed at its first attempt used 1 attempt in both, and the report times are whole milliseconds', async () => {
    const { repo, plan, scratch } = planFixture([{ id: 'a' }]);
    const agent = agentScript(scratch, 'agent.sh', 'cat > /dev/null\nmkdir -p out && echo a > out/a.txt');
    const run = await runCliAsync(['run', plan, '--agent-cmd', agent, '--json'], { cwd: repo });
    expect(run.exitCode).toBe(0);
    const report = readReport(repo);
    expect(report.tasks[0]).toMatchObject({ id: 'a', state: 'completed', attempts: 1 });
    expect(Number.isInteger(report.makespan_ms)).toBe(true);
    expect(Number.isInteger(report.orchestration.run_steps.start)).toBe(true);
    const row = runCli(['status'], { cwd: repo }).stdout.split('\n').find((line) => line.startsWith('a '))!;
    expect(row).toMatch(/\b1 of 2\b/);
  });

  it('work that waits on a blocked task is no work left: status is done, as claim says (exit 4), and --watch ends', async () => {
    const { repo, plan } = planFixture([{ id: 'a', max_attempts: 1 }, { id: 'c', depends_on: ['a'] }]);
    const run = await runCliAsync(['run', plan, '--agent-cmd', '/nonexistent/agent', '--json'], { cwd: repo });
    expect(run.exitCode).toBe(1);
    expect(runCli(['claim', '--agent', 'x', '--json'], { cwd: repo }).exitCode).toBe(4);
    const status = runCli(['status', '--json'], { cwd: repo });
    expect(status.json).toMatchObject({ counts: { blocked: 1, available: 1 }, done: true });
    expect(status.json.summary).toContain('1 waiting on blocked tasks');
    const watch = await startCli(['status', '--watch', '--json'], repo).done;
    expect(watch).toMatchObject({ code: 0, signal: null });
  });
});
