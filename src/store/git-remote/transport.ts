import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CliError } from '../../errors.ts';
import { GitError, GitTimeout, runGitAsync } from '../../repo/run-git.ts';
import { clearStaleLock } from './cache-refs.ts';
import { DirectPush, type LivePlan, type Outcomes } from './direct-push.ts';
import { gatedFetch } from './fetch-gate.ts';
import type { RefLayout } from './layout.ts';
import type { RemoteConfig } from './remote-config.ts';
import { SessionFailure } from './receive-pack.ts';

// The only two network calls of the git-remote store: fetch the whole store namespace into this
// clone's cache, and push ref updates. Every push is a compare-and-swap the server decides: each
// update is a creation (refused when the ref exists) or a fast-forward to a child of the value the
// writer read (refused when the ref moved since: receive-pack checks the old value under the ref's
// lock). Nothing here ever forces an update; a lease (--force-with-lease=<ref>:<old>) is used only
// where the ref may be deleted or must be pinned to an exact old value (the verify lock, the
// target branch). A push goes straight to the server's receive-pack when direct-push.ts can send
// it, naming each ref's expected old value itself; otherwise git push sends it.

export interface RemoteTarget {
  repoRoot: string;
  gitCommonDir: string;
  layout: RefLayout;
  url: string;
}

export interface NetworkOptions {
  /** One git network call is stopped after this long. */
  timeoutMs: number;
  /** Further attempts after a transport failure. */
  retries: number;
  /** First pause before a retry; doubled each time, with jitter. */
  backoffMs: number;
}

export interface RefUpdate {
  /** Full remote ref name. */
  ref: string;
  /** New value, or null to delete. */
  to: string | null;
  /** Pin the old value (null: must not exist). Only for deletions and pinned refs; plain updates are fast-forwards. */
  lease?: string | null | undefined;
  /** The value the writer read (null: absent): a direct push makes it the old value the server checks. */
  was?: string | null | undefined;
}

export type RefOutcome = 'ok' | 'uptodate' | 'rejected';

/** A network call that failed without a per-ref answer: for a push, nobody knows whether it was applied. */
export class RemoteUnreachable extends CliError {
  /** False when nothing reached the server (no connection, or it failed before any command went out). */
  readonly mayHaveLanded: boolean;

  constructor(target: RemoteTarget, what: string, cause: string, options: { url?: string | undefined; mayHaveLanded?: boolean } = {}) {
    const url = options.url ?? target.url;
    super('E_GIT', `the ${what} of git remote ${target.layout.remote} (${url}) failed: ${cause}`, { remote: target.layout.remote, url });
    this.name = 'RemoteUnreachable';
    this.mayHaveLanded = options.mayHaveLanded ?? true;
  }
}

/** How a write's last words read after every try went unanswered. */
export function unanswered(what: string, tries: number, errors: readonly RemoteUnreachable[]): CliError {
  const last = errors[errors.length - 1]!;
  const fate = errors.some((error) => error.mayHaveLanded)
    ? `the ${what} may or may not have reached it, and is whole either way (run parallel-agents status once it answers)`
    : `the ${what} did not reach it: nothing was changed`;
  return new CliError('E_GIT', `${last.message}; tried ${tries} times: ${fate}`, last.details);
}

export interface NetworkStats {
  fetches: number;
  /** Push connections, however made. */
  pushes: number;
  /** Of those, the ones spoken to receive-pack directly (receive-pack.ts) rather than by git push. */
  direct: number;
  rejected: number;
}

const SAFE_PUSH = ['--porcelain', '--no-verify', '--no-follow-tags', '--no-signed', '--recurse-submodules=no'];

function causeOf(error: unknown): string {
  if (error instanceof GitTimeout) return `no answer within ${String(error.details?.timeout_ms)} ms`;
  if (error instanceof GitError) {
    const line = error.stderr.split('\n').map((text) => text.trim()).filter((text) => text.length > 0 && !text.startsWith('error: failed to push'))[0];
    return line ?? `git exit code ${error.gitExitCode}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * A fetch whose only errors are cache refs another process of this clone moved meanwhile (git
 * checks each ref's old value) has brought everything else: those refs hold what the peer saw,
 * and the cache only ever has to be a recent view; every write is checked by the server anyway.
 */
function onlyRacedPeers(stderr: string, cachePrefix: string): boolean {
  const errors = stderr.split('\n').filter((line) => /^(error|fatal):/.test(line));
  return errors.length > 0 && errors.every((line) => line.startsWith(`error: cannot lock ref '${cachePrefix}`) || line.startsWith("error: some local refs could not be updated"));
}

export async function backoff(attempt: number, baseMs: number, maxMs = 2000): Promise<void> {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  await sleep(ceiling / 2 + Math.random() * (ceiling / 2));
}

function envNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = Number(env[name]);
  return env[name] !== undefined && Number.isFinite(value) && value >= 0 ? value : fallback;
}

/** Timeouts and retries, from PARALLEL_REMOTE_TIMEOUT_MS and PARALLEL_REMOTE_RETRIES. */
export function networkOptions(env: NodeJS.ProcessEnv): NetworkOptions {
  return { timeoutMs: envNumber(env, 'PARALLEL_REMOTE_TIMEOUT_MS', 30_000), retries: envNumber(env, 'PARALLEL_REMOTE_RETRIES', 3), backoffMs: 250 };
}

export class Transport {
  readonly target: RemoteTarget;
  readonly options: NetworkOptions;
  readonly stats: NetworkStats = { fetches: 0, pushes: 0, direct: 0, rejected: 0 };
  private readonly direct: DirectPush;

  constructor(target: RemoteTarget, config: RemoteConfig, options: NetworkOptions) {
    this.target = target;
    this.options = options;
    this.direct = new DirectPush(target, config, options, this.stats, () => this.staleLockMs());
  }

  /**
   * Brings this clone's cache up to the remote's store (and any `extra` refspecs), retrying
   * transport failures with backoff. A ref named in `extra` that the remote lacks is E_NOT_FOUND.
   */
  async fetch(extra: readonly string[] = []): Promise<void> {
    if (extra.length > 0) return this.fetchNow(extra);
    const name = join(this.target.gitCommonDir, `parallel-agents-fetch-${this.target.layout.remote}`);
    return gatedFetch({ lock: `${name}.lock`, stamp: `${name}.stamp` }, () => this.fetchNow([]));
  }

  private async fetchNow(extra: readonly string[]): Promise<void> {
    const { layout } = this.target;
    const args = ['fetch', '--quiet', '--prune', '--no-tags', '--no-write-fetch-head', '--no-auto-maintenance', '--recurse-submodules=no', layout.remote, layout.fetchRefspec(), ...extra];
    let last: unknown;
    let clearedLock = false;
    for (let attempt = 0; attempt <= this.options.retries; attempt++) {
      if (attempt > 0) await backoff(attempt - 1, this.options.backoffMs);
      this.stats.fetches++;
      try {
        await runGitAsync(args, { cwd: this.target.repoRoot, timeoutMs: this.options.timeoutMs });
        return;
      } catch (error) {
        last = error;
        if (error instanceof GitError && onlyRacedPeers(error.stderr, layout.cachePrefix)) {
          // A lock no live writer can still hold (one killed mid-write) would freeze that ref's view for ever.
          const locks = [...error.stderr.matchAll(/Unable to create '([^']+\.lock)'/g)].map((match) => match[1]!);
          if (clearedLock || !locks.some((lock) => clearStaleLock(lock, this.staleLockMs()))) return;
          clearedLock = true;
          attempt--; // the fetch again, once, whatever the retries left
          continue;
        }
        if (error instanceof GitError && /couldn't find remote ref/.test(error.stderr)) {
          throw new CliError('E_NOT_FOUND', `git remote ${layout.remote} (${this.target.url}) has no ${/couldn't find remote ref (\S+)/.exec(error.stderr)?.[1] ?? 'such ref'}`);
        }
        if (!(error instanceof GitError) && !(error instanceof GitTimeout)) throw error;
      }
    }
    throw new RemoteUnreachable(this.target, 'fetch', `${causeOf(last)}; tried ${this.options.retries + 1} times, nothing was changed`);
  }

  /**
   * One push of several ref updates (all or none with `atomic`). Returns each ref's outcome; throws
   * RemoteUnreachable when no answer came (the caller finds out what happened by pushing the same
   * commits again: a push that had landed answers "up to date").
   */
  async push(updates: readonly RefUpdate[], options: { atomic: boolean }): Promise<Map<string, { outcome: RefOutcome; reason: string }>> {
    // `git push <remote>` without a refspec would push the current branch: never.
    if (updates.length === 0) return new Map();
    const direct = await this.unanswered(this.direct.push(updates, options.atomic));
    return direct ?? this.pushWithGit(updates, options);
  }

  /** A cache ref lock older than this has no live writer: one git call holds it at most until its timeout. */
  staleLockMs(): number {
    return Math.max(2 * this.options.timeoutMs, 10_000);
  }

  /**
   * A push decided from the server's advertisement inside the connection (direct-push.ts), or
   * undefined when this remote or these updates need git push.
   */
  pushLive(plan: (advertised: ReadonlyMap<string, string>) => LivePlan | undefined): Promise<{ advertised: ReadonlyMap<string, string>; outcomes: Outcomes | undefined } | undefined> {
    return this.unanswered(this.direct.live(plan));
  }

  private async unanswered<T>(push: Promise<T>): Promise<T> {
    try {
      return await push;
    } catch (error) {
      if (error instanceof SessionFailure) throw new RemoteUnreachable(this.target, 'push', error.message, { url: this.direct.pushUrl(), mayHaveLanded: error.sent });
      throw error;
    }
  }

  /** The push by git: any transport, any objects. */
  private async pushWithGit(updates: readonly RefUpdate[], options: { atomic: boolean }): Promise<Map<string, { outcome: RefOutcome; reason: string }>> {
    const { layout } = this.target;
    // Given as a fetch refspec for this call, it makes git move this clone's cache refs itself
    // once the server accepted them: no second git process per write.
    const args = ['-c', `remote.${layout.remote}.fetch=${layout.fetchRefspec()}`, 'push', ...SAFE_PUSH, ...(options.atomic ? ['--atomic'] : [])];
    for (const update of updates) if (update.lease !== undefined) args.push(`--force-with-lease=${update.ref}:${update.lease ?? ''}`);
    args.push(layout.remote, ...updates.map((update) => `${update.to ?? ''}:${update.ref}`));
    this.stats.pushes++;
    let stdout: string;
    try {
      stdout = (await runGitAsync(args, { cwd: this.target.repoRoot, timeoutMs: this.options.timeoutMs, okExitCodes: [1] })).stdout;
    } catch (error) {
      if (error instanceof GitError || error instanceof GitTimeout) throw new RemoteUnreachable(this.target, 'push', causeOf(error), { url: this.direct.pushUrl() });
      throw error;
    }
    const outcomes = new Map<string, { outcome: RefOutcome; reason: string }>();
    for (const line of stdout.split('\n')) {
      const match = /^(.)\t([^\t]*):([^\t]+)\t(.*)$/.exec(line);
      if (!match) continue;
      const [, flag, , ref, summary] = match as unknown as [string, string, string, string, string];
      const outcome: RefOutcome = flag === '!' ? 'rejected' : flag === '=' ? 'uptodate' : 'ok';
      if (outcome === 'rejected') this.stats.rejected++;
      outcomes.set(ref, { outcome, reason: summary });
    }
    if (updates.some((update) => !outcomes.has(update.ref))) throw new RemoteUnreachable(this.target, 'push', 'the answer did not name every ref', { url: this.direct.pushUrl() });
    return outcomes;
  }
}
