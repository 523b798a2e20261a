// SubagentStop: a subagent that ends its turn while still holding a claim would block that task
// until its session ends or its lease expires. The first time, send it back once to finish the
// claim itself (its commit and summary are better evidence than anything a hook can guess); if it
// stops again still holding it, fail the claim with a reason that says what happened, so the
// attempt is counted and the next claim retries the task at once.
import { completeCommand, failCommand } from '../store/next-steps.ts';
import { hookStore } from './hook-store.ts';
import type { HookPayload } from './hook-payload.ts';
import { forgetSubagent, readSubagent, sessionOf, writeSubagent } from './subagent-registry.ts';

export interface ReleasedClaim {
  task: string;
  agent: string;
  to: string;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export interface SubagentStopOutcome {
  /** Sent back to the subagent instead of letting it stop. */
  block?: string;
  released: ReleasedClaim[];
}

export async function subagentStop(payload: HookPayload, env: NodeJS.ProcessEnv): Promise<SubagentStopOutcome> {
  const agentId = payload.agentId;
  if (!agentId) return { released: [] };
  const store = await hookStore(payload, env);
  if (!store) return { released: [] };
  const record = readSubagent(store.localDir, agentId);
  if (!record) return { released: [] };
  // Only claims its own session holds: on a shared store another machine's agent may bear the same name.
  const held = await store.heldBy(record.agent, sessionOf(record));
  // Our own record, not only stop_hook_active, decides "already reminded", once per held task: a
  // reminder can never loop, and a task claimed after an earlier reminder still gets one.
  const reminded = new Set(record.remindedTasks ?? []);
  const unreminded = held.filter((task) => !reminded.has(task.id));
  if (unreminded.length > 0 && !payload.stopHookActive) {
    writeSubagent(store.localDir, { ...record, agentType: record.agentType ?? payload.agentType, remindedAt: new Date().toISOString(), remindedTasks: [...reminded, ...unreminded.map((task) => task.id)] });
    const first = held[0]!.id;
    return {
      block:
        `parallel-agents: you still hold ${held.map((task) => task.id).join(', ')}. Finish each claim before you stop: ` +
        `${completeCommand(record.agent, first)} (commits your work in the task's worktree), or ` +
        `${failCommand(record.agent, first)}. If you stop again without doing so, the claim is failed for you.`,
      released: [],
    };
  }
  const released: ReleasedClaim[] = [];
  const last = payload.lastAssistantMessage ? ` Its last message: "${oneLine(payload.lastAssistantMessage, 200)}".` : '';
  for (const task of held) {
    const reason =
      `agent ${record.agent} (${payload.agentType ?? record.agentType ?? 'subagent'} ${agentId}) stopped while still holding this task, ` +
      `without complete or fail${record.remindedAt ? ', even after a reminder' : ''}; released as failed by the SubagentStop hook.${last} Commits on the task's branch are kept.`;
    try {
      // The host named this subagent; its binding names the claim's agent: that is the proof.
      const failed = await store.fail({ agent: record.agent, task: task.id, reason, identityVerified: true, caller: sessionOf(record) });
      released.push({ task: task.id, agent: record.agent, to: failed.state });
    } catch {
      // Someone else finished or recovered it between the listing and now: nothing left to release.
    }
  }
  forgetSubagent(store.localDir, agentId);
  return { released };
}
