import type { TaskBackend } from '../store/backend.ts';
import { openStore } from '../store/open-store.ts';
import type { HookPayload } from './hook-payload.ts';

/**
 * The store a hook acts on, found from the project Claude Code names (CLAUDE_PROJECT_DIR), never
 * from the payload's cwd: a subagent that `cd`s out of the repository must not leave its rules
 * behind. The payload's cwd is only a fallback for hosts that do not set the variable.
 */
export async function hookStore(payload: HookPayload, env: NodeJS.ProcessEnv): Promise<TaskBackend | undefined> {
  const store = openStore({ cwd: env.CLAUDE_PROJECT_DIR || payload.cwd, env });
  return (await store.exists()) ? store : undefined;
}
