// Which Claude Code subagent (its agent_id) claims under which agent name: one small JSON file per
// subagent in this machine's store folder (<localDir>/subagents/<agent_id>.json). `claim` writes it
// when the hook-proved caller identity (identity-marker.ts) is a subagent; the scope guard and the
// SubagentStop hook read it by the agent_id Claude Code gives them.
import { readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write.ts';
import { hostId, type ProcessIdentity } from '../process/liveness.ts';

export const SUBAGENTS_DIR = 'subagents';
const AGENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export interface SubagentRecord {
  agentId: string;
  /** The --agent name the subagent claims with. */
  agent: string;
  /** The Claude Code process the subagent runs in. */
  hostPid: number;
  hostStart?: string | undefined;
  sessionId?: string | undefined;
  agentType?: string | undefined;
  recordedAt: string;
  /** When SubagentStop last sent it back to finish a claim it still held. */
  remindedAt?: string | undefined;
  /** The tasks that reminder was about: a task claimed later earns its own reminder. */
  remindedTasks?: string[] | undefined;
}

/** The Claude Code process a bound subagent runs in, as its claims record their holder. */
export function sessionOf(record: Pick<SubagentRecord, 'hostPid' | 'hostStart'>): ProcessIdentity {
  return { pid: record.hostPid, start: record.hostStart, host: hostId() };
}

function recordPath(localDir: string, agentId: string): string | undefined {
  // agent_id comes from the host; never let it name a path outside the folder.
  return AGENT_ID_PATTERN.test(agentId) ? join(localDir, SUBAGENTS_DIR, `${agentId}.json`) : undefined;
}

export function readSubagent(localDir: string, agentId: string): SubagentRecord | undefined {
  const path = recordPath(localDir, agentId);
  if (!path) return undefined;
  try {
    const data = JSON.parse(readFileSync(path, 'utf8')) as SubagentRecord;
    return typeof data.agent === 'string' && typeof data.agentId === 'string' ? data : undefined;
  } catch {
    return undefined;
  }
}

export function writeSubagent(localDir: string, record: SubagentRecord): void {
  const path = recordPath(localDir, record.agentId);
  if (path) writeFileAtomic(path, `${JSON.stringify(record)}\n`);
}

export function forgetSubagent(localDir: string, agentId: string): void {
  const path = recordPath(localDir, agentId);
  if (!path) return;
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to forget.
  }
}

/** Every binding on this machine: used to keep agent names unique among live subagents. */
export function allSubagents(localDir: string): SubagentRecord[] {
  let names: string[];
  try {
    names = readdirSync(join(localDir, SUBAGENTS_DIR));
  } catch {
    return [];
  }
  const records: SubagentRecord[] = [];
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    const record = readSubagent(localDir, name.slice(0, -'.json'.length));
    if (record) records.push(record);
  }
  return records;
}
