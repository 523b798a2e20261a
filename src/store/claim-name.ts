import { randomHex } from '../text/fingerprint.ts';
import type { HolderProcess } from './types.ts';

// A claim is the task file renamed to claimed/<id>~<agent>~<token>.md. Everything the claim
// needs is in that one name, written by the one atomic rename: who holds it, since when, and
// which process. Claimed files are never rewritten, so a recoverer's rename can never be undone
// by a late write from the old holder, and `ls _tasks/claimed` shows who holds what.

export interface ClaimName {
  id: string;
  agent: string;
  token: string;
  claimedAt: number;
  holder?: HolderProcess | undefined;
}

export function newToken(now: number, holder?: HolderProcess): string {
  const base = `${now.toString(36)}-${randomHex(8)}`;
  if (!holder) return base;
  return `${base}-${holder.pid}-${holder.start ?? '0'}-${holder.host}`;
}

export function claimFileName(id: string, agent: string, token: string): string {
  return `${id}~${agent}~${token}.md`;
}

export function parseClaimFileName(name: string): ClaimName | undefined {
  if (!name.endsWith('.md') || name.startsWith('.')) return undefined;
  const parts = name.slice(0, -3).split('~');
  if (parts.length !== 3) return undefined;
  const [id, agent, token] = parts as [string, string, string];
  const fields = token.split('-');
  const claimedAt = parseInt(fields[0] ?? '', 36);
  if (!Number.isFinite(claimedAt)) return undefined;
  let holder: HolderProcess | undefined;
  if (fields.length === 5) {
    const pid = Number(fields[2]);
    if (Number.isInteger(pid) && pid > 0) {
      holder = { pid, start: fields[3] === '0' ? undefined : fields[3], host: fields[4]! };
    }
  }
  return { id, agent, token, claimedAt, holder };
}
