// SubagentStop: a subagent that ends its turn while still holding a claim would block that task
// until the lease expires (30 minutes by default). Fail it now, with a reason that says what
// happened, so the attempt is counted and the next claim retries it at once.
import { TaskStore } from '../store/task-store.ts';
import { heldTasks } from './held-tasks.ts';
import type { HookPayload } from './hook-payload.ts';
import { forgetSubagent, readSubagent } from './subagent-registry.ts';

export interface ReleasedClaim {
  task: string;
  agent: string;
  to: string;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export async function subagentStop(payload: HookPayload, env: NodeJS.ProcessEnv): Promise<ReleasedClaim[]> {
  const agentId = payload.agentId;
  if (!agentId) return [];
  const store = TaskStore.open({ cwd: payload.cwd, env });
  if (!store.exists()) return [];
  const record = readSubagent(store.dir, agentId);
  if (!record) return [];
  const released: ReleasedClaim[] = [];
  const last = payload.lastAssistantMessage ? ` Its last message: "${oneLine(payload.lastAssistantMessage, 200)}".` : '';
  for (const task of heldTasks(store, record.agent)) {
    const reason =
      `agent ${record.agent} (${payload.agentType ?? record.agentType ?? 'subagent'} ${agentId}) stopped while still holding this task, ` +
      `without complete or fail; released as failed by the SubagentStop hook.${last} Commits on the task's branch are kept.`;
    try {
      const failed = await store.fail({ agent: record.agent, task: task.id, reason });
      released.push({ task: task.id, agent: record.agent, to: failed.state });
    } catch {
      // Someone else finished or recovered it between the listing and now: nothing left to release.
    }
  }
  forgetSubagent(store.dir, agentId);
  return released;
}
