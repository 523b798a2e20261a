import { describe, expect, it } from 'vitest';
import { runCliAsync } from '../helpers/run-cli.ts';
import { agentScript, planFixture, readReport } from './fixtures.ts';

// The speedup the run report prints is checked against the wall clock: the same plan, run by the
// real CLI with 1 agent and with 3, with a deterministic agent (a fixed 0.8 s of "thinking",
// as a model call takes, then a file). The ratio of the two reported speedups must be the ratio of
// the two measured wall times, within 10 %: a number users read must be true.

const TASKS = ['t1', 't2', 't3', 't4', 't5', 't6'].map((id) => ({ id }));
const AGENT = 'cat > /dev/null\nsleep 0.8\nmkdir -p out && echo "done by $PARALLEL_TASK_ID" > "out/$PARALLEL_TASK_ID.txt"';

async function timedRun(agents: number): Promise<{ wallMs: number; report: any }> {
  const { repo, plan, scratch } = planFixture(TASKS, 'speedup');
  const agent = agentScript(scratch, 'agent.sh', AGENT);
  const started = performance.now();
  const result = await runCliAsync(['run', plan, '--agent-cmd', agent, '--agents', String(agents), '--json'], { cwd: repo });
  const wallMs = performance.now() - started;
  expect(result.exitCode, result.stderr).toBe(0);
  return { wallMs, report: readReport(repo) };
}

describe('the reported speedup', () => {
  it('agrees with the measured wall times of 1 and 3 agents within 10 %, and accounts for every agent slot', async () => {
    const one = await timedRun(1);
    const three = await timedRun(3);
    const measured = one.wallMs / three.wallMs;
    const reported = three.report.speedup / one.report.speedup;
    expect(Math.abs(reported / measured - 1), `reported ${reported.toFixed(3)} vs measured ${measured.toFixed(3)}`).toBeLessThan(0.1);
    for (const { wallMs, report } of [one, three]) {
      // The report's wall time is the process's: it starts with the CLI and ends at the report.
      expect(report.makespan_ms).toBeLessThanOrEqual(wallMs);
      expect(report.makespan_ms / wallMs).toBeGreaterThan(0.9);
      // Agent time is the agents' work: six agents thinking 0.8 s each, whatever the concurrency.
      expect(report.work_ms).toBeGreaterThanOrEqual(6 * 800);
      expect(report.speedup).toBeCloseTo(report.work_ms / report.makespan_ms, 2);
      // Every slot's time is agent, orchestration or idle.
      const slots = report.agents * report.makespan_ms;
      expect(Math.abs(report.work_ms + report.orchestration_ms + report.idle_ms - slots)).toBeLessThanOrEqual(slots * 0.01);
      for (const task of report.tasks) expect(task.agent_ms + task.orchestration_ms).toBe(task.time_ms);
    }
    expect(one.report.formula).toBe('speedup = agent time / wall time; agents x wall time = agent + orchestration + idle');
  });
});
