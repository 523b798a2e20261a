import { CliError } from '../../errors.ts';
import type { Snapshot } from './snapshot.ts';
import { backoff, RemoteUnreachable, unanswered, type RefOutcome, type RefUpdate, type Transport } from './transport.ts';

// The loop every write goes through. A step reads the store as this clone last saw it and
// proposes ref updates; the push is the compare-and-swap. Uncontended, that is one round trip.
// When the server refuses (someone moved a ref first), the clone fetches and the step decides
// again from what is there now, a bounded number of times. When the server does not answer, the
// same push is repeated (a push that had landed answers "up to date"), with backoff, a bounded
// number of times; then the caller hears one line naming the remote.

export interface ProposedUpdate extends RefUpdate {
  /** The value this clone read (null: absent). */
  was: string | null;
}

export interface Proposal<T> {
  updates: ProposedUpdate[];
  atomic: boolean;
  /** What the write returns once every update landed. */
  result: (outcomes: Map<string, { outcome: RefOutcome; reason: string }>) => T;
  /** Not every update must land (recover: each claim is its own race). */
  partial?: boolean | undefined;
}

/** What a step answers: done already, "look at the remote first", or updates to push. */
export type Step<T> = { done: T } | { refresh: true } | Proposal<T>;

export interface StepContext {
  snapshot: Snapshot;
  /** The snapshot was fetched during this write (the cache may lag the remote otherwise). */
  fresh: boolean;
  /** The refusals of the previous round, by ref. */
  refused: Map<string, string>;
}

export interface CasOptions {
  /** Names the write in messages ("claim of t1"). */
  what: string;
  /** Start from a fetch rather than the cache. */
  fetchFirst?: boolean | undefined;
  /** Rounds of refusal before giving up. */
  rounds?: number | undefined;
}

export class CasRunner {
  private readonly transport: Transport;
  private readonly read: () => Promise<Snapshot>;

  constructor(transport: Transport, read: () => Promise<Snapshot>) {
    this.transport = transport;
    this.read = read;
  }

  async run<T>(options: CasOptions, step: (context: StepContext) => Promise<Step<T>>): Promise<T> {
    const rounds = options.rounds ?? 24;
    const fetchFirst = options.fetchFirst === true;
    if (fetchFirst) await this.transport.fetch();
    let context: StepContext = { snapshot: await this.read(), fresh: fetchFirst, refused: new Map() };
    for (let round = 0; ; round++) {
      const answer = await step(context);
      if ('done' in answer) return answer.done;
      if ('refresh' in answer) {
        if (context.fresh) throw new CliError('E_INTERNAL', `${options.what}: asked to look again at a store it had just fetched`);
      } else {
        const outcomes = await this.pushWhole(answer, options.what);
        const refused = new Map([...outcomes].filter(([, value]) => value.outcome === 'rejected').map(([ref, value]) => [ref, value.reason]));
        if (refused.size === 0 || answer.partial) return answer.result(outcomes);
        if (round >= rounds) {
          throw new CliError('E_REFUSED', `${options.what}: the remote ${this.transport.target.layout.remote} kept changing under it (${rounds} tries); nothing was changed; retry`);
        }
        context.refused = refused;
        await backoff(Math.min(round, 4), 8, 250);
      }
      await this.transport.fetch();
      context = { snapshot: await this.read(), fresh: true, refused: context.refused };
    }
  }

  /** The push, repeated while the server does not answer. */
  private async pushWhole<T>(proposal: Proposal<T>, what: string): Promise<Map<string, { outcome: RefOutcome; reason: string }>> {
    const { retries, backoffMs } = this.transport.options;
    const errors: RemoteUnreachable[] = [];
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await backoff(attempt - 1, backoffMs);
      try {
        return await this.transport.push(proposal.updates, { atomic: proposal.atomic });
      } catch (error) {
        if (!(error instanceof RemoteUnreachable)) throw error;
        errors.push(error);
      }
    }
    throw unanswered(what, retries + 1, errors);
  }
}
