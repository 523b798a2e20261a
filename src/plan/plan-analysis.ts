// What `plan check` concludes about a plan: the shape the runner, the renderers and `--json` share
// (so its keys are snake_case, like every --json document).

export type EdgeKind = 'depends_on' | 'scope' | 'reads';

export interface PlanEdge {
  /** Runs first. */
  from: string;
  /** Waits for `from`. */
  to: string;
  /** The strongest reason: depends_on, then scope (both write), then reads. */
  kind: EdgeKind;
  kinds: readonly EdgeKind[];
  reason: string;
  /** What the two tasks share (at most a few examples); empty for a pure depends_on edge. */
  files: string[];
}

export interface PlanTaskAnalysis {
  id: string;
  title: string;
  role?: string | undefined;
  /** 1-based Kahn layer: every task in wave n waits only on tasks of earlier waves. */
  wave: number;
  /** independent: no edge at all, so it can run beside anything. */
  class: 'independent' | 'dependent';
  /** Tasks that must finish first: depends_on plus every implied edge. */
  after: string[];
  estimate?: string | undefined;
  /** Weight on the critical path: the estimate in ms, or 1 when counting tasks. */
  weight: number;
}

export interface WorkAmount {
  amount: number;
  /** `ms` when estimates are used, `tasks` when counting. */
  unit: 'ms' | 'tasks';
  text: string;
}

export interface AgentRecommendation {
  recommended: number;
  max_agents: number;
  /** The count the plan could use before --max-agents caps it. */
  uncapped: number;
  /** max(critical path, total work / recommended). */
  lower_bound: WorkAmount;
  /** The critical path: no number of agents finishes sooner. */
  best_possible: WorkAmount;
  /** total work / critical path: the most any agent count can speed the plan up. */
  parallelism: number;
  reason: string;
}

export interface PlanAnalysis {
  name: string;
  base?: string | undefined;
  source?: string | undefined;
  tasks: PlanTaskAnalysis[];
  /** Sorted by the task order. Built on first read (a getter), since huge plans imply millions. */
  readonly edges: PlanEdge[];
  edge_count: number;
  waves: string[][];
  critical_path: { tasks: string[]; length: WorkAmount; basis: 'estimate' | 'count' };
  total_work: WorkAmount;
  agents: AgentRecommendation;
  strategy: { kind: 'parallel' | 'hybrid' | 'sequential'; reason: string };
  isolation: { kind: 'worktree-per-agent' | 'file-partition'; reason: string };
  warnings: string[];
}
