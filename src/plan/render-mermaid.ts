import type { PlanAnalysis } from './plan-analysis.ts';

// A `graph TD` the user can paste into any Mermaid renderer. Task ids may contain "." which
// Mermaid reads as syntax, so nodes get positional names and carry the id as their label.

function label(text: string): string {
  return text.replace(/"/g, '#quot;').replace(/[|<>\r\n]+/g, ' ');
}

export function renderPlanMermaid(analysis: PlanAnalysis): string {
  const node = new Map(analysis.tasks.map((task, index) => [task.id, `t${index}`]));
  const lines = ['graph TD'];
  analysis.waves.forEach((wave, index) => {
    lines.push(`  subgraph wave${index + 1}["wave ${index + 1}"]`);
    for (const id of wave) {
      const task = analysis.tasks[Number(node.get(id)!.slice(1))]!;
      lines.push(`    ${node.get(id)}["${label(task.id)}: ${label(task.title)}${task.estimate ? ` (${task.estimate})` : ''}"]`);
    }
    lines.push('  end');
  });
  for (const edge of analysis.edges) {
    const from = node.get(edge.from)!;
    const to = node.get(edge.to)!;
    if (edge.kind === 'depends_on') lines.push(`  ${from} --> ${to}`);
    else lines.push(`  ${from} -.->|"${edge.kind}: ${label(edge.files.join(', '))}"| ${to}`);
  }
  const critical = analysis.critical_path.tasks.map((id) => node.get(id)!);
  if (critical.length > 0) {
    lines.push('  classDef critical stroke-width:3px');
    lines.push(`  class ${critical.join(',')} critical`);
  }
  return lines.join('\n');
}
