import { spawn } from 'node:child_process';
import { timerDelay } from '../text/duration.ts';

// A command the user declared (a project's set-up, a check, verify's test command; never task
// text) runs through `sh -c` like a Makefile line, in its own process group: a timeout must stop
// everything it started (npm, node, a dev server), not only the shell, or the pipes stay open and
// the caller waits for them.

const OUTPUT_KEEP_BYTES = 64 * 1024;

export interface ShellRun {
  exitCode: number;
  signal: string | null;
  timedOut: boolean;
  /** Stopped because `signal` fired (the caller was interrupted). */
  interrupted: boolean;
  durationMs: number;
  /** The last OUTPUT_KEEP_BYTES or so of stdout and stderr, interleaved as they came. */
  output: string;
}

export interface ShellOptions {
  cwd: string;
  /** Added to this process's environment. */
  env: Record<string, string>;
  timeoutMs: number;
  /** Stops the command and everything it started (a run interrupted by Ctrl-C). */
  signal?: AbortSignal | undefined;
}

export function runShell(command: string, options: ShellOptions): Promise<ShellRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const killGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    let output = '';
    let timedOut = false;
    let interrupted = false;
    const interrupt = (): void => {
      interrupted = true;
      output += '\n[parallel-agents] interrupted; the command and everything it started were killed\n';
      killGroup();
    };
    if (options.signal?.aborted) interrupt();
    else options.signal?.addEventListener('abort', interrupt, { once: true });
    const keep = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (output.length > OUTPUT_KEEP_BYTES * 2) output = output.slice(-OUTPUT_KEEP_BYTES);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      timedOut = true;
      output += `\n[parallel-agents] timed out after ${Math.round(options.timeoutMs / 1000)} s; the command and everything it started were killed\n`;
      killGroup();
    }, timerDelay(options.timeoutMs));
    child.on('error', (error) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', interrupt);
      resolve({ exitCode: 127, signal: null, timedOut, interrupted, durationMs: Date.now() - started, output: `${output}\n${error.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', interrupt);
      // Whatever the command left running in the background goes with it.
      killGroup();
      resolve({ exitCode: code ?? 128, signal: signal ?? null, timedOut, interrupted, durationMs: Date.now() - started, output });
    });
  });
}

/** The last `lines` lines of `text`, trailing blank space dropped. */
export function tailOf(text: string, lines: number): string {
  return text.replace(/\s+$/, '').split('\n').slice(-lines).join('\n');
}
