import { CliError } from '../../errors.ts';
import type { HolderRequest, Task, TaskState } from '../backend.ts';
import { heldHere, proofOf, validateToken } from '../holder-proof.ts';
import type { ParsedTask } from '../task-file.ts';
import { validateAgentName, validateTaskId } from '../task-schema.ts';
import type { ProposedUpdate, Step, StepContext } from './compare-and-swap.ts';
import type { GitRemoteStore } from './git-remote-store.ts';
import type { ClaimRecord } from './records.ts';
import type { TaskEntry } from './snapshot.ts';

// heartbeat, complete, fail and release: the holder proves its claim (its token, or a hook-verified
// identity) against the task's current record, and its change is a child of that exact commit. After
// a recovery the record names another claim, and the push of a child of the old value is refused
// by the server: the late holder is fenced whatever it believes. A change whose answer was lost is
// not made twice: the compare-and-swap loop pushes the same commit again, which answers "up to date".

export interface HolderChangeInput {
  entry: TaskEntry;
  parsed: ParsedTask;
  claim: ClaimRecord;
  /** Refusals of the previous round, by ref (complete drops a branch the remote will not take). */
  refused: ReadonlyMap<string, string>;
}

export interface HolderChangeOutput {
  state: TaskState;
  subject: string;
  frontmatter?: Record<string, unknown> | undefined;
  extraParents?: readonly string[] | undefined;
  extraUpdates?: ProposedUpdate[] | undefined;
}

export type HolderChange = (input: HolderChangeInput) => HolderChangeOutput;

function notHolder(store: GitRemoteStore, request: HolderRequest, entry: TaskEntry | undefined): CliError {
  const record = entry?.record;
  let state: string;
  if (!record) state = 'does not exist';
  else if (record.state === 'claimed') {
    state = record.claim!.agent === request.agent ? 'is held by this agent under another claim (taken again after a recovery, or a wrong token)' : `is held by ${record.claim!.agent}`;
  } else state = `is ${record.state}`;
  return new CliError('E_NOT_HOLDER', `agent ${request.agent} does not hold task "${request.task}" on ${store.layout.remote}: it ${state}; do not merge this work, claim again`);
}

export async function holderStep(store: GitRemoteStore, request: HolderRequest, event: string, change: HolderChange, context: StepContext): Promise<Step<Task>> {
  validateAgentName(request.agent);
  validateTaskId(request.task, '--task');
  const proof = request.token !== undefined ? proofOf(validateToken(request.token)) : undefined;
  const { snapshot, fresh } = context;
  const entry = snapshot.tasks.get(request.task);
  const record = entry?.record;
  const claim = record?.claim;
  // A verified identity speaks for a claim only its own session holds here: agent names repeat across machines.
  const byIdentity = request.identityVerified === true && request.caller !== undefined && heldHere(claim?.holder, request.caller);
  const sameClaim = claim !== undefined && claim.agent === request.agent && (proof !== undefined ? claim.proof === proof : byIdentity);
  if (entry && record?.state === 'claimed' && claim?.agent === request.agent) {
    if (proof === undefined && !request.identityVerified) {
      throw new CliError('E_NOT_HOLDER', `prove that you are the agent ${request.agent} holding task "${request.task}": pass --token with the token claim printed (its JSON field "token")`);
    }
    if (sameClaim) {
      const parsed = await store.parsed(snapshot, entry);
      const next = change({ entry, parsed, claim, refused: context.refused });
      const built = store.writer().build({ from: entry, extraParents: next.extraParents, state: next.state, event, subject: next.subject, claim, frontmatter: next.frontmatter }, parsed);
      return {
        updates: [{ ref: store.layout.remoteRef(store.layout.taskName(entry.id)), to: built.commit, was: entry.commit }, ...(next.extraUpdates ?? [])],
        atomic: true,
        result: () => store.builtTask(entry, built),
      };
    }
  }
  if (!fresh) return { refresh: true };
  store.requireStore(snapshot);
  if (proof === undefined && record?.state === 'claimed' && claim?.agent === request.agent) {
    throw new CliError('E_NOT_HOLDER', `task "${request.task}" is claimed as ${request.agent} by another machine or session, not by yours (every machine names its agents alike); if it is your claim, pass --token with the token claim printed (its JSON field "token")`);
  }
  throw notHolder(store, request, entry);
}
