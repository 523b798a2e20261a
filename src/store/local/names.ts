import { hostId } from '../../process/liveness.ts';
import { randomHex } from '../../text/fingerprint.ts';
import type { HolderProcess } from '../backend.ts';

// The local store's file names, in one place: the store's own code, the hooks' tests and the test
// fixtures build and read names only through this file.
//
//   <state>/<id>.md                              a task at rest
//   claimed/<id>~<agent>~<lease>.md              a claim: who holds it and since when, in one rename
//   <to>/.pending~<id>~<lease>~<writer>.md       the new content of a move, written before the move
//   <to>/.moving~<id>~<lease>~<writer>.md        the claim renamed away: the move's ownership proof
//   <any>/.tmp~<pid>-<host>-<nonce>~<name>       a whole-file write in progress (src/fs/atomic-write.ts)
//
// lease   = <claimed-at, base 36>-<proof>[-<holder pid>-<holder start or 0>-<holder host>]
// writer  = <pid>-<host>-<nonce> of the process making the move
// A claim's name is its whole record, and claimed files are never rewritten: a recoverer's rename
// can never be undone by a late write from the old holder, and `ls _tasks/claimed` shows who holds
// what. Hidden names start with "." so no reader or claimer ever takes them for a task.

export const TASK_SUFFIX = '.md';

export function taskFileName(id: string): string {
  return `${id}${TASK_SUFFIX}`;
}

/** The id of a task file at rest (`<id>.md`), or undefined for a hidden or foreign name. */
export function idOfTaskFile(name: string): string | undefined {
  if (!name.endsWith(TASK_SUFFIX) || name.startsWith('.') || name.includes('~')) return undefined;
  return name.slice(0, -TASK_SUFFIX.length);
}

export interface ClaimName {
  id: string;
  agent: string;
  lease: string;
  claimedAt: number;
  /** Hash of the holder's secret token (holder-proof.ts). */
  proof: string;
  holder?: HolderProcess | undefined;
}

export function formatLease(claimedAt: number, proof: string, holder?: HolderProcess): string {
  const base = `${claimedAt.toString(36)}-${proof}`;
  return holder ? `${base}-${holder.pid}-${holder.start ?? '0'}-${holder.host}` : base;
}

export function claimFileName(id: string, agent: string, lease: string): string {
  return `${id}~${agent}~${lease}${TASK_SUFFIX}`;
}

const LEASE = /^([0-9a-z]{1,12})-([0-9a-f]{16})(?:-(\d{1,10})-(\d{1,20})-([0-9a-f]{8}))?$/;

export function parseLease(lease: string): { claimedAt: number; proof: string; holder?: HolderProcess } | undefined {
  const match = LEASE.exec(lease);
  if (!match) return undefined;
  const claimedAt = parseInt(match[1]!, 36);
  if (!Number.isFinite(claimedAt)) return undefined;
  const holder = match[3] ? { pid: Number(match[3]), start: match[4] === '0' ? undefined : match[4], host: match[5]! } : undefined;
  return { claimedAt, proof: match[2]!, ...(holder ? { holder } : {}) };
}

export function parseClaimFileName(name: string): ClaimName | undefined {
  if (!name.endsWith(TASK_SUFFIX) || name.startsWith('.')) return undefined;
  const parts = name.slice(0, -TASK_SUFFIX.length).split('~');
  if (parts.length !== 3) return undefined;
  const [id, agent, lease] = parts as [string, string, string];
  const parsed = parseLease(lease);
  if (!parsed || id === '' || agent === '') return undefined;
  return { id, agent, lease, ...parsed };
}

/** This process as the writer of a move. */
export function writerTag(): string {
  return `${process.pid}-${hostId()}-${randomHex(8)}`;
}

export function parseWriterTag(tag: string): { pid: number; host: string } | undefined {
  const match = /^(\d+)-([0-9a-f]{8})-[0-9a-f]{8}$/.exec(tag);
  return match ? { pid: Number(match[1]), host: match[2]! } : undefined;
}

export type MoveFileKind = 'pending' | 'moving';

export function moveFileName(kind: MoveFileKind, id: string, lease: string, writer: string): string {
  return `.${kind}~${id}~${lease}~${writer}${TASK_SUFFIX}`;
}

export interface MoveFileName {
  kind: MoveFileKind;
  id: string;
  lease: string;
  writer: string;
}

export function parseMoveFileName(name: string): MoveFileName | undefined {
  const match = /^\.(pending|moving)~([^~]+)~([^~]+)~([^~]+)\.md$/.exec(name);
  if (!match) return undefined;
  return { kind: match[1] as MoveFileKind, id: match[2]!, lease: match[3]!, writer: match[4]! };
}
