import type { RunReport } from './run-report.ts';

// The run report for people: the headline numbers with the formula they come from, where the
// agent slots' time went, and one line per task.

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

export function formatRunReport(report: RunReport): string {
  const o = report.orchestration;
  const runSteps = Object.entries(o.runSteps).filter(([, ms]) => ms > 0).map(([step, ms]) => `${step} ${seconds(ms)}`).join(', ');
  const lines = [
    `${report.counts.completed}/${report.counts.total} tasks completed` +
      (report.counts.failed + report.counts.blocked > 0 ? ` (${report.counts.failed} failed, ${report.counts.blocked} blocked)` : '') +
      ` with ${report.agents} agents (${report.adapter})`,
    `wall time ${seconds(report.makespanMs)}, agent time ${seconds(report.workMs)}, speedup ${report.speedup.toFixed(2)}x (agent time / wall time)`,
    `agent slots ${report.agents} x ${seconds(report.makespanMs)}: agents ${seconds(report.workMs)}, orchestration ${seconds(report.orchestrationMs)}` +
      ` (checkouts ${seconds(o.checkoutMs)}, commits and scope checks ${seconds(o.evidenceMs)}, claims and store ${seconds(o.claimMs + o.storeMs)}` +
      `${runSteps ? `, ${runSteps} x ${report.agents} slots` : ''}), idle ${seconds(report.idleMs)}`,
    `lower bound ${seconds(report.lowerBoundMs)} = max(critical path ${seconds(report.criticalPathMs)}, agent time/${report.agents} ${seconds(report.workMs / report.agents)}), efficiency ${report.efficiency.toFixed(2)}`,
    `utilization: ${Object.entries(report.utilization).map(([agent, value]) => `${agent} ${Math.round(value * 100)}%`).join(', ')}`,
  ];
  if (report.rateLimit.hits > 0) lines.push(`rate limited ${report.rateLimit.hits} time(s); concurrency went down to ${report.rateLimit.lowestConcurrency}`);
  if (report.costUsd > 0 || report.budgetUsd !== undefined) {
    lines.push(`cost $${report.costUsd.toFixed(4)}${report.budgetUsd !== undefined ? ` of a $${report.budgetUsd} budget${report.budgetStopped ? ' (budget reached: no new attempts were started)' : ''}` : ''}`);
  }
  const width = Math.max(4, ...report.tasks.map((task) => task.id.length));
  // Agents that report no cost (a plain --agent-cmd) get no cost column full of zeros.
  const showCost = report.costUsd > 0;
  lines.push('', `${'task'.padEnd(width)}  state      attempts    agent  orchestr.     wait  ${showCost ? 'cost      ' : ''}commit`);
  for (const task of report.tasks) {
    const cost = showCost ? `${`$${task.costUsd.toFixed(4)}`.padStart(8)}  ` : '';
    const times = [task.agentMs, task.orchestrationMs, task.waitMs].map((ms) => seconds(ms).padStart(7)).join('  ');
    lines.push(`${task.id.padEnd(width)}  ${task.state.padEnd(9)}  ${String(task.attempts).padStart(8)}  ${times}  ${cost}${task.commit?.slice(0, 10) ?? (task.lastError ? `- ${task.lastError.slice(0, 80)}` : '-')}`);
  }
  return lines.join('\n');
}
