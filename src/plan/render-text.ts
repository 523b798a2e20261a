import type { PlanAnalysis } from './plan-analysis.ts';

// What a person reads before confirming a plan: waves as a table, the graph as one line per edge
// with its reason, then the numbers and the recommendation with their reasons.

// Nobody reads ten thousand edge lines; past this the JSON format is the way to see them.
const MAX_EDGE_LINES = 500;

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ').trimEnd());
}

export function renderPlanText(analysis: PlanAnalysis): string {
  const lines: string[] = [];
  const independent = analysis.tasks.filter((task) => task.class === 'independent').map((task) => task.id);
  lines.push(`Plan ${analysis.name}: ${analysis.tasks.length} task${analysis.tasks.length === 1 ? '' : 's'}, ${analysis.edge_count} edge${analysis.edge_count === 1 ? '' : 's'}, ${analysis.waves.length} wave${analysis.waves.length === 1 ? '' : 's'}`);
  lines.push('');
  const estimateOf = new Map(analysis.tasks.map((task) => [task.id, task.estimate]));
  lines.push(
    ...table([
      ['wave', 'tasks', 'ids'],
      ...analysis.waves.map((wave, index) => [
        String(index + 1),
        String(wave.length),
        wave.map((id) => (estimateOf.get(id) ? `${id} (${estimateOf.get(id)})` : id)).join(', '),
      ]),
    ]).map((line) => `  ${line}`),
  );
  lines.push('');
  lines.push('Graph (first -> then: why):');
  if (analysis.edge_count === 0) lines.push('  (no edges: every task is independent)');
  for (const edge of analysis.edges.slice(0, MAX_EDGE_LINES)) lines.push(`  ${edge.from} -> ${edge.to}  [${edge.kinds.join('+')}] ${edge.reason}`);
  if (analysis.edge_count > MAX_EDGE_LINES) lines.push(`  ... and ${analysis.edge_count - MAX_EDGE_LINES} more edges (--format json lists them all)`);
  lines.push(`  independent: ${independent.length > 0 ? independent.join(', ') : '(none)'}`);
  lines.push('');
  const basis = analysis.critical_path.basis === 'estimate' ? 'by estimate' : 'by task count (no estimates)';
  lines.push(`Critical path (${basis}): ${analysis.critical_path.tasks.join(' -> ')} = ${analysis.critical_path.length.text}`);
  lines.push(`Total work: ${analysis.total_work.text} (parallelism ${analysis.agents.parallelism})`);
  lines.push(`Agents: ${analysis.agents.reason}`);
  lines.push(`Strategy: ${analysis.strategy.kind}: ${analysis.strategy.reason}`);
  lines.push(`Isolation: ${analysis.isolation.kind}: ${analysis.isolation.reason}`);
  for (const warning of analysis.warnings) lines.push(`Warning: ${warning}`);
  return lines.join('\n');
}
