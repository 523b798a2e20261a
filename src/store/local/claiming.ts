import { writeFailure } from '../../fs/atomic-write.ts';
import { isMissing } from '../../fs/fs-port.ts';
import type { ClaimRequest, TaskState } from '../backend.ts';
import type { ClaimSnapshot } from '../claimability.ts';
import { newHolderSecret } from '../holder-proof.ts';
import type { ParsedTask } from '../task-file.ts';
import type { StoreFolder, TaskLocation } from './folder.ts';
import { claimFileName, formatLease, idOfTaskFile, parseClaimFileName, parseMoveFileName, taskFileName } from './names.ts';

// Claiming is one rename of <state>/<id>.md to claimed/<id>~<agent>~<lease>.md: exactly one
// contender wins, whatever the number of processes. Contenders go through the candidates in a
// fixed order (available before failed, then by id) so people and agents can predict what they
// get; a lost race costs one failed rename. A long-lived caller (the runner, a benchmark) reuses
// its listing and what it parsed, since role and depends_on never change after a task is added.

const CLAIMABLE: readonly TaskState[] = ['available', 'failed'];

interface Candidate {
  state: TaskState;
  id: string;
}

interface ClaimMeta {
  role: string | undefined;
  depends_on: string[];
  parsed: ParsedTask;
}

export interface ClaimWin {
  location: TaskLocation;
  parsed: ParsedTask;
  origin: string;
  token: string;
}

export class Claimer {
  private readonly folder: StoreFolder;
  private readonly meta = new Map<string, ClaimMeta>();
  /** Completed is a final state until a reopen, which only verify makes: once seen, an id stays completed for a claim's purposes. */
  private readonly completed = new Set<string>();
  private candidates: Candidate[] | undefined;
  /** Where the still-open part of `candidates` starts: winning the first open one moves this instead of copying the list. */
  private from = 0;
  /** A token whose proof no claim name has carried: a lost race leaves it unseen, so the next attempt reuses it. */
  private unpublished: { token: string; proof: string } | undefined;

  constructor(folder: StoreFolder) {
    this.folder = folder;
  }

  /**
   * The open tasks, in claim order. An id filed twice (a hand-made copy in the other open folder,
   * or also in claimed/) is left out here, once per listing: reading claimed/ for every claim
   * would cost a readdir as long as the number of held tasks. claimed/ is read only when there is
   * an open task to check, and only names that start with an open id are parsed: every contender
   * lists again when the queue drains, and parsing 2,000 held names there cost more than its
   * claims' renames (bench/RESULTS.md).
   */
  private listCandidates(): Candidate[] {
    const found: Candidate[] = [];
    const seen = new Set<string>();
    const twice = new Set<string>();
    for (const state of CLAIMABLE) {
      const ids = this.folder.names(state).filter((entry) => entry.isFile()).map((entry) => idOfTaskFile(entry.name)).filter((id): id is string => id !== undefined);
      for (const id of ids.sort()) {
        if (seen.has(id)) twice.add(id);
        seen.add(id);
        found.push({ state, id });
      }
    }
    if (found.length === 0) return found;
    const held = new Set<string>();
    for (const name of this.folder.fileNames('claimed')) {
      // A claim's name starts with its id and "~" (names.ts): anything else cannot hold an open id.
      const cut = name.indexOf('~');
      if (cut <= 0 || !seen.has(name.slice(0, cut))) continue;
      const claim = parseClaimFileName(name);
      if (claim) held.add(claim.id);
    }
    return found.filter((candidate) => !held.has(candidate.id) && !twice.has(candidate.id));
  }

  private metaOf(candidate: Candidate): ClaimMeta | undefined {
    const cached = this.meta.get(candidate.id);
    if (cached) return cached;
    const path = this.folder.entryPath(candidate.state, taskFileName(candidate.id));
    // Under contention most candidates reached were just taken by another claimer: checking that
    // the file is there costs about 1 us, where a failed read throws an error costing about 8 us.
    if (!this.folder.fs.existsSync(path)) return undefined;
    try {
      const parsed = this.folder.read(path);
      if (parsed.frontmatter.id !== candidate.id) return undefined;
      const meta = { role: parsed.frontmatter.role, depends_on: parsed.frontmatter.depends_on, parsed };
      this.meta.set(candidate.id, meta);
      return meta;
    } catch {
      // Gone (claimed by someone else) or unreadable (status reports it): not claimable here.
      return undefined;
    }
  }

  private completedIds(refresh: boolean): Set<string> {
    if (refresh || this.completed.size === 0) {
      for (const entry of this.folder.names('completed')) {
        const id = idOfTaskFile(entry.name);
        if (id) this.completed.add(id);
      }
    }
    return this.completed;
  }

  private dependenciesMet(meta: ClaimMeta): boolean {
    if (meta.depends_on.length === 0) return true;
    if (meta.depends_on.every((dep) => this.completedIds(false).has(dep))) return true;
    return meta.depends_on.every((dep) => this.completedIds(true).has(dep));
  }

  /**
   * Takes one claimable task; undefined when none could be taken (the caller then asks
   * `snapshot()` why). `record` runs after the win (the journal line); if it throws, the claim
   * is given back before the error propagates.
   */
  claim(request: ClaimRequest, record: (win: ClaimWin) => void): ClaimWin | undefined {
    const { fs } = this.folder;
    for (let pass = 0; pass < 2; pass++) {
      const fresh = pass === 1 || this.candidates === undefined;
      if (fresh) {
        this.candidates = this.listCandidates();
        this.from = 0;
      }
      const candidates = this.candidates!;
      const start = this.from;
      const gone = new Set<Candidate>();
      for (let index = start; index < candidates.length; index++) {
        const candidate = candidates[index]!;
        if (request.task !== undefined && candidate.id !== request.task) continue;
        const meta = this.metaOf(candidate);
        if (!meta) {
          gone.add(candidate);
          continue;
        }
        if (request.role !== undefined && meta.role !== request.role) continue;
        if (!this.dependenciesMet(meta)) continue;
        gone.add(candidate);
        this.unpublished ??= newHolderSecret();
        const { token, proof } = this.unpublished;
        const lease = formatLease(Date.now(), proof, request.holder);
        const origin = this.folder.entryPath(candidate.state, taskFileName(candidate.id));
        const claimPath = this.folder.claimPath(candidate.id, request.agent, lease);
        try {
          fs.renameSync(origin, claimPath);
        } catch (error) {
          // The task was gone: no file was named after this token, so the next attempt may use it.
          if (isMissing(error)) continue;
          this.unpublished = undefined;
          throw writeFailure(error, claimPath);
        }
        this.unpublished = undefined;
        this.forget(candidates, start, index, gone);
        // A hand-made second copy of the id (in any state) makes the task ambiguous: never hold it.
        if (this.filedElsewhere(candidate.id, candidate.state)) {
          this.giveBack(claimPath, origin);
          continue;
        }
        // The rename kept the old mtime; stamp the lease so the claim starts fresh.
        const now = new Date();
        try { fs.utimesSync(claimPath, now, now); } catch { /* recovered already: the holder hears it on its next call */ }
        // The cached parse may predate a failed attempt that rewrote the file: re-read those.
        let parsed: ParsedTask;
        try {
          parsed = candidate.state === 'available' ? meta.parsed : this.folder.read(claimPath);
        } catch (error) {
          // A recoverer took the claim back before it was announced: it was never ours to hand out.
          if (isMissing(error)) continue;
          throw error;
        }
        this.meta.delete(candidate.id);
        const location: TaskLocation = { state: 'claimed', path: claimPath, name: claimFileName(candidate.id, request.agent, lease), claim: parseClaimFileName(claimFileName(candidate.id, request.agent, lease))! };
        const win = { location, parsed, origin, token };
        try {
          record(win);
        } catch (error) {
          this.giveBack(claimPath, origin);
          throw error;
        }
        return win;
      }
      this.forget(candidates, start, candidates.length - 1, gone);
      if (fresh) break;
    }
    this.candidates = undefined;
    return undefined;
  }

  /**
   * Keeps the candidates from `start` on that were not found gone among those tried (up to
   * `last`). When every one tried went, as when no role or dependency skipped any, that is moving
   * `from`: copying the list per claim cost about 15 us with 1,000 open tasks (bench/RESULTS.md).
   */
  private forget(candidates: Candidate[], start: number, last: number, gone: Set<Candidate>): void {
    if (gone.size === last - start + 1) {
      this.candidates = candidates;
      this.from = last + 1;
      return;
    }
    this.candidates = candidates.slice(start).filter((item) => !gone.has(item));
    this.from = 0;
  }

  /** A copy of the id in another state folder (made by hand since the listing): never hold it. */
  private filedElsewhere(id: string, origin: TaskState): boolean {
    const { fs } = this.folder;
    return (['available', 'failed', 'completed', 'blocked'] as const).some((state) => state !== origin && fs.existsSync(this.folder.entryPath(state, taskFileName(id))));
  }

  /** Puts a just-won claim back where it came from (nobody else can have filed that name since). */
  private giveBack(claimPath: string, origin: string): void {
    const { fs } = this.folder;
    if (fs.existsSync(origin)) return;
    try { fs.renameSync(claimPath, origin); } catch { /* recovered meanwhile: it is back in circulation */ }
  }

  /** The names-only picture nothingClaimable needs. */
  snapshot(where: string): ClaimSnapshot {
    const stateOf = new Map<string, TaskState>();
    const holders = new Map<string, string>();
    let moving = 0;
    for (const state of ['available', 'claimed', 'completed', 'failed', 'blocked'] as const) {
      // Names only, no file types: every contender builds this once the queue drains.
      for (const name of this.folder.fileNames(state)) {
        if (name.startsWith('.')) {
          if (state !== 'completed' && parseMoveFileName(name)?.kind === 'moving') moving++;
          continue;
        }
        const location = this.folder.locationOf(state, name);
        if (!location) continue;
        const id = location.claim?.id ?? idOfTaskFile(name)!;
        stateOf.set(id, state);
        if (location.claim) holders.set(id, location.claim.agent);
      }
    }
    const openDeps = new Map<string, readonly string[] | undefined>();
    for (const [id, state] of stateOf) {
      if (state !== 'available' && state !== 'failed') continue;
      openDeps.set(id, this.metaOf({ state, id })?.depends_on);
    }
    return { stateOf, holders, moving, openDeps, where };
  }
}
