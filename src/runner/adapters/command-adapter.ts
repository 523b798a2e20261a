import { startAgentProcess } from '../agent-process.ts';
import { agentEnvironment, classifyExit, looksRateLimited, type AgentAdapter, type AgentAttempt, type AttemptOutcome, type AttemptUsage } from './agent-adapter.ts';

/**
 * Any agent CLI given as `--agent-cmd`: the argument vector runs as is in the task's worktree,
 * with the prompt on stdin and in PARALLEL_PROMPT_FILE. Success is exit code 0. A non-zero exit
 * whose stderr reads like a throttled API counts as a rate limit, not a task failure. When the
 * last stdout line is a JSON object carrying total_cost_usd (as `claude -p --output-format json`
 * prints), its cost counts toward --budget-usd.
 */
export function commandAdapter(argv: readonly string[], killGraceMs?: number): AgentAdapter {
  return {
    name: 'command',
    async run(attempt: AgentAttempt): Promise<AttemptOutcome> {
      const agent = startAgentProcess({
        argv,
        cwd: attempt.worktree,
        env: agentEnvironment(attempt),
        stdin: attempt.prompt,
        timeoutMs: attempt.timeoutMs,
        signal: attempt.signal,
        ...(killGraceMs !== undefined ? { killGraceMs } : {}),
      });
      if (agent.pid !== undefined) attempt.onStart?.(agent.pid);
      const exit = await agent.done;
      const usage = usageFromLastLine(exit.stdout);
      const outcome = classifyExit(exit, attempt.timeoutMs);
      if (outcome.status === 'failed' && exit.spawnError === undefined && looksRateLimited(exit.stderrTail)) {
        return { status: 'rate-limited', reason: outcome.reason, usage, exit };
      }
      return { ...outcome, usage, exit };
    },
  };
}

function usageFromLastLine(stdout: string): AttemptUsage {
  const last = stdout.trimEnd().split('\n').at(-1)?.trim();
  if (!last?.startsWith('{')) return {};
  try {
    const parsed = JSON.parse(last) as Record<string, unknown>;
    return typeof parsed.total_cost_usd === 'number' ? { costUsd: parsed.total_cost_usd } : {};
  } catch {
    return {};
  }
}
