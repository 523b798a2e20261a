import type { HolderProcess, TaskState } from '../backend.ts';
import { serializeTask, type ParsedTask } from '../task-file.ts';
import { randomHex } from '../../text/fingerprint.ts';
import type { StoreClock } from './clock.ts';
import type { ObjectWriter } from './objects.ts';
import { formatMessage, type ClaimRecord, type TaskRecord } from './records.ts';
import type { TaskEntry } from './snapshot.ts';

// Each transition as the commit that makes it: a child of the value the writer read (or a root
// commit for a new task), with the task file as its tree and the record in its message. Building
// a commit touches only this clone's object store; nothing is visible until the push lands.

export interface Built {
  commit: string;
  record: TaskRecord;
  /** The task file the commit holds. */
  text: string;
  tree: string;
}

export interface TransitionSpec {
  /** The value read; undefined for a new task. */
  from?: TaskEntry | undefined;
  /** Further parents: the work a completion publishes, so it travels with (and is kept by) the record. */
  extraParents?: readonly string[] | undefined;
  state: TaskState;
  event: string;
  subject: string;
  claim?: ClaimRecord | undefined;
  /** New task file content; default: the same tree as `from`. */
  frontmatter?: Record<string, unknown> | undefined;
  body?: string | undefined;
}

export class TransitionWriter {
  private readonly writer: ObjectWriter;
  private readonly clock: StoreClock;

  constructor(writer: ObjectWriter, clock: StoreClock) {
    this.writer = writer;
    this.clock = clock;
  }

  build(spec: TransitionSpec, parsed: ParsedTask | undefined): Built {
    const now = this.clock.now();
    const record: TaskRecord = { state: spec.state, event: spec.event, claim: spec.claim, at: new Date(now).toISOString(), nonce: randomHex(16) };
    let tree = spec.from?.tree;
    let text = parsed ? serializeTask(parsed.frontmatter, parsed.body) : '';
    if (spec.frontmatter !== undefined || tree === undefined) {
      text = serializeTask(spec.frontmatter ?? parsed!.frontmatter, spec.body ?? parsed?.body ?? '');
      tree = this.writer.tree([{ mode: '100644', name: 'task.md', id: this.writer.blob(text) }]);
    }
    const parents = [...(spec.from ? [spec.from.commit] : []), ...(spec.extraParents ?? [])];
    const commit = this.writer.commit({ tree, parents, message: formatMessage(spec.subject, record), time: Math.floor(now / 1000) });
    return { commit, record, text, tree };
  }

  /** The root commit of refs/parallel/store/meta: the store exists. */
  meta(): string {
    const now = this.clock.now();
    return this.writer.commit({ tree: this.writer.tree([]), parents: [], message: `parallel-agents task store\n\n${JSON.stringify({ format: 1, at: new Date(now).toISOString(), nonce: randomHex(16) })}\n`, time: Math.floor(now / 1000) });
  }

  /** A commit of the verify lock: who holds it (a child of the old value when taking over or renewing). */
  lock(parent: string | undefined, holder: HolderProcess, nonce: string, leaseMs: number): string {
    const now = this.clock.now();
    const message = `verify lock held by pid ${holder.pid} on host ${holder.host}\n\n${JSON.stringify({ event: 'verify-lock', holder, lease_ms: leaseMs, at: new Date(now).toISOString(), nonce: `${nonce}-${randomHex(8)}` })}\n`;
    return this.writer.commit({ tree: this.writer.tree([]), parents: parent ? [parent] : [], message, time: Math.floor(now / 1000) });
  }

  newClaim(agent: string, proof: string, holder: HolderProcess | undefined, leaseMs: number | undefined): ClaimRecord {
    return { agent, lease: `${Math.floor(this.clock.now() / 1000).toString(36)}-${randomHex(8)}`, proof, holder, lease_ms: leaseMs, at: new Date(this.clock.now()).toISOString() };
  }
}
