import { join } from 'node:path';
import { moveCacheRefs } from './cache-refs.ts';
import { STORE_NAMESPACE } from './layout.ts';
import { storePack } from './pack.ts';
import type { RemoteConfig } from './remote-config.ts';
import { directEndpoint, receivePack, SessionFailure, type Command, type Endpoint } from './receive-pack.ts';
import type { NetworkOptions, NetworkStats, RefOutcome, RefUpdate, RemoteTarget } from './transport.ts';

// Pushes spoken to the server's receive-pack (receive-pack.ts) for the remotes that allow it, with
// each update's old value named for the server to check: the value its writer read, or its lease.
// Whatever this cannot send the way git push would (see pack.ts and endpoint()) is left to git
// push by answering undefined; a connection that fails throws SessionFailure.

export type Outcomes = Map<string, { outcome: RefOutcome; reason: string }>;

export interface LivePlan {
  updates: readonly RefUpdate[];
  /** Their pack, when the caller built it already. */
  pack?: Buffer | undefined;
  atomic: boolean;
}

/** The value the server must hold for an update to land: its lease, else the value its writer read. */
function expectedOf(update: RefUpdate): string | null | undefined {
  return update.lease !== undefined ? update.lease : update.was;
}

/** A direct push names the old value of every ref, so it needs one for each; and sha1 ids. */
function sendable(updates: readonly RefUpdate[]): boolean {
  return updates.every((update) => expectedOf(update) !== undefined && (update.to === null || update.to.length === 40));
}

/**
 * The pack of the new commits (empty for deletions only), or undefined when git push must send
 * them. An update without a lease must be a fast-forward, as git push without force requires.
 */
function packFor(objectsDir: string, updates: readonly RefUpdate[]): Buffer | undefined {
  const writes = updates.filter((update) => update.to !== null).map((update) => ({ to: update.to!, expected: expectedOf(update)!, fastForward: update.lease === undefined }));
  return writes.length === 0 ? Buffer.alloc(0) : storePack(objectsDir, writes);
}

export class DirectPush {
  private readonly target: RemoteTarget;
  private readonly options: NetworkOptions;
  private readonly stats: NetworkStats;
  private readonly config: RemoteConfig;

  private readonly staleLockMs: () => number;

  constructor(target: RemoteTarget, config: RemoteConfig, options: NetworkOptions, stats: NetworkStats, staleLockMs: () => number) {
    this.target = target;
    this.config = config;
    this.options = options;
    this.stats = stats;
    this.staleLockMs = staleLockMs;
  }

  /** Where pushes go (remote.<name>.pushurl, else its url), for messages. */
  pushUrl(): string {
    return this.config.pushUrls[0] ?? this.target.url;
  }

  /**
   * The push URL when it can be spoken to directly: never when git push would do something else
   * with it (rewrite it, run another receive-pack or a proxy, refuse a protocol, push to several
   * URLs, another object format).
   */
  private endpoint(): Endpoint | undefined {
    const { config } = this;
    const env = process.env;
    if (config.gitDecides || config.objectFormat !== 'sha1' || config.pushUrls.length > 1) return undefined;
    if (env.GIT_ALLOW_PROTOCOL !== undefined || env.GIT_PROXY_COMMAND !== undefined || env.GIT_PROTOCOL_FROM_USER !== undefined) return undefined;
    return directEndpoint(this.pushUrl(), this.target.repoRoot);
  }

  /** These updates pushed directly, or undefined when git push must do it. */
  async push(updates: readonly RefUpdate[], atomic: boolean): Promise<Outcomes | undefined> {
    const pack = sendable(updates) ? packFor(this.objectsDir(), updates) : undefined;
    if (!pack) return undefined;
    return (await this.live(() => ({ updates, atomic, pack })))?.outcomes;
  }

  /**
   * A push whose updates are decided from the server's advertisement, inside the connection: the
   * writer sees every ref's value at that moment, so it does not propose what would be refused.
   * Undefined when the remote cannot be spoken to directly, or these updates need git push;
   * `outcomes` is undefined when `plan` proposed nothing.
   */
  async live(plan: (advertised: ReadonlyMap<string, string>) => LivePlan | undefined): Promise<{ advertised: ReadonlyMap<string, string>; outcomes: Outcomes | undefined } | undefined> {
    const endpoint = this.endpoint();
    if (!endpoint) return undefined;
    let planned: LivePlan | undefined;
    let unsendable = false;
    const outcomes: Outcomes = new Map();
    this.stats.pushes++;
    this.stats.direct++;
    const session = await receivePack(endpoint, { cwd: this.target.repoRoot, timeoutMs: this.options.timeoutMs }, (advertised) => {
      const none = { commands: [], capabilities: [], pack: undefined };
      planned = plan(advertised.refs);
      if (!planned || planned.updates.length === 0) return none;
      const { updates, atomic } = planned;
      const pack = planned.pack ?? (sendable(updates) ? packFor(this.objectsDir(), updates) : undefined);
      const wanted = ['report-status', ...(atomic ? ['atomic'] : []), ...(updates.some((update) => update.to === null) ? ['delete-refs'] : [])];
      const format = [...advertised.capabilities].find((cap) => cap.startsWith('object-format='));
      if (!pack || wanted.some((cap) => !advertised.capabilities.has(cap)) || (format !== undefined && format !== 'object-format=sha1')) {
        unsendable = true;
        return none;
      }
      const commands: Command[] = [];
      for (const update of updates) {
        const now = advertised.refs.get(update.ref) ?? null;
        if (now === update.to) outcomes.set(update.ref, { outcome: 'uptodate', reason: '[up to date]' });
        else if (now !== expectedOf(update)) outcomes.set(update.ref, { outcome: 'rejected', reason: '[rejected] (stale info)' });
        else commands.push({ ref: update.ref, old: now, new: update.to });
      }
      if (atomic && [...outcomes.values()].some((value) => value.outcome === 'rejected')) {
        for (const command of commands) outcomes.set(command.ref, { outcome: 'rejected', reason: '[rejected] (atomic push failed)' });
        return none;
      }
      const quiet = advertised.capabilities.has('quiet') ? ['quiet'] : [];
      return { commands, capabilities: [...wanted, ...quiet, 'agent=parallel-agents'], pack: pack.length > 0 ? pack : undefined };
    });
    if (unsendable) return undefined;
    if (!planned || planned.updates.length === 0) return { advertised: session.advertised.refs, outcomes: undefined };
    const { updates } = planned;
    const { report } = session;
    if (report) {
      // The server could not store the pack (a full disk, a size limit): nothing was applied, and git push would fare no better.
      if (report.unpack !== 'ok') throw new SessionFailure(`the remote could not store the pushed objects (unpack ${report.unpack})`);
      // Objects the server lacks (a tree this clone holds only packed, say): nothing was applied; git push sends them.
      if ([...report.refs.values()].some((reason) => reason?.includes('missing necessary objects'))) return undefined;
      for (const [ref, reason] of report.refs) {
        outcomes.set(ref, reason === undefined ? { outcome: 'ok', reason: '[new]' } : { outcome: 'rejected', reason: `[remote rejected] (${/atomic/.test(reason) ? 'atomic push failed' : reason})` });
      }
    }
    for (const value of outcomes.values()) if (value.outcome === 'rejected') this.stats.rejected++;
    if (updates.some((update) => !outcomes.has(update.ref))) throw new SessionFailure('the answer did not name every ref');
    await this.moveCache(updates.filter((update) => outcomes.get(update.ref)!.outcome !== 'rejected'));
    return { advertised: session.advertised.refs, outcomes };
  }

  private objectsDir(): string {
    return join(this.target.gitCommonDir, 'objects');
  }

  /** What a git push does for the fetch refspec: this clone's cache refs follow the store refs that landed. */
  private async moveCache(landed: readonly RefUpdate[]): Promise<void> {
    const { layout } = this.target;
    const updates = landed.filter((update) => update.ref.startsWith(STORE_NAMESPACE)).map((update) => ({ ref: layout.cacheRef(update.ref.slice(STORE_NAMESPACE.length)), to: update.to }));
    if (updates.length > 0) await moveCacheRefs(this.target.repoRoot, this.target.gitCommonDir, updates, { filesBackend: this.config.filesBackend, staleLockMs: this.staleLockMs() });
  }
}
