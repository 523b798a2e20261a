import { CliError } from '../errors.ts';
import { checkCaller, type CallerCheck, type CallerIdentity } from '../hooks/identity-marker.ts';
import { allSubagents, readSubagent, sessionOf, writeSubagent } from '../hooks/subagent-registry.ts';
import { processLiveness } from '../process/liveness.ts';
import { findRepo } from '../repo/locate.ts';
import { locateStore } from '../store/location.ts';
import { stringOption } from './args.ts';
import type { HolderProcess, HolderRequest, TaskBackend } from '../store/backend.ts';
import { completeCommand } from '../store/next-steps.ts';
import type { CommandContext } from './command.ts';

// Who is calling, as the host proves it (hooks/identity-marker.ts), and what that lets the call do:
// a subagent's first claim binds its agent_id to the --agent name it claims with; afterwards only
// that subagent acts under that name without a token, and a mismatch is refused. The claim also
// names the Claude Code process as its holder, so the claim dies with the session.

/** The caller as the host proves it; the key is looked up in the store's repository, wherever the caller's shell is. */
export function checkCallerOf(ctx: CommandContext, store: TaskBackend): CallerCheck {
  return checkCaller((findRepo(store.localDir) ?? findRepo(ctx.cwd))?.gitCommonDir);
}

export function callerIdentity(ctx: CommandContext, store: TaskBackend): CallerIdentity | undefined {
  const check = checkCallerOf(ctx, store);
  return check.kind === 'verified' ? check.identity : undefined;
}

/**
 * Checks and records a claim by a subagent under `agent`; returns the process that holds the
 * claim (the Claude Code session of any hook-identified caller). Throws E_IDENTITY on a mismatch.
 */
export async function bindClaimer(ctx: CommandContext, store: TaskBackend, agent: string): Promise<HolderProcess | undefined> {
  const check = checkCallerOf(ctx, store);
  if (check.kind === 'unverified') {
    throw new CliError('E_IDENTITY', `this claim comes from a Claude Code agent whose identity cannot be verified: ${check.reason}; run parallel-agents on the project's own store`);
  }
  if (check.kind === 'none') return undefined;
  const identity = check.identity;
  if (identity.agentId === 'main') return sessionOf(identity);
  const bound = readSubagent(store.localDir, identity.agentId);
  if (bound && bound.agent !== agent) {
    throw new CliError('E_IDENTITY', `you (subagent ${identity.agentId}) already claim as agent "${bound.agent}"; keep using --agent ${bound.agent}: one name per agent, so your claims are released if you stop`);
  }
  if (!bound) {
    const clash = allSubagents(store.localDir).find((record) => record.agent === agent && record.agentId !== identity.agentId
      && processLiveness(sessionOf(record)) !== 'gone');
    if (clash) {
      throw new CliError('E_IDENTITY', `agent name "${agent}" is already used by another running agent (${clash.agentType ?? 'subagent'} ${clash.agentId}); claim with a unique --agent name, for example ${agent}-${identity.agentId.slice(0, 6)}`);
    }
  }
  const unfinished = await store.heldBy(agent, sessionOf(identity));
  if (unfinished.length > 0) {
    throw new CliError('E_REFUSED', `finish what you hold before claiming again: agent "${agent}" still holds ${unfinished.map((task) => task.id).join(', ')}; run ${completeCommand(agent, unfinished[0]!.id)}, or fail it, then claim`);
  }
  if (!bound) {
    writeSubagent(store.localDir, {
      agentId: identity.agentId,
      agent,
      hostPid: identity.hostPid,
      hostStart: identity.hostStart,
      sessionId: ctx.env.CLAUDE_CODE_SESSION_ID,
      recordedAt: new Date().toISOString(),
    });
  }
  return sessionOf(identity);
}

/** The plugin's one subagent that orchestrates (it runs a confirmed plan for the user). */
const ORCHESTRATING_AGENT = 'parallel:coordinator';

/**
 * Commands that change the plan, merge, or run a shell command the caller names (add, plan
 * publish, verify, run, setup --write, recover --force, worktree remove --force) are the
 * orchestrator's: the person at the terminal, the main conversation, or the coordinator agent.
 * An implementer agent allowed `Bash(parallel-agents:*)` must not turn that permission into
 * "run anything" (`verify --test CMD`) or "approve my own tasks" (`add`). Runner agents are
 * recognised by the PARALLEL_ATTEMPT the runner gives every agent process.
 */
export function requireOrchestrator(ctx: CommandContext, what: string): void {
  const refuse = (who: string): never => {
    throw new CliError('E_IDENTITY', `${what} is the orchestrator's: ${who} may claim, work in its task, check and finish it, but not ${what}; report to the session that launched you instead`);
  };
  if (ctx.env.PARALLEL_ATTEMPT !== undefined) refuse(`a runner agent (task ${ctx.env.PARALLEL_TASK_ID ?? '?'})`);
  const storeDir = locateStore({ cwd: ctx.cwd, tasksDir: stringOption(ctx.values, 'tasks-dir'), env: ctx.env }).dir;
  const check = checkCaller((findRepo(storeDir) ?? findRepo(ctx.cwd))?.gitCommonDir);
  if (check.kind === 'unverified') refuse('an agent whose identity cannot be verified');
  if (check.kind === 'verified' && check.identity.agentId !== 'main' && check.identity.agentType !== ORCHESTRATING_AGENT) {
    refuse(`subagent ${check.identity.agentId} (${check.identity.agentType})`);
  }
}

/** A holder request with the proof the caller brings: its token, or its hook-bound identity. */
export function holderRequest(ctx: CommandContext, store: TaskBackend, base: { agent: string; task: string; token?: string | undefined }): HolderRequest {
  if (base.token !== undefined) return base;
  const identity = callerIdentity(ctx, store);
  const bound = identity && identity.agentId !== 'main' ? readSubagent(store.localDir, identity.agentId) : undefined;
  return { ...base, identityVerified: bound?.agent === base.agent, caller: identity ? sessionOf(identity) : undefined };
}
