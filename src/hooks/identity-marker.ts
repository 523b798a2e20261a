import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFileWhole, tempName } from '../fs/atomic-write.ts';
import { NODE_FS } from '../fs/fs-port.ts';
import { ancestors, parentPid, processStartTime } from '../process/liveness.ts';
import { hmacHex, randomSecret, sameSecret } from '../store/holder-proof.ts';

// Which Claude Code subagent runs a CLI call, proved by the host rather than by the command text.
// The PreToolUse hook on Bash gets the subagent's agent_id from Claude Code and puts one comment
// line in front of the command:  # parallel-agents-identity <agent_id|main> <claude pid> <mac> <agent_type|->
// Comments are transparent to Claude Code's permission checker, so no rule is widened. Claude Code
// runs the command as `bash -c "... eval '<command>'"`, a direct child of its own process; the CLI,
// however it was wrapped (bash -c, npx, env, variables), finds that wrapper among its ancestors
// and believes the first marker in it only when the wrapper's parent is the pid the marker names
// and the MAC, keyed by a secret in the repository's git dir, matches. A process the model starts
// itself can never have Claude Code as its parent, so it cannot pass for another agent's wrapper.
// Linux only (/proc); elsewhere callers prove holding with their claim token.

export const MARKER_PREFIX = '# parallel-agents-identity ';
const KEY_FILE = join('parallel-agents', 'identity.key');
const MARKER = /# parallel-agents-identity ([A-Za-z0-9_-]{1,128}) (\d{1,10}) ([0-9a-f]{32}) ([A-Za-z0-9_.:-]{1,128})/;

export interface CallerIdentity {
  /** Claude Code's agent_id of the subagent, or "main" for the main conversation. */
  agentId: string;
  /** The subagent's type as Claude Code names it (e.g. parallel:backend-developer), or "-". */
  agentType: string;
  /** The Claude Code process: the claim dies with it. */
  hostPid: number;
  hostStart: string | undefined;
}

/** The repository's identity key; created on first use by the hook when `create`. */
export function identityKey(gitCommonDir: string, create: boolean): string | undefined {
  const path = join(gitCommonDir, KEY_FILE);
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    if (!create) return undefined;
  }
  // Parallel subagents' first Bash calls race to create it: the key appears whole by one link of
  // a fully written temp file, so a loser never reads a half-written (empty) key.
  const tmp = join(gitCommonDir, 'parallel-agents', tempName(path));
  try {
    NODE_FS.mkdirSync(join(gitCommonDir, 'parallel-agents'), { recursive: true, mode: 0o700 });
    createFileWhole(NODE_FS, tmp, `${randomSecret()}\n`, { mode: 0o600 });
    NODE_FS.linkSync(tmp, path);
  } catch {
    // Another hook created it first (or the disk refuses): read what is there.
  } finally {
    try { NODE_FS.unlinkSync(tmp); } catch { /* never written */ }
  }
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function mac(key: string, agentId: string, hostPid: number, agentType: string): string {
  return hmacHex(key, `${agentId}:${hostPid}:${agentType}`).slice(0, 32);
}

/** Agent types are the host's (plugin:agent); anything else is recorded as unknown. */
function typeField(agentType: string | undefined): string {
  return agentType && /^[A-Za-z0-9_.:-]{1,128}$/.test(agentType) ? agentType : '-';
}

export function markerLine(key: string, agentId: string, hostPid: number, agentType?: string): string {
  const type = typeField(agentType);
  return `${MARKER_PREFIX}${agentId} ${hostPid} ${mac(key, agentId, hostPid, type)} ${type}`;
}

function cmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1');
  } catch {
    return undefined;
  }
}

export type CallerCheck =
  | { kind: 'none' }
  | { kind: 'verified'; identity: CallerIdentity }
  /** A Claude Code Bash call carrying a marker this repository's key does not prove. */
  | { kind: 'unverified'; reason: string };

/**
 * The identity the hook injected into the Claude Code Bash call this process descends from.
 * `none` outside Claude Code (a person's terminal, the runner's own calls, a hook that failed open).
 */
export function checkCaller(gitCommonDir: string | undefined): CallerCheck {
  for (const pid of ancestors()) {
    const text = cmdline(pid);
    if (text === undefined || !text.includes(MARKER_PREFIX)) continue;
    const match = MARKER.exec(text);
    const parent = parentPid(pid);
    // Only a wrapper Claude Code itself started counts: its parent is the pid its marker names.
    if (!match || parent === undefined || Number(match[2]) !== parent) continue;
    const key = gitCommonDir ? identityKey(gitCommonDir, false) : undefined;
    if (!key) return { kind: 'unverified', reason: 'no identity key in this repository (is the store in another repository?)' };
    if (!sameSecret(match[3]!, mac(key, match[1]!, parent, match[4]!))) return { kind: 'unverified', reason: 'its identity marker does not match this repository\'s key' };
    return { kind: 'verified', identity: { agentId: match[1]!, agentType: match[4]!, hostPid: parent, hostStart: processStartTime(parent) } };
  }
  return { kind: 'none' };
}
