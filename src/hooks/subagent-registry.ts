// Which subagent (Claude Code's agent_id) claims under which agent name. One small JSON file per
// subagent beside the task store (<store>/subagents/<agent_id>.json), written atomically by the
// PreToolUse(Bash) hook when it sees that subagent run `parallel-agents claim --agent NAME`, read
// by the scope and SubagentStop hooks, deleted when the subagent stops.
import { readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write.ts';

export const SUBAGENTS_DIR = 'subagents';
const AGENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export interface SubagentRecord {
  agentId: string;
  agentType: string | undefined;
  sessionId: string;
  /** The --agent name the subagent claims with. */
  agent: string;
  recordedAt: string;
  /** When SubagentStop last sent it back to finish a claim it still held. */
  remindedAt?: string | undefined;
  /** The tasks that reminder was about: a task claimed later earns its own reminder. */
  remindedTasks?: string[] | undefined;
}

function recordPath(storeDir: string, agentId: string): string | undefined {
  // agent_id comes from the host; never let it name a path outside the folder.
  return AGENT_ID_PATTERN.test(agentId) ? join(storeDir, SUBAGENTS_DIR, `${agentId}.json`) : undefined;
}

export function readSubagent(storeDir: string, agentId: string): SubagentRecord | undefined {
  const path = recordPath(storeDir, agentId);
  if (!path) return undefined;
  try {
    const data = JSON.parse(readFileSync(path, 'utf8')) as SubagentRecord;
    return typeof data.agent === 'string' ? data : undefined;
  } catch {
    return undefined;
  }
}

export function writeSubagent(storeDir: string, record: SubagentRecord): void {
  const path = recordPath(storeDir, record.agentId);
  if (path) writeFileAtomic(path, `${JSON.stringify(record)}\n`);
}

export function forgetSubagent(storeDir: string, agentId: string): void {
  const path = recordPath(storeDir, agentId);
  if (!path) return;
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to forget.
  }
}

/** Every record of one session: used to keep agent names unique among live subagents. */
export function sessionSubagents(storeDir: string, sessionId: string): SubagentRecord[] {
  let names: string[];
  try {
    names = readdirSync(join(storeDir, SUBAGENTS_DIR));
  } catch {
    return [];
  }
  const records: SubagentRecord[] = [];
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    const record = readSubagent(storeDir, name.slice(0, -'.json'.length));
    if (record && record.sessionId === sessionId) records.push(record);
  }
  return records;
}
