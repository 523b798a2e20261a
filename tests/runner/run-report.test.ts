import { describe, expect, it } from 'vitest';
import { buildRunReport, formatRunReport, lowerBound } from '../../src/runner/run-report.ts';

describe('lowerBound', () => {
  it('is the longer of the critical path and the work spread over the agents', () => {
    const tasks = [
      { id: 'a', dependsOn: [] },
      { id: 'b', dependsOn: ['a'] },
      { id: 'c', dependsOn: [] },
      { id: 'd', dependsOn: [] },
    ];
    const times: Record<string, number> = { a: 4, b: 4, c: 1, d: 1 };
    expect(lowerBound(tasks, (id) => times[id]!, 2)).toEqual({ criticalPathMs: 8, workMs: 10, lowerBoundMs: 8 });
    expect(lowerBound(tasks, (id) => times[id]!, 1).lowerBoundMs).toBe(10);
  });
});

describe('buildRunReport', () => {
  it('computes makespan, speedup, efficiency, utilization and per-task figures', () => {
    const report = buildRunReport({
      agents: 2,
      adapter: 'command',
      startedAt: 1000,
      endedAt: 1000 + 10_000,
      tasks: [
        { id: 'a', dependsOn: [], state: 'completed', commit: 'abc123' },
        { id: 'b', dependsOn: ['a'], state: 'completed', commit: 'def456' },
        { id: 'c', dependsOn: [], state: 'blocked' },
      ],
      attempts: [
        { task: 'a', attempt: 1, agent: 'agent-1', startedAt: 1000, endedAt: 5000, status: 'ok', usage: { costUsd: 0.1, turns: 2 } },
        { task: 'b', attempt: 1, agent: 'agent-1', startedAt: 5000, endedAt: 9000, status: 'ok', usage: { costUsd: 0.2 } },
        { task: 'c', attempt: 1, agent: 'agent-2', startedAt: 1000, endedAt: 2000, status: 'failed', reason: 'exit code 1', usage: {} },
        { task: 'c', attempt: 2, agent: 'agent-2', startedAt: 2000, endedAt: 3000, status: 'failed', reason: 'exit code 2', usage: {} },
      ],
      budgetStopped: false,
      rateLimit: { hits: 0, lowest_concurrency: 2 },
    });
    expect(report.makespan_ms).toBe(10_000);
    expect(report.work_ms).toBe(10_000);
    expect(report.speedup).toBe(1);
    expect(report.critical_path_ms).toBe(8000);
    expect(report.lower_bound_ms).toBe(8000);
    expect(report.efficiency).toBe(0.8);
    expect(report.utilization).toEqual({ 'agent-1': 0.8, 'agent-2': 0.2 });
    expect(report.cost_usd).toBeCloseTo(0.3);
    expect(report.counts).toEqual({ total: 3, completed: 2, failed: 0, blocked: 1, other: 0 });
    expect(report.tasks[2]).toMatchObject({ id: 'c', attempts: 2, time_ms: 2000, last_error: 'exit code 2' });
    const text = formatRunReport(report);
    expect(text).toContain('speedup 1.00x');
    expect(text).toContain('efficiency 0.80');
  });
});
