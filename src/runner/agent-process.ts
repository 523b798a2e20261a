import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { timerDelay } from '../text/duration.ts';

// One agent attempt is one process group: agents start shells, test runners and language servers,
// and killing only the direct child leaves those running (and holding the worktree) after a
// timeout. `detached: true` makes the child the leader of a new group, so one signal to -pid
// reaches every descendant that did not deliberately leave the group.

export interface AgentLaunch {
  /** Program and arguments; never passed through a shell. */
  argv: readonly string[];
  cwd: string;
  /** Added to the runner's own environment. */
  env: Record<string, string>;
  /** Written to the agent's stdin (the caller also puts it in a file named by the env). */
  stdin: string;
  timeoutMs: number;
  /** Time between SIGTERM and SIGKILL of the group. */
  killGraceMs?: number;
  /** Aborting terminates the group like a timeout does (Ctrl-C of the runner). */
  signal?: AbortSignal;
  /** Stdout kept in full up to this many bytes (adapters parse it); the rest is dropped. */
  stdoutLimit?: number;
}

export interface AgentExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  interrupted: boolean;
  durationMs: number;
  stdout: string;
  /** Last few KB of stderr: what a failure reason quotes. */
  stderrTail: string;
  /** The process could not start at all (missing program, not executable). */
  spawnError?: string;
  pid: number | undefined;
}

const STDERR_TAIL_BYTES = 4096;

export interface RunningAgent {
  pid: number | undefined;
  done: Promise<AgentExit>;
  /** SIGTERM the whole group, then SIGKILL after the grace period. */
  terminate(): void;
}

export function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Every live descendant of `root`, from /proc (empty where there is none). Needed because some
 * agents put their tools' commands in sessions of their own: Claude Code's Bash tool does, so a
 * group signal never reaches the watcher or server an agent started, and it outlived a Ctrl-C.
 */
export function descendantPids(root: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // The command name may hold spaces and parentheses; the fields after the last ')' are fixed:
    // state, ppid, ...
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function killPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export function startAgentProcess(launch: AgentLaunch): RunningAgent {
  const started = Date.now();
  const [program, ...args] = launch.argv;
  if (program === undefined) throw new Error('agent command is empty');
  const child = spawn(program, args, {
    cwd: launch.cwd,
    env: { ...process.env, ...launch.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
    shell: false,
  });
  const stdoutLimit = launch.stdoutLimit ?? 4 * 1024 * 1024;
  let stdout = '';
  let stderrTail = '';
  let timedOut = false;
  let interrupted = false;
  let killTimer: NodeJS.Timeout | undefined;
  let spawnError: string | undefined;

  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    if (stdout.length < stdoutLimit) stdout += chunk.slice(0, stdoutLimit - stdout.length);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_BYTES);
  });
  // An agent that never reads its stdin closes the pipe early; that is not an error.
  child.stdin.on('error', () => {});
  child.stdin.end(launch.stdin);

  // Descendants seen when the attempt was terminated: once the agent has exited they are
  // orphans and can no longer be found through it. Killed within seconds of the snapshot, so a
  // reused pid is not a practical concern.
  let terminatedTree: number[] = [];
  const killTree = (): void => {
    for (const pid of terminatedTree) killPid(pid, 'SIGKILL');
  };
  const terminate = (): void => {
    if (child.pid === undefined || killTimer !== undefined) return;
    terminatedTree = descendantPids(child.pid);
    killGroup(child.pid, 'SIGTERM');
    for (const pid of terminatedTree) killPid(pid, 'SIGTERM');
    killTimer = setTimeout(() => {
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      killTree();
    }, launch.killGraceMs ?? 2000);
    killTimer.unref();
  };
  const timeout = setTimeout(() => {
    timedOut = true;
    terminate();
  }, timerDelay(launch.timeoutMs));
  const onAbort = (): void => {
    interrupted = true;
    terminate();
  };
  if (launch.signal?.aborted) onAbort();
  else launch.signal?.addEventListener('abort', onAbort, { once: true });

  const done = new Promise<AgentExit>((resolve) => {
    let exited: { code: number | null; signal: NodeJS.Signals | null; at: number } | undefined;
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timeout);
      if (killTimer) clearTimeout(killTimer);
      launch.signal?.removeEventListener('abort', onAbort);
      resolve({
        exitCode: exited?.code ?? null,
        signal: exited?.signal ?? null,
        timedOut,
        interrupted,
        // Until the process exited, not until its pipes closed: the agent's own time, which the
        // run report counts as agent work.
        durationMs: (exited?.at ?? Date.now()) - started,
        stdout,
        stderrTail,
        ...(spawnError !== undefined ? { spawnError } : {}),
        pid: child.pid,
      });
    };
    child.on('error', (error) => {
      spawnError = error.message;
      if (child.pid === undefined) finish();
    });
    child.on('exit', (code, signal) => {
      exited = { code, signal, at: Date.now() };
      // The leader is gone; whatever it left behind in its group (a backgrounded server, a
      // stray `sleep`) would outlive the attempt and keep the worktree busy, so end it now.
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      killTree();
      // A descendant that left the group (setsid) may still hold the pipes: do not wait forever.
      setTimeout(finish, 2000).unref();
    });
    // 'close' waits for the pipes, which the group kill above has released.
    child.on('close', () => finish());
  });
  return { pid: child.pid, done, terminate };
}
