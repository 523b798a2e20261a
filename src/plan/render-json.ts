import type { PlanAnalysis } from './plan-analysis.ts';

/** The `--format json` / `--json` document: the whole analysis as plain data, edges included. */
export function planJson(analysis: PlanAnalysis): Record<string, unknown> {
  return { ...analysis, edges: analysis.edges };
}
