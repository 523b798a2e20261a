import { startAgentProcess } from '../agent-process.ts';
import { agentEnvironment, classifyExit, looksRateLimited, type AgentAdapter, type AgentAttempt, type AttemptOutcome, type AttemptUsage } from './agent-adapter.ts';

// Headless Claude Code as the plugin's agent type (reference §12): `--agent parallel:<role>` makes
// the agent's Markdown body the system prompt, the prompt arrives on stdin (no shell, no argv
// length limit), and `--output-format json` prints one result object with is_error,
// api_error_status, total_cost_usd, usage and num_turns.

export interface ClaudeAdapterOptions {
  /** Program to run; tests point it at a fake. */
  program?: string;
  /** `--plugin-dir` when the plugin is not installed. */
  pluginDir?: string | undefined;
  /** Unattended work cannot answer permission prompts: edits are accepted and Bash is narrowed. */
  permissionMode?: string;
  allowedTools?: string;
  /** Role used when a task names none. */
  defaultRole?: string | undefined;
  killGraceMs?: number;
}

export const DEFAULT_ALLOWED_TOOLS = [
  'Read', 'Edit', 'Write', 'TodoWrite',
  'Bash(git add:*)', 'Bash(git commit:*)', 'Bash(git status:*)', 'Bash(git diff:*)', 'Bash(git log:*)',
  'Bash(parallel-agents:*)', 'Bash(npm test:*)', 'Bash(npm run:*)', 'Bash(node:*)', 'Bash(ls:*)',
].join(',');

export function claudeArgv(attempt: Pick<AgentAttempt, 'role'>, options: ClaudeAdapterOptions = {}): string[] {
  const argv = [options.program ?? 'claude', '-p'];
  if (options.pluginDir) argv.push('--plugin-dir', options.pluginDir);
  const role = attempt.role ?? options.defaultRole;
  if (role) argv.push('--agent', role.includes(':') ? role : `parallel:${role}`);
  argv.push('--permission-mode', options.permissionMode ?? 'acceptEdits');
  argv.push('--allowedTools', options.allowedTools ?? DEFAULT_ALLOWED_TOOLS);
  argv.push('--output-format', 'json');
  return argv;
}

interface ClaudeResult {
  is_error?: boolean;
  api_error_status?: number | null;
  result?: string;
  num_turns?: number;
  total_cost_usd?: number;
  usage?: { input_tokens?: number; output_tokens?: number; cache_creation_input_tokens?: number; cache_read_input_tokens?: number };
}

export function parseClaudeResult(stdout: string): ClaudeResult | undefined {
  const text = stdout.trim();
  if (!text) return undefined;
  const candidates = [text, text.split('\n').at(-1)!];
  for (const candidate of candidates) {
    try {
      const parsed = JSON.parse(candidate) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as ClaudeResult;
    } catch {
      // not JSON; try the next candidate
    }
  }
  return undefined;
}

function usageOf(result: ClaudeResult | undefined): AttemptUsage {
  if (!result) return {};
  const usage = result.usage ?? {};
  const input = (usage.input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
  return {
    costUsd: typeof result.total_cost_usd === 'number' ? result.total_cost_usd : undefined,
    inputTokens: result.usage ? input : undefined,
    outputTokens: usage.output_tokens,
    turns: result.num_turns,
  };
}

export function claudeAdapter(options: ClaudeAdapterOptions = {}): AgentAdapter {
  return {
    name: 'claude',
    async run(attempt: AgentAttempt): Promise<AttemptOutcome> {
      const agent = startAgentProcess({
        argv: claudeArgv(attempt, options),
        cwd: attempt.worktree,
        env: agentEnvironment(attempt),
        stdin: attempt.prompt,
        timeoutMs: attempt.timeoutMs,
        signal: attempt.signal,
        ...(options.killGraceMs !== undefined ? { killGraceMs: options.killGraceMs } : {}),
      });
      if (agent.pid !== undefined) attempt.onStart?.(agent.pid);
      const exit = await agent.done;
      const result = parseClaudeResult(exit.stdout);
      const usage = usageOf(result);
      const base = classifyExit(exit, attempt.timeoutMs);
      if (base.status === 'timeout' || base.status === 'interrupted') return { ...base, usage, exit };
      const status = result?.api_error_status;
      if (status === 429 || status === 529) {
        return { status: 'rate-limited', reason: `API ${status}: ${(result?.result ?? '').slice(0, 200)}`, usage, exit };
      }
      if (result?.is_error || base.status === 'failed') {
        const text = result?.result ?? '';
        if (!result && looksRateLimited(exit.stderrTail)) return { status: 'rate-limited', reason: base.reason, usage, exit };
        return { status: 'failed', reason: text ? `claude reported an error: ${text.slice(0, 300)}` : base.reason, usage, exit };
      }
      if (!result) return { status: 'failed', reason: 'claude printed no JSON result (is --output-format json supported?)', usage, exit };
      return { status: 'ok', usage, exit };
    },
  };
}
