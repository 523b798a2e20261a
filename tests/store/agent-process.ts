import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { AgentFault, AgentRecord, AgentRun, AgentStep } from './agent-protocol.ts';

// The test side of tests/fixtures/store-agent.ts: one long-lived agent process, its events (ready,
// a run done, a stall reached, its exit) as a queue the test awaits, and its log read back.

export type AgentEvent =
  | { kind: 'done'; run: number }
  | { kind: 'stall'; label: string; n: number; call: string }
  | { kind: 'exit'; code: number | null; signal: NodeJS.Signals | null };

let runs = 0;

export class AgentProcess {
  readonly child: ChildProcess;
  private readonly events: AgentEvent[] = [];
  private wake: (() => void) | undefined;
  private readonly ready: Promise<void>;
  exited = false;

  private constructor(worker: string) {
    this.child = fork(worker, [], { execArgv: [], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    this.ready = new Promise((resolve) => this.child.once('message', () => resolve()));
    this.child.on('message', (message: { done?: number } | string) => {
      if (typeof message === 'object' && message.done !== undefined) this.push({ kind: 'done', run: message.done });
    });
    // A message sent as the process is killed fails; its exit is what the caller waits for.
    this.child.on('error', () => {});
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      this.push({ kind: 'exit', code, signal });
    });
    let buffered = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
        const [word, label, n, call] = buffered.slice(0, end).split(' ');
        buffered = buffered.slice(end + 1);
        if (word === 'STALL') this.push({ kind: 'stall', label: label!, n: Number(n), call: call! });
      }
    });
  }

  static async start(worker: string): Promise<AgentProcess> {
    const agent = new AgentProcess(worker);
    await agent.ready;
    return agent;
  }

  get pid(): number {
    return this.child.pid!;
  }

  private push(event: AgentEvent): void {
    this.events.push(event);
    this.wake?.();
  }

  /** The next thing the agent did: finished a run, reached a stall, or exited. */
  async next(): Promise<AgentEvent> {
    while (this.events.length === 0) await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = undefined;
    return this.events.shift()!;
  }

  /** Starts a script; await next() for its end (or its stall). */
  send(dir: string, log: string, steps: AgentStep[], fault?: AgentFault): void {
    const message: AgentRun = { run: ++runs, dir, log, steps, fault };
    this.child.send(message);
  }

  /** Runs a script to its end (the agent must survive it). */
  async run(dir: string, log: string, steps: AgentStep[], fault?: AgentFault): Promise<AgentRecord[]> {
    this.send(dir, log, steps, fault);
    const event = await this.next();
    if (event.kind !== 'done') throw new Error(`agent ${this.pid}: expected the run to finish, got ${JSON.stringify(event)}`);
    return readRecords(log);
  }

  async kill(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGKILL');
    while ((await this.next()).kind !== 'exit') { /* drain */ }
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.send('exit');
    while ((await this.next()).kind !== 'exit') { /* drain */ }
  }
}

export function readRecords(log: string): AgentRecord[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as AgentRecord);
}

export function makeFifo(path: string): string {
  const made = spawnSync('mkfifo', [path]);
  if (made.status !== 0) throw new Error(`mkfifo ${path}: ${made.stderr}`);
  return path;
}

/** Lets a process blocked reading the FIFO go on (the open waits for the reader, off the event loop). */
export function releaseFifo(path: string): Promise<void> {
  return writeFile(path, 'go');
}

/** Wakes a chaos stall: one byte into the FIFO its agent holds open; nothing if the agent is gone (no reader). */
export function nudgeFifo(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return;
  }
  try {
    writeSync(fd, 'g');
  } finally {
    closeSync(fd);
  }
}
