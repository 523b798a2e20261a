// The part of Claude Code's hook payload (stdin JSON) the handlers use. Verified against 2.1.197:
// every payload has session_id, cwd and hook_event_name; inside a subagent, PreToolUse also carries
// agent_id and agent_type; SubagentStop carries both plus last_assistant_message.

export interface HookPayload {
  hookEventName: string;
  sessionId: string;
  cwd: string;
  agentId: string | undefined;
  agentType: string | undefined;
  toolName: string | undefined;
  toolInput: Record<string, unknown>;
  lastAssistantMessage: string | undefined;
  /** SubagentStop/Stop: the agent is already continuing because a stop hook blocked it. */
  stopHookActive: boolean;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** Undefined when stdin is not a hook payload: the caller then does nothing (fail open). */
export function parseHookPayload(text: string, fallbackCwd: string): HookPayload | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (raw === null || typeof raw !== 'object') return undefined;
  const data = raw as Record<string, unknown>;
  const toolInput = data.tool_input;
  return {
    hookEventName: optionalString(data.hook_event_name) ?? '',
    sessionId: optionalString(data.session_id) ?? '',
    cwd: optionalString(data.cwd) ?? fallbackCwd,
    agentId: optionalString(data.agent_id),
    agentType: optionalString(data.agent_type),
    toolName: optionalString(data.tool_name),
    toolInput: toolInput !== null && typeof toolInput === 'object' ? (toolInput as Record<string, unknown>) : {},
    lastAssistantMessage: optionalString(data.last_assistant_message),
    stopHookActive: data.stop_hook_active === true,
  };
}
