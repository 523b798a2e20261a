import type { RunReport } from './run-report.ts';

// The run report for people: the headline numbers with the formula they come from, where the
// agent slots' time went, and one line per task.

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

export function formatRunReport(report: RunReport): string {
  const o = report.orchestration;
  const runSteps = Object.entries(o.run_steps).filter(([, ms]) => ms > 0).map(([step, ms]) => `${step} ${seconds(ms)}`).join(', ');
  const lines = [
    `${report.counts.completed}/${report.counts.total} tasks completed` +
      (report.counts.failed + report.counts.blocked > 0 ? ` (${report.counts.failed} failed, ${report.counts.blocked} blocked)` : '') +
      ` with ${report.agents} agents (${report.adapter})`,
    `wall time ${seconds(report.makespan_ms)}, agent time ${seconds(report.work_ms)}, speedup ${report.speedup.toFixed(2)}x (agent time / wall time)`,
    `agent slots ${report.agents} x ${seconds(report.makespan_ms)}: agents ${seconds(report.work_ms)}, orchestration ${seconds(report.orchestration_ms)}` +
      ` (checkouts ${seconds(o.checkout_ms)}, commits and scope checks ${seconds(o.evidence_ms)}, claims and store ${seconds(o.claim_ms + o.store_ms)}` +
      `${runSteps ? `, ${runSteps} x ${report.agents} slots` : ''}), idle ${seconds(report.idle_ms)}`,
    `lower bound ${seconds(report.lower_bound_ms)} = max(critical path ${seconds(report.critical_path_ms)}, agent time/${report.agents} ${seconds(report.work_ms / report.agents)}), efficiency ${report.efficiency.toFixed(2)}`,
    `utilization: ${Object.entries(report.utilization).map(([agent, value]) => `${agent} ${Math.round(value * 100)}%`).join(', ')}`,
  ];
  if (report.rate_limit.hits > 0) lines.push(`rate limited ${report.rate_limit.hits} time(s); concurrency went down to ${report.rate_limit.lowest_concurrency}`);
  if (report.cost_usd > 0 || report.budget_usd !== undefined) {
    lines.push(`cost $${report.cost_usd.toFixed(4)}${report.budget_usd !== undefined ? ` of a $${report.budget_usd} budget${report.budget_stopped ? ' (budget reached: no new attempts were started)' : ''}` : ''}`);
  }
  const width = Math.max(4, ...report.tasks.map((task) => task.id.length));
  // Agents that report no cost (a plain --agent-cmd) get no cost column full of zeros.
  const showCost = report.cost_usd > 0;
  lines.push('', `${'task'.padEnd(width)}  state      attempts    agent  orchestr.     wait  ${showCost ? 'cost      ' : ''}commit`);
  for (const task of report.tasks) {
    const cost = showCost ? `${`$${task.cost_usd.toFixed(4)}`.padStart(8)}  ` : '';
    const times = [task.agent_ms, task.orchestration_ms, task.wait_ms].map((ms) => seconds(ms).padStart(7)).join('  ');
    lines.push(`${task.id.padEnd(width)}  ${task.state.padEnd(9)}  ${String(task.attempts).padStart(8)}  ${times}  ${cost}${task.commit?.slice(0, 10) ?? (task.last_error ? `- ${task.last_error.slice(0, 80)}` : '-')}`);
  }
  return lines.join('\n');
}
