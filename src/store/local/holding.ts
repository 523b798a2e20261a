import { CliError } from '../../errors.ts';
import type { HolderRequest } from '../backend.ts';
import { proofOf, validateToken } from '../holder-proof.ts';
import { validateAgentName, validateTaskId } from '../task-schema.ts';
import type { StoreFolder, TaskLocation } from './folder.ts';

/**
 * The claim the caller proves it holds: by its secret token (whose hash is in the claim's name),
 * or as the agent a hook bound. The agent name alone proves nothing: `ls _tasks/claimed` shows
 * every name.
 */
export function findClaim(folder: StoreFolder, request: HolderRequest): TaskLocation {
  validateAgentName(request.agent);
  validateTaskId(request.task, '--task');
  const proof = request.token !== undefined ? proofOf(validateToken(request.token)) : undefined;
  let unproved = false;
  for (const entry of folder.names('claimed')) {
    if (!entry.name.startsWith(`${request.task}~${request.agent}~`)) continue;
    const where = folder.locationOf('claimed', entry.name);
    if (!where?.claim || where.claim.id !== request.task || where.claim.agent !== request.agent) continue;
    if (proof === undefined && !request.identityVerified) unproved = true;
    else if (proof === undefined || where.claim.proof === proof) return where;
  }
  if (unproved) {
    throw new CliError('E_NOT_HOLDER', `prove that you are the agent ${request.agent} holding task "${request.task}": pass --token with the token claim printed (its JSON field "token")`);
  }
  throw notHolder(folder, request);
}

/** Exit 5, saying where the task is instead. */
export function notHolder(folder: StoreFolder, request: Pick<HolderRequest, 'agent' | 'task'>): CliError {
  const where = folder.locate(request.task)[0];
  let state: string;
  if (!where) state = 'does not exist';
  else if (where.claim) state = where.claim.agent === request.agent ? 'is held by this agent under another claim (taken again after a recovery, or a wrong token)' : `is held by ${where.claim.agent}`;
  else state = `is ${where.state}`;
  return new CliError('E_NOT_HOLDER', `agent ${request.agent} does not hold task "${request.task}": it ${state}; do not merge this work, claim again`);
}
