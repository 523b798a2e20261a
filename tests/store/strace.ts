import { spawn, spawnSync } from 'node:child_process';
import { TEST_BUNDLE } from '../helpers/paths.ts';

// The real CLI bundle under `strace -f -e inject=...`: the fault hits the real system call, not
// the store's port. SIGKILL injected at a call's entry kills the process before the call runs;
// SIGSTOP lets the call run and stops the process right after it, until the test sends SIGCONT.

export interface StraceRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The CLI's stdout. */
  stdout: string;
  /** strace's lines mixed with the CLI's stderr. */
  stderr: string;
}

export function straceArgs(filter: string[], args: string[]): string[] {
  return ['-f', '-qq', ...filter, process.execPath, TEST_BUNDLE, ...args];
}

/** Runs the CLI under strace to its end. strace ends as the traced CLI did (killed by the same signal). */
export function straceCli(filter: string[], args: string[], cwd: string): StraceRun {
  const result = spawnSync('strace', straceArgs(filter, args), { cwd, encoding: 'utf8' });
  if (result.error) throw new Error(`cannot run strace (${result.error.message}): these tests attack the real system calls and need it installed, as CI has`);
  return { exitCode: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** Runs the CLI under strace with SIGSTOP injected; resolves once it is stopped, with its pid and a way to let it go on. */
export function straceStopped(filter: string[], args: string[], cwd: string): Promise<{ pid: number; resume: () => Promise<StraceRun> }> {
  const child = spawn('strace', straceArgs(filter, args), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const missing = new Promise<never>((_, reject) => child.on('error', (error) => reject(new Error(`cannot run strace (${error.message}): these tests attack the real system calls and need it installed, as CI has`))));
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const ended = new Promise<StraceRun>((resolve) => child.on('close', (exitCode, signal) => resolve({ exitCode, signal, stdout, stderr })));
  return new Promise((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      const before = stderr;
      stderr += chunk;
      // "[pid N] --- SIGSTOP {si_signo=SIGSTOP, ...} ---": the thread that made the call is stopped.
      const match = /(?:^|\n)(?:\[pid +(\d+)\] )?--- SIGSTOP \{/.exec(stderr);
      if (match && !/--- SIGSTOP \{/.test(before)) {
        const pid = match[1] ? Number(match[1]) : child.pid!;
        resolve({
          pid,
          resume: () => {
            process.kill(pid, 'SIGCONT');
            return ended;
          },
        });
      }
    });
    ended.then((run) => reject(new Error(`strace ended before the stop: ${run.stderr.slice(-2000)}`)), () => {});
    missing.catch(reject);
  });
}

/** The n-th (1-based) traced call of `syscall` whose line contains `marker`, counting every traced call of that syscall. */
export function callIndex(straceOutput: string, syscall: string, marker: string): number {
  const calls = straceOutput.split('\n').filter((line) => new RegExp(`(^|\\] )${syscall}\\(`).test(line.replace(/^\d+ /, '')));
  const at = calls.findIndex((line) => line.includes(marker));
  if (at < 0) throw new Error(`no ${syscall} call with ${marker} in:\n${calls.join('\n')}`);
  return at + 1;
}
