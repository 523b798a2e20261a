import { CliError } from '../../errors.ts';
import { describeProcess, processLiveness, type ProcessIdentity } from '../../process/liveness.ts';
import { resolveCommit, runGitAsync } from '../../repo/run-git.ts';
import { formatDuration, timerDelay } from '../../text/duration.ts';
import { randomHex } from '../../text/fingerprint.ts';
import { VERIFY_BUSY, type SharedRemote } from '../backend.ts';
import { DEFAULT_LEASE_MS } from '../rules.ts';
import type { GitRemoteStore } from './git-remote-store.ts';
import { VERIFY_LOCK } from './layout.ts';
import { leaseMsOf } from './records.ts';
import { backoff, RemoteUnreachable } from './transport.ts';

// What verify needs from the remote: the target branch as the remote has it, a compare-and-swap
// of the target (a lease on the value verify started from, pushed together with a renewal of the
// lock, leased on its own value), and one store-wide lock so two machines never merge at once.
// The lock is a ref created only if absent; it records the lease its holder renews it under (a
// child commit every third of it), so a lock seen unchanged for its recorded lease on this
// machine's clock, or whose holder process on this host is gone, is taken over.

const BRANCH = /^(?!.*\.\.)(?!.*\/\/)(?!.*\.lock$)(?!-)[A-Za-z0-9._/-]{1,200}(?<![/.])$/;

interface LockBody {
  holder?: ProcessIdentity;
  /** The lease the holder renews under; absent in older locks (then the default lease). */
  lease_ms?: unknown;
  at?: string;
  nonce?: string;
}

function parseLock(body: string): LockBody {
  try {
    return JSON.parse(body.trimEnd().split('\n').pop() ?? '') as LockBody;
  } catch {
    return {};
  }
}

/** The verify lock while this process holds it: its latest value, and whether a renewal is under way or was refused. */
interface HeldLock {
  ref: string;
  current: string;
  /** A renewal pushed without an answer: it may be the lock's value now. */
  pending: string | undefined;
  me: ProcessIdentity;
  nonce: string;
  leaseMs: number;
  lost: boolean;
  inFlight: Promise<void> | undefined;
  publishing: boolean;
}

export class VerifyRemote implements SharedRemote {
  readonly remote: string;
  private readonly store: GitRemoteStore;
  private held: HeldLock | undefined;

  constructor(store: GitRemoteStore) {
    this.store = store;
    this.remote = store.layout.remote;
  }

  private trackingRef(branch: string): string {
    return `refs/remotes/${this.remote}/${branch}`;
  }

  async fetchBranch(branch: string): Promise<string | undefined> {
    if (!BRANCH.test(branch)) throw new CliError('E_USAGE', `"${branch}" is not a branch name`);
    try {
      await this.store.transport.fetch([`+refs/heads/${branch}:${this.trackingRef(branch)}`]);
    } catch (error) {
      if (error instanceof CliError && error.code === 'E_NOT_FOUND') return undefined;
      throw error;
    }
    return resolveCommit(this.trackingRef(branch), this.store.repoRoot);
  }

  /**
   * While this verify holds the lock, the target moves only together with a renewal of it, in one
   * atomic push with a lease on each: a verify whose renewals stalled past its lease, and whose
   * lock another verify took over meanwhile, can never move the target too.
   */
  async publishBranch(branch: string, expected: string, next: string): Promise<boolean> {
    const ref = `refs/heads/${branch}`;
    const held = this.held;
    if (held) {
      held.publishing = true;
      await held.inFlight;
    }
    try {
      if (held?.pending) await this.renew(held);
      if (held?.pending) throw new CliError('E_GIT', `the remote ${this.remote} did not answer a renewal of the verify lock: nothing was pushed; run verify again once it answers`);
      if (held?.lost) throw this.lockLost();
      const renewal = held ? { ref: held.ref, to: this.store.writer().lock(held.current, held.me, held.nonce, held.leaseMs), lease: held.current } : undefined;
      const { retries, backoffMs } = this.store.transport.options;
      let last: RemoteUnreachable | undefined;
      for (let attempt = 0; attempt <= retries; attempt++) {
        if (attempt > 0) await backoff(attempt - 1, backoffMs);
        let outcomes;
        try {
          outcomes = await this.store.transport.push([{ ref, to: next, lease: expected }, ...(renewal ? [renewal] : [])], { atomic: true });
        } catch (error) {
          if (!(error instanceof RemoteUnreachable)) throw error;
          last = error;
          continue;
        }
        const target = outcomes.get(ref)!;
        // Refused after an unanswered try: that try may be what moved it.
        const landed = target.outcome !== 'rejected' || (attempt > 0 && (await this.fetchBranch(branch)) === next);
        if (landed) {
          if (renewal) held!.current = renewal.to;
          await runGitAsync(['update-ref', this.trackingRef(branch), next], { cwd: this.store.repoRoot });
          return true;
        }
        const lock = renewal ? outcomes.get(renewal.ref) : undefined;
        if (lock?.outcome === 'rejected' && !lock.reason.includes('atomic push failed')) {
          held!.lost = true;
          throw this.lockLost();
        }
        return false;
      }
      throw new CliError('E_GIT', `${last!.message}; tried ${retries + 1} times: ${branch} on ${this.remote} may or may not have moved to ${next.slice(0, 12)} (git fetch ${this.remote} tells)`, last!.details);
    } finally {
      if (held) held.publishing = false;
    }
  }

  /**
   * One renewal: a child of the lock's value, leased on that value (a lock taken over, and perhaps
   * deleted, is never brought back). An unanswered one is pushed again as the same commit, so one
   * that had landed answers "up to date" instead of looking like a lock someone else moved.
   */
  private async renew(held: HeldLock): Promise<void> {
    const next = held.pending ?? this.store.writer().lock(held.current, held.me, held.nonce, held.leaseMs);
    held.pending = next;
    let outcome;
    try {
      outcome = (await this.store.transport.push([{ ref: held.ref, to: next, lease: held.current }], { atomic: true })).get(held.ref)?.outcome;
    } catch {
      return; // unanswered: the next renewal sends the same commit
    }
    held.pending = undefined;
    if (outcome === 'rejected') held.lost = true;
    else held.current = next;
  }

  private lockLost(): CliError {
    return new CliError('E_REFUSED', `verify lost the verify lock on ${this.remote} while it merged (its renewals did not land within its lease, and another verify took it over): nothing was pushed; run verify again`);
  }

  async lockVerify(options: { leaseMs?: number | undefined } = {}): Promise<{ release(): Promise<void> }> {
    const { store } = this;
    const leaseMs = leaseMsOf(options.leaseMs) ?? DEFAULT_LEASE_MS;
    const ref = store.layout.remoteRef(VERIFY_LOCK);
    const me = describeProcess(process.pid);
    const nonce = randomHex(16);
    const current = await store.cas.run<string>({ what: `verify lock on ${this.remote}`, fetchFirst: true }, async ({ snapshot }) => {
      const held = snapshot.verifyLock;
      if (held) {
        const body = parseLock(held.body);
        if (body.nonce?.startsWith(`${nonce}-`)) return { done: held.commit };
        const lease = leaseMsOf(body.lease_ms) ?? DEFAULT_LEASE_MS;
        const first = store.seen(snapshot).firstSeen.get(`lock:${held.commit}`) ?? store.clock.monotonic();
        const silent = store.clock.monotonic() - first;
        const dead = body.holder !== undefined && processLiveness(body.holder) === 'gone';
        if (!dead && silent <= lease) {
          const who = body.holder ? `pid ${body.holder.pid} on host ${body.holder.host}` : 'an unknown process';
          const takeoverIn = lease - silent;
          throw new CliError('E_REFUSED', `another verify is merging through ${this.remote} (${who}, renewed at ${body.at ?? '?'} by its clock): refusing to run a second one; wait for it to finish (its lease is ${formatDuration(lease)}: left unchanged, the lock is taken over in ${formatDuration(takeoverIn)})`, { reason: VERIFY_BUSY, holder: who, lease_ms: lease, takeover_in_ms: takeoverIn });
        }
      }
      const commit = store.writer().lock(held?.commit, me, nonce, leaseMs);
      return { updates: [{ ref, to: commit, was: held?.commit ?? null }], atomic: true, result: () => commit };
    });
    const held: HeldLock = { ref, current, pending: undefined, me, nonce, leaseMs, lost: false, inFlight: undefined, publishing: false };
    this.held = held;
    const renew = setInterval(() => {
      if (held.inFlight || held.lost || held.publishing) return;
      held.inFlight = this.renew(held).finally(() => (held.inFlight = undefined));
    }, timerDelay(Math.max(100, Math.floor(leaseMs / 3))));
    renew.unref();
    return {
      release: async () => {
        clearInterval(renew);
        await held.inFlight; // a renewal landing after the delete would bring the lock back
        if (held.pending) await this.renew(held);
        if (this.held === held) this.held = undefined;
        if (held.lost) return;
        // A renewal still unanswered may or may not have landed: the delete is leased on each value in turn.
        for (const lease of [held.pending, held.current]) {
          if (lease === undefined) continue;
          try {
            if ((await store.transport.push([{ ref, to: null, lease }], { atomic: true })).get(ref)?.outcome !== 'rejected') return;
          } catch {
            // Left behind, it is taken over once its holder is gone or silent for the lease.
            return;
          }
        }
      },
    };
  }
}
