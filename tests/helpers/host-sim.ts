// What Claude Code does around a subagent's Bash call, reproduced with real processes: this test
// process plays the host. The plugin's PreToolUse hook runs as our child (so its parent pid is the
// "host"), its updatedInput replaces the command, and the command runs the way the host runs it,
// `bash -c "... eval '<command>'"`, also as our direct child. tests/e2e pins the same shape in the
// real Claude Code.
import { spawnSync } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { runCli, type CliRun } from './run-cli.ts';

export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface HostOptions {
  repo: string;
  /** The plugin folder whose bin/ puts `parallel-agents` on PATH (buildTestPlugin()). */
  plugin: string;
  /** Claude Code's project dir for the hooks (default: repo). */
  projectDir?: string;
  /** The subagent's type as the host reports it (default parallel:backend-developer). */
  agentType?: string;
}

/** Runs the PreToolUse hook on a Bash command; returns the command the host would run. */
export function markedCommand(options: HostOptions, agentId: string | undefined, command: string): string {
  const run = runCli(['hook', 'pre-tool-use'], {
    cwd: options.repo,
    env: { CLAUDE_PROJECT_DIR: options.projectDir ?? options.repo },
    input: JSON.stringify({
      session_id: 'sess-1',
      cwd: options.repo,
      hook_event_name: 'PreToolUse',
      ...(agentId ? { agent_id: agentId, agent_type: options.agentType ?? 'parallel:backend-developer' } : {}),
      tool_name: 'Bash',
      tool_input: { command, description: 'run it' },
    }),
  });
  if (run.stdout.trim() === '') return command;
  const output = JSON.parse(run.stdout) as { hookSpecificOutput: { updatedInput: { command: string; description: string } } };
  if (output.hookSpecificOutput.updatedInput.description !== 'run it') throw new Error('the hook dropped a field of the tool input');
  return output.hookSpecificOutput.updatedInput.command;
}

/** A Bash tool call of a subagent (or of the main thread when agentId is undefined), hooks included. */
export function bashAs(options: HostOptions, agentId: string | undefined, command: string, cwd = options.repo): CliRun {
  const marked = markedCommand(options, agentId, command);
  const result = spawnSync('bash', ['-c', `eval ${shellQuote(marked)} < /dev/null`], {
    cwd,
    env: { ...process.env, PATH: `${join(options.plugin, 'bin')}${delimiter}${process.env.PATH ?? ''}` },
    encoding: 'utf8',
  });
  let json: unknown;
  try {
    json = JSON.parse(result.stdout);
  } catch {
    json = undefined;
  }
  return { exitCode: result.status ?? -1, stdout: result.stdout, stderr: result.stderr, json };
}

/** `parallel-agents <args>` as a subagent's Bash call. */
export function cliAs(options: HostOptions, agentId: string | undefined, args: string[], cwd?: string): CliRun {
  return bashAs(options, agentId, ['parallel-agents', ...args].map(shellQuote).join(' '), cwd);
}
