import type { AgentRecommendation, WorkAmount } from './plan-analysis.ts';

// No fixed "3-5 agents is optimal": the plan decides. With W agents no schedule can finish before
// max(critical path, total work / W) (bench/RESULTS.md, runner). The best any W can do is the critical
// path, so we take the smallest W whose bound is within 10% of it: more agents buy at most 10%.

export const DEFAULT_MAX_AGENTS = 5;
const TOLERANCE = 1.1;

export function lowerBound(criticalPath: number, totalWork: number, agents: number): number {
  return Math.max(criticalPath, totalWork / agents);
}

export function recommendAgents(
  criticalPath: number,
  totalWork: number,
  maxAgents: number,
  amount: (value: number) => WorkAmount,
): AgentRecommendation {
  const best = criticalPath;
  let uncapped = 1;
  // Compare with a small relative slack so 3.3/3 does not lose to rounding.
  while (lowerBound(best, totalWork, uncapped) > best * TOLERANCE * (1 + 1e-9)) uncapped++;
  const recommended = Math.min(uncapped, maxAgents);
  const bound = lowerBound(best, totalWork, recommended);
  const parallelism = best > 0 ? totalWork / best : 1;
  const text = (value: number): string => amount(value).text;
  const percentAbove = (value: number): string => `${Math.round((value / best - 1) * 100)}%`;
  const boundText = (agents: number): string =>
    `max(${text(best)}, ${text(totalWork)} / ${agents} = ${text(totalWork / agents)}) = ${text(lowerBound(best, totalWork, agents))}`;

  let reason: string;
  if (uncapped === 1) {
    reason = `1 agent: the critical path (${text(best)}) holds nearly all the work (${text(totalWork)}), so a second agent would save less than 10%`;
  } else if (recommended < uncapped) {
    reason =
      `${recommended} agents (capped by --max-agents ${maxAgents}): ${uncapped} would bring the lower bound within 10% of the best possible ` +
      `(the critical path, ${text(best)}); with ${recommended} it is ${boundText(recommended)}, ${percentAbove(bound)} above it`;
  } else {
    const fewer = lowerBound(best, totalWork, uncapped - 1);
    reason =
      `${recommended} agents: the lower bound ${boundText(recommended)} is within 10% of the best possible (the critical path, ${text(best)}, ` +
      `which no number of agents can beat); ${uncapped - 1} would allow only ${text(fewer)} (${percentAbove(fewer)} above)`;
  }
  return {
    recommended,
    max_agents: maxAgents,
    uncapped,
    lower_bound: amount(bound),
    best_possible: amount(best),
    parallelism: Math.round(parallelism * 100) / 100,
    reason,
  };
}
