import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../../errors.ts';
import { startAgentProcess } from '../agent-process.ts';
import { agentEnvironment, classifyExit, looksRateLimited, type AgentAdapter, type AgentAttempt, type AttemptOutcome, type AttemptUsage } from './agent-adapter.ts';

// Headless Claude Code as the plugin's agent type: `--agent parallel:<role>` makes
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

// `claude -p` exits 0 whenever the session ends normally, so its exit status cannot say "I could
// not do it". The plugin's agents end with a report block instead (agents/*.md, "## Report"); the
// runner asks for it and reads its Status line. The runner holds the claim, so the agent must not
// claim, complete or fail the task itself (its protocol only applies when given an agent name).
export const CLAUDE_FINISH_INSTRUCTIONS = [
  'The runner holds this task\'s claim and records the outcome: do not run parallel-agents claim, complete or fail.',
  'End with your report block: "Status: DONE" when the task is done; "Status: BLOCKED" or "Status: NEEDS_CONTEXT" with the reason on a "Notes:" line when it cannot be done.',
].join('\n');

/** The agent's own verdict from its report block, when it says it could not do the task. */
export function reportedFailure(resultText: string): string | undefined {
  const status = [...resultText.matchAll(/^[\s*]*Status[\s*]*:[\s*]*([A-Z_]+)/gm)].at(-1)?.[1];
  if (status !== 'BLOCKED' && status !== 'NEEDS_CONTEXT') return undefined;
  const notes = [...resultText.matchAll(/^[\s*]*Notes[\s*]*:[\s*]*(.+)$/gm)].at(-1)?.[1]?.trim();
  return `agent reported ${status}${notes ? `: ${notes.slice(0, 300)}` : ''}`;
}

const PLUGIN_NAME = 'parallel';

function agentRef(role: string): string {
  return role.includes(':') ? role : `${PLUGIN_NAME}:${role}`;
}

/** Names of the agents a plugin folder defines (frontmatter `name`, else the file name). */
export function pluginAgentNames(pluginDir: string): string[] {
  const dir = join(pluginDir, 'agents');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.md'))
    .map((file) => /^name:\s*["']?([A-Za-z0-9._-]+)/m.exec(readFileSync(join(dir, file), 'utf8'))?.[1] ?? file.slice(0, -3))
    .sort();
}

/**
 * `claude --agent parallel:<role>` exits 1 at once when the plugin has no such agent ("--agent
 * '…' not found"). With --plugin-dir the agents are known, so a plan whose role names none is
 * refused before any task is claimed. Roles of other plugins (`other:name`) cannot be checked.
 */
export function checkRolesAgainstPlugin(pluginDir: string, tasks: ReadonlyArray<{ id: string; role?: string | undefined }>, planPath: string): void {
  const agents = pluginAgentNames(pluginDir);
  for (const task of tasks) {
    if (task.role === undefined) continue;
    const [namespace, name] = agentRef(task.role).split(':', 2) as [string, string];
    if (namespace !== PLUGIN_NAME || agents.includes(name)) continue;
    throw new CliError('E_INVALID', `task "${task.id}" in ${planPath} has role "${task.role}", but ${join(pluginDir, 'agents')} defines no such agent (${agents.join(', ') || 'none'}); set its role to one of them`);
  }
}

export function claudeArgv(attempt: Pick<AgentAttempt, 'role'>, options: ClaudeAdapterOptions = {}): string[] {
  const argv = [options.program ?? 'claude', '-p'];
  if (options.pluginDir) argv.push('--plugin-dir', options.pluginDir);
  const role = attempt.role ?? options.defaultRole;
  if (role) argv.push('--agent', agentRef(role));
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
    finishInstructions: CLAUDE_FINISH_INSTRUCTIONS,
    checkTasks(tasks, planPath) {
      if (options.pluginDir) checkRolesAgainstPlugin(options.pluginDir, tasks, planPath);
    },
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
      const refused = reportedFailure(result.result ?? '');
      if (refused) return { status: 'failed', reason: refused, usage, exit };
      return { status: 'ok', usage, exit };
    },
  };
}
