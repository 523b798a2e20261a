import { TASK_STATES, type HolderProcess, type TaskState } from '../backend.ts';
import { MAX_LEASE_MS } from '../rules.ts';
import { AGENT_NAME_PATTERN } from '../task-schema.ts';

// What each commit of a task's ref says, in its message: a subject for people (`git log
// --first-parent refs/parallel/store/tasks/<id>` reads as the task's journal) and one JSON line
// for the store. The task file itself is the commit's tree (task.md).

export interface ClaimRecord {
  agent: string;
  /** Names this claim generation; the same across its heartbeats. */
  lease: string;
  /** Hash of the holder's secret token (holder-proof.ts). */
  proof: string;
  holder?: HolderProcess | undefined;
  /** The lease its holder heartbeats under (ms): recoverers wait at least this long. Absent in older records. */
  lease_ms?: number | undefined;
  /** When the claim was taken, by the claimer's own clock: for people only. */
  at: string;
}

export interface TaskRecord {
  state: TaskState;
  event: string;
  /** While claimed: the claim. On the commit that ended a claim: the claim it ended. */
  claim?: ClaimRecord | undefined;
  /** The writer's clock, for people. */
  at: string;
  /** Makes every commit distinct, so two writers never produce the same commit id. */
  nonce: string;
}

const HEX = /^[0-9a-f]+$/;

/**
 * A recorded lease in ms, or undefined when absent or not a positive whole number. A longer lease
 * than MAX_LEASE_MS counts as that: no record, whoever wrote it, holds a task for longer.
 */
export function leaseMsOf(value: unknown): number | undefined {
  return Number.isSafeInteger(value) && (value as number) > 0 ? Math.min(value as number, MAX_LEASE_MS) : undefined;
}

function claimOf(value: unknown): ClaimRecord | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const claim = value as Record<string, unknown>;
  if (typeof claim.agent !== 'string' || !AGENT_NAME_PATTERN.test(claim.agent)) return undefined;
  if (typeof claim.lease !== 'string' || !/^[0-9a-z-]{1,64}$/.test(claim.lease)) return undefined;
  if (typeof claim.proof !== 'string' || !HEX.test(claim.proof)) return undefined;
  const holder = claim.holder as Record<string, unknown> | undefined;
  const validHolder = holder && Number.isSafeInteger(holder.pid) && typeof holder.host === 'string' && (holder.start === undefined || typeof holder.start === 'string');
  return {
    agent: claim.agent,
    lease: claim.lease,
    proof: claim.proof,
    holder: validHolder ? { pid: holder.pid as number, host: holder.host as string, start: holder.start as string | undefined } : undefined,
    lease_ms: leaseMsOf(claim.lease_ms),
    at: typeof claim.at === 'string' ? claim.at : '',
  };
}

/** The record a commit message holds, or undefined when it holds none we can trust. */
export function parseRecord(body: string): TaskRecord | undefined {
  const line = body.trimEnd().split('\n').pop() ?? '';
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (!raw || typeof raw !== 'object' || !TASK_STATES.includes(raw.state as TaskState)) return undefined;
  const claim = claimOf(raw.claim);
  if (raw.state === 'claimed' && !claim) return undefined;
  return {
    state: raw.state as TaskState,
    event: typeof raw.event === 'string' ? raw.event : '',
    claim,
    at: typeof raw.at === 'string' ? raw.at : '',
    nonce: typeof raw.nonce === 'string' ? raw.nonce : '',
  };
}

export function formatMessage(subject: string, record: TaskRecord): string {
  const json: Record<string, unknown> = { state: record.state, event: record.event };
  if (record.claim) {
    const { holder, lease_ms: leaseMs, ...claim } = record.claim;
    json.claim = { ...claim, ...(holder ? { holder } : {}), ...(leaseMs !== undefined ? { lease_ms: leaseMs } : {}) };
  }
  json.at = record.at;
  json.nonce = record.nonce;
  return `${subject.replace(/\s+/g, ' ').trim()}\n\n${JSON.stringify(json)}\n`;
}
