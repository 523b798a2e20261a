import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { locateStore } from '../store/location.ts';
import type { HookPayload } from './hook-payload.ts';
import { identityKey, markerLine } from './identity-marker.ts';

// The PreToolUse(Bash) half of identity-marker.ts. It runs on every Bash call of every session
// with the plugin enabled, so hooks/run-hook.cjs loads it from its own small bundle
// (dist/hook-bash.cjs) instead of the whole CLI.

/** The Bash input with the identity marker line in front, or undefined when there is nothing to mark. */
export function markBash(payload: Pick<HookPayload, 'toolInput' | 'agentId' | 'cwd'> & Partial<Pick<HookPayload, 'agentType'>>, env: NodeJS.ProcessEnv, hostPid: number): Record<string, unknown> | undefined {
  const command = payload.toolInput.command;
  // Every command gets this call's own marker first, even one that already starts with a marker:
  // the CLI believes the first one, and a line copied from another caller's command (visible in
  // its /proc cmdline) must not stand in for this caller's.
  if (typeof command !== 'string') return undefined;
  // Only where a parallel run has a store (a _tasks/ folder, or one shared through a git remote):
  // other projects' commands stay exactly as typed.
  const location = locateStore({ cwd: env.CLAUDE_PROJECT_DIR || payload.cwd, env });
  const shared = env.PARALLEL_STORE?.startsWith('git:') === true;
  if (!location.gitCommonDir || (!shared && !existsSync(join(location.dir, 'available')))) return undefined;
  const key = identityKey(location.gitCommonDir, true);
  if (!key) return undefined;
  // Every field of the original is kept: Claude Code replaces the whole input with this one.
  return { ...payload.toolInput, command: `${markerLine(key, payload.agentId ?? 'main', hostPid, payload.agentType)}\n${command}` };
}

/** The hook's stdout for a raw PreToolUse(Bash) payload: the rewrite, or nothing (fail open). */
export function bashHookOutput(payloadText: string, env: NodeJS.ProcessEnv, hostPid: number): string {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(payloadText) as Record<string, unknown>;
  } catch {
    return '';
  }
  const toolInput = raw.tool_input;
  if (raw.tool_name !== 'Bash' || toolInput === null || typeof toolInput !== 'object') return '';
  const updatedInput = markBash({
    toolInput: toolInput as Record<string, unknown>,
    agentId: typeof raw.agent_id === 'string' && raw.agent_id !== '' ? raw.agent_id : undefined,
    agentType: typeof raw.agent_type === 'string' && raw.agent_type !== '' ? raw.agent_type : undefined,
    cwd: typeof raw.cwd === 'string' ? raw.cwd : process.cwd(),
  }, env, hostPid);
  return updatedInput ? JSON.stringify({ hookSpecificOutput: { hookEventName: 'PreToolUse', updatedInput } }) : '';
}
