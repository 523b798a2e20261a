// PreToolUse:
// - Bash (every session, every agent): marks the command with the caller's host-proved identity
//   (identity-marker.ts), so `claim` can bind a subagent to its agent name and holder operations
//   can trust it, however the CLI call is wrapped;
// - Edit/Write/MultiEdit/NotebookEdit inside a subagent (the main session has no agent_id and is
//   never restricted): denies an edit outside the task that subagent holds, and any edit of the
//   runtime's control paths.
import { decideEdit, guardUnclaimed } from './edit-scope.ts';
import { hookStore } from './hook-store.ts';
import type { HookPayload } from './hook-payload.ts';
import { markBash } from './mark-bash.ts';
import { readSubagent, sessionOf } from './subagent-registry.ts';

export const EDIT_TOOLS = new Set(['Edit', 'Write', 'MultiEdit', 'NotebookEdit']);

export interface PreToolUseOutcome {
  /** The reason given to the model when the tool call is refused. */
  deny?: string;
  /** The tool input to run instead (every field of the original, the command marked). */
  updatedInput?: Record<string, unknown>;
  note?: string;
}

export async function preToolUse(payload: HookPayload, env: NodeJS.ProcessEnv, hostPid: number): Promise<PreToolUseOutcome> {
  if (payload.toolName === 'Bash') {
    const updatedInput = markBash(payload, env, hostPid);
    return updatedInput ? { updatedInput, note: `marked as ${payload.agentId ?? 'main'}` } : {};
  }
  const agentId = payload.agentId;
  if (!agentId || !payload.toolName || !EDIT_TOOLS.has(payload.toolName)) return {};
  const file = payload.toolInput.file_path ?? payload.toolInput.notebook_path;
  if (typeof file !== 'string' || file.length === 0) return {};
  const store = await hookStore(payload, env);
  if (!store) return {};
  const bound = readSubagent(store.localDir, agentId);
  const decision = bound
    ? await decideEdit(store, { agent: bound.agent, session: sessionOf(bound), file, cwd: payload.cwd })
    : await guardUnclaimed(store, { file, cwd: payload.cwd });
  return decision.allow ? {} : { deny: decision.reason };
}
