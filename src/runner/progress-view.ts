// Three ways to watch a run: a live view on a terminal (one line per agent, redrawn in place),
// one plain line per event when stderr is a log or a pipe, and JSON lines with --json for tools.

export type RunnerEvent =
  | { event: 'run-start'; total: number; to_run: number; agents: number; adapter: string }
  | { event: 'task-start'; task: string; agent: string; attempt: number }
  | { event: 'task-complete'; task: string; agent: string; attempt: number; ms: number; commit: string }
  | { event: 'task-fail'; task: string; agent: string; attempt: number; ms: number; reason: string; blocked: boolean }
  | { event: 'rate-limited'; task: string; agent: string; limit: number; delay_ms: number }
  | { event: 'budget-stop'; spent_usd: number; budget_usd: number }
  | { event: 'interrupted'; signal: string; released: string[] }
  | { event: 'elsewhere'; task: string; state: string; by?: string | undefined }
  | { event: 'recovered'; task: string; from: string; reason: string; to: string }
  | { event: 'store-error'; reason: string }
  | { event: 'verify-start'; tasks: number }
  | { event: 'verify-wait'; holder: string; lease_ms?: number | undefined; takeover_in_ms?: number | undefined }
  | { event: 'run-end'; completed: number; total: number; makespan_ms: number };

export interface ProgressView {
  event(event: RunnerEvent): void;
  close(): void;
}

export interface ProgressOutput {
  json: boolean;
  emit(event: Record<string, unknown> & { event: string }, human?: string): void;
  stream: NodeJS.WriteStream;
  now?: () => number;
}

function seconds(ms: number): string {
  return ms >= 60_000 ? `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s` : `${(ms / 1000).toFixed(1)}s`;
}

export function describeEvent(event: RunnerEvent): string {
  switch (event.event) {
    case 'run-start': return `run: ${event.to_run} of ${event.total} task(s) to run with ${event.agents} agent(s) (${event.adapter})`;
    case 'task-start': return `${event.agent}: start ${event.task} (attempt ${event.attempt})`;
    case 'task-complete': return `${event.agent}: done ${event.task} in ${seconds(event.ms)} (${event.commit.slice(0, 10)})`;
    case 'task-fail': return `${event.agent}: ${event.blocked ? 'blocked' : 'failed'} ${event.task} after ${seconds(event.ms)}: ${event.reason}`;
    case 'rate-limited': return `${event.agent}: ${event.task} was rate limited; concurrency now ${event.limit}, pausing ${seconds(event.delay_ms)}`;
    case 'budget-stop': return `budget: $${event.spent_usd.toFixed(4)} spent of $${event.budget_usd}; no new attempts will start`;
    case 'interrupted': return `interrupted by ${event.signal}: agents stopped, ${event.released.length} claim(s) released, worktrees kept`;
    case 'elsewhere': return `store: ${event.task} ${event.state} on another machine${event.by ? ` (${event.by})` : ''}`;
    case 'recovered': return `store: took back ${event.task} from ${event.from} (${event.reason}); it is ${event.to}`;
    case 'store-error': return `store: could not re-list it (${event.reason}); trying again at the next look`;
    case 'verify-start': return `verify: merging ${event.tasks} completed task(s)`;
    case 'verify-wait': {
      const takeover = event.takeover_in_ms !== undefined && event.lease_ms !== undefined ? `; taken over in ${seconds(event.takeover_in_ms)} if it shows no sign of life (its lease: ${seconds(event.lease_ms)})` : '';
      return `verify: another verify is merging (${event.holder}); waiting for it, then checking what it merged${takeover}`;
    }
    case 'run-end': return `run: ${event.completed}/${event.total} completed in ${seconds(event.makespan_ms)}`;
  }
}

/** Live terminal view: redraws its own lines in place every half second. */
class LiveView implements ProgressView {
  private readonly running = new Map<string, { task: string; since: number; attempt: number }>();
  private total = 0;
  private done = 0;
  private failures = 0;
  private agents: string[] = [];
  private drawnLines = 0;
  private readonly durations: number[] = [];
  private readonly log: string[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly stream: NodeJS.WriteStream;
  private readonly now: () => number;

  constructor(stream: NodeJS.WriteStream, now: () => number) {
    this.stream = stream;
    this.now = now;
    this.timer = setInterval(() => this.draw(), 500);
    this.timer.unref();
  }

  event(event: RunnerEvent): void {
    if (this.frozen) {
      this.stream.write(`${describeEvent(event)}\n`);
      return;
    }
    switch (event.event) {
      case 'run-end':
        // Verify prints its own lines next: leave the last frame in place and stop redrawing.
        this.log.push(describeEvent(event));
        this.draw();
        this.freeze();
        return;
      case 'run-start':
        this.total = event.total;
        this.done = event.total - event.to_run;
        this.agents = Array.from({ length: event.agents }, (_, index) => `agent-${index + 1}`);
        break;
      case 'task-start':
        this.running.set(event.agent, { task: event.task, since: this.now(), attempt: event.attempt });
        break;
      case 'task-complete':
        this.running.delete(event.agent);
        this.done++;
        this.durations.push(event.ms);
        break;
      case 'elsewhere':
        if (event.state === 'completed') this.done++;
        this.log.push(describeEvent(event));
        break;
      case 'task-fail':
        this.running.delete(event.agent);
        this.failures++;
        this.log.push(describeEvent(event));
        break;
      case 'rate-limited':
        this.running.delete(event.agent);
        this.log.push(describeEvent(event));
        break;
      default:
        this.log.push(describeEvent(event));
    }
    this.draw();
  }

  private eta(): string {
    if (this.durations.length === 0) return '?';
    const mean = this.durations.reduce((sum, ms) => sum + ms, 0) / this.durations.length;
    const left = Math.max(0, this.total - this.done);
    return seconds((mean * left) / Math.max(1, this.agents.length));
  }

  private draw(): void {
    const lines = [...this.log.splice(0)];
    // Log lines scroll above the live block; the block itself is redrawn.
    let out = this.drawnLines > 0 ? `\x1b[${this.drawnLines}F\x1b[J` : '';
    for (const line of lines) out += `${line}\n`;
    const block = [`${this.done}/${this.total} done, ${this.failures} failure(s), ${this.running.size} running, ETA ${this.eta()}`];
    for (const agent of this.agents) {
      const current = this.running.get(agent);
      block.push(`  ${agent}  ${current ? `${current.task} (attempt ${current.attempt}) ${seconds(this.now() - current.since)}` : 'idle'}`);
    }
    // A wrapped line would throw off the cursor-up count of the next redraw: cut to the width.
    const width = Math.max(20, (this.stream.columns ?? 120) - 1);
    out += `${block.map((line) => (line.length > width ? `${line.slice(0, width - 1)}…` : line)).join('\n')}\n`;
    this.drawnLines = block.length;
    this.stream.write(out);
  }

  private frozen = false;

  private freeze(): void {
    clearInterval(this.timer);
    this.frozen = true;
  }

  close(): void {
    if (this.frozen) return;
    this.draw();
    this.freeze();
  }
}

export function createProgressView(output: ProgressOutput): ProgressView {
  if (!output.json && output.stream.isTTY) return new LiveView(output.stream, output.now ?? Date.now);
  return {
    event(event) {
      output.emit(event, describeEvent(event));
    },
    close() {},
  };
}
