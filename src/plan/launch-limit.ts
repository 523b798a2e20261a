// How many agents one message may launch. Since 2.1.217 Claude Code runs at most
// CLAUDE_CODE_MAX_CONCURRENT_SUBAGENTS subagents at once (20 when unset) and refuses a launch
// beyond that with an error ("Do not retry") instead of queueing it; 2.1.197 has no cap. So the
// orchestrator launches at most this many and the rest as agents finish. The host names itself and
// its version to every command it runs in AI_AGENT (claude-code_2-1-332_agent).

export const DEFAULT_HOST_SUBAGENT_CAP = 20;
const CAP_SINCE = [2, 1, 217];

/** The Claude Code version running us, from AI_AGENT; undefined outside Claude Code. */
export function hostVersion(env: NodeJS.ProcessEnv): number[] | undefined {
  const match = /^claude-code[_/](\d+)[-.](\d+)[-.](\d+)[_/]/.exec(env.AI_AGENT ?? '');
  return match ? match.slice(1).map(Number) : undefined;
}

function atLeast(version: number[], minimum: number[]): boolean {
  const differs = version.findIndex((part, index) => part !== minimum[index]);
  return differs < 0 || version[differs]! > minimum[differs]!;
}

/**
 * The most subagents the host runs at once; undefined for no limit. The variable is honoured
 * whenever it is set (as the host reads it: digits, at least 1), also on hosts that ignore it.
 */
export function hostSubagentCap(env: NodeJS.ProcessEnv): number | undefined {
  const configured = env.CLAUDE_CODE_MAX_CONCURRENT_SUBAGENTS;
  if (configured !== undefined && /^\d+$/.test(configured) && Number(configured) >= 1) return Number(configured);
  const version = hostVersion(env);
  return version && atLeast(version, CAP_SINCE) ? DEFAULT_HOST_SUBAGENT_CAP : undefined;
}

/** At most `wanted` agents, within what the host still runs beside the `running` ones. */
export function launchLimit(wanted: number, env: NodeJS.ProcessEnv, running = 0): number {
  const cap = hostSubagentCap(env);
  return Math.max(0, cap === undefined ? wanted : Math.min(wanted, cap - running));
}

/**
 * Agents to launch now for `claimable` tasks while `running` agents (launched, not yet reported;
 * by default one per claim held) are at work: a running agent that holds no claim yet is about to
 * take one of those tasks, and every running agent counts against the host's cap.
 */
export function launchNow(claimable: number, claimed: number, env: NodeJS.ProcessEnv, running = claimed): number {
  const aboutToClaim = Math.max(0, running - claimed);
  return launchLimit(Math.max(0, claimable - aboutToClaim), env, running);
}
