// PreToolUse, inside subagents only (the main session has no agent_id and never claims):
// - Bash running `parallel-agents claim --agent NAME`: remember agent_id -> NAME, refusing a name
//   another live subagent of this session already uses (the SubagentStop release depends on it)
//   and a second claim while the first is unfinished;
// - Edit/Write/MultiEdit/NotebookEdit: deny an edit outside the scope of the task that agent holds.
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { readWorktreeRecord } from '../git/worktree-registry.ts';
import { matchesScope } from '../scope/glob.ts';
import { TaskStore } from '../store/task-store.ts';
import { claimAgentNames } from './claim-call.ts';
import { decideEdit } from './edit-scope.ts';
import { heldTasks } from './held-tasks.ts';
import type { HookPayload } from './hook-payload.ts';
import { readSubagent, sessionSubagents, writeSubagent } from './subagent-registry.ts';

export const EDIT_TOOLS = new Set(['Edit', 'Write', 'MultiEdit', 'NotebookEdit']);

function isInside(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

function guardUnclaimed(store: TaskStore, file: string): PreToolUseOutcome {
  const held = store.listAll().tasks.filter((task) => task.state === 'claimed');
  for (const task of held) {
    const worktree = worktreeOf(store.dir)(task.id);
    const inScope = store.repoRoot !== undefined && isInside(file, store.repoRoot) && matchesScope(relative(store.repoRoot, file).split(sep).join('/'), task.files);
    if ((worktree && isInside(file, worktree)) || inScope) {
      return {
        deny: `parallel-agents: ${file} belongs to task ${task.id}, which agent ${task.claim?.agent ?? 'another agent'} holds right now; two agents must never edit one file. ` +
          'In a parallel run, claim a task first (parallel-agents claim --agent <your name> --role <role> --json) and edit only inside its scope.',
      };
    }
  }
  return {};
}

export interface PreToolUseOutcome {
  /** The reason given to the model when the tool call is refused. */
  deny?: string;
  note?: string;
}

function worktreeOf(storeDir: string): (taskId: string) => string | undefined {
  return (taskId) => {
    try {
      return readWorktreeRecord(storeDir, taskId)?.path;
    } catch {
      return undefined;
    }
  };
}

export function preToolUse(payload: HookPayload, env: NodeJS.ProcessEnv): PreToolUseOutcome {
  const agentId = payload.agentId;
  if (!agentId) return {};
  const store = TaskStore.open({ cwd: payload.cwd, env });
  if (!store.exists()) return {};

  if (payload.toolName === 'Bash') {
    const command = typeof payload.toolInput.command === 'string' ? payload.toolInput.command : '';
    const [name] = claimAgentNames(command);
    if (name === undefined) return {};
    const current = readSubagent(store.dir, agentId);
    if (current && current.agent !== name) {
      return { deny: `parallel-agents: you already claim as agent "${current.agent}"; keep using --agent ${current.agent} (one name per agent, so your claims can be released if you stop).` };
    }
    const clash = sessionSubagents(store.dir, payload.sessionId).find((record) => record.agent === name && record.agentId !== agentId);
    if (clash) {
      return { deny: `parallel-agents: agent name "${name}" is already used by another running agent (${clash.agentType ?? 'subagent'} ${clash.agentId}); claim with a unique --agent name, for example ${name}-${agentId.slice(0, 6)}.` };
    }
    // The seeds' "release before picking up new work", enforced rather than requested.
    const unfinished = heldTasks(store, name);
    if (unfinished.length > 0) {
      const ids = unfinished.map((task) => task.id).join(', ');
      return { deny: `parallel-agents: finish what you hold before claiming again: you (agent "${name}") still hold ${ids}. Run parallel-agents complete --agent ${name} --task ${unfinished[0]!.id} --commit <sha> --json, or parallel-agents fail --agent ${name} --task ${unfinished[0]!.id} --reason "<why>" --json, then claim.` };
    }
    if (!current) {
      writeSubagent(store.dir, { agentId, agentType: payload.agentType, sessionId: payload.sessionId, agent: name, recordedAt: new Date().toISOString() });
    }
    return { note: `subagent ${agentId} claims as ${name}` };
  }

  if (payload.toolName && EDIT_TOOLS.has(payload.toolName)) {
    const record = readSubagent(store.dir, agentId);
    const file = payload.toolInput.file_path ?? payload.toolInput.notebook_path;
    if (typeof file !== 'string' || file.length === 0) return {};
    // Never claimed: a user calling the agent directly works freely, but never inside work that
    // another agent holds right now (its worktree, or its scope in this checkout).
    if (!record) return guardUnclaimed(store, resolve(payload.cwd, file));
    const decision = decideEdit({
      agent: record.agent,
      file,
      cwd: payload.cwd,
      held: heldTasks(store, record.agent),
      gitCommonDir: store.gitCommonDir,
      worktreeOf: worktreeOf(store.dir),
    });
    return decision.allow ? {} : { deny: decision.reason };
  }
  return {};
}
