import { createRequire } from 'node:module';
import { CliError } from '../errors.ts';
import { stopGroup } from '../process/stop-group.ts';
import { timerDelay } from '../text/duration.ts';

// Every git call of the runtime goes through this file: an argument vector (never a shell), an
// explicit cwd, and an environment where pagers, prompts and the user's locale cannot interfere.
// node:child_process is loaded on the first call: commands such as `status` that locate the
// repository from the files on disk never spawn git and should not pay for the module.

type ChildProcessModule = typeof import('node:child_process');
let childProcessModule: ChildProcessModule | undefined;

function childProcess(): ChildProcessModule {
  childProcessModule ??= (typeof require === 'function' ? require('node:child_process') : createRequire(import.meta.url)('node:child_process')) as ChildProcessModule;
  return childProcessModule;
}

/** A git command that failed; it is a CliError (E_GIT) so the CLI reports it in one line. */
export class GitError extends CliError {
  readonly args: readonly string[];
  readonly gitExitCode: number;
  readonly stderr: string;

  constructor(args: readonly string[], gitExitCode: number, stderr: string, cwd: string) {
    const firstLine = stderr.trim().split('\n').find((line) => line.trim().length > 0) ?? `exit code ${gitExitCode}`;
    super('E_GIT', `git ${args.slice(0, 3).join(' ')} failed in ${cwd}: ${firstLine}`, {
      git_args: [...args],
      git_exit: gitExitCode,
    });
    this.name = 'GitError';
    this.args = args;
    this.gitExitCode = gitExitCode;
    this.stderr = stderr;
  }
}

export interface GitResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface GitOptions {
  /** Always explicit: git resolves everything relative to it. */
  cwd: string;
  input?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** Exit codes that are answers rather than failures (merge-tree's 1 = conflicts). */
  okExitCodes?: readonly number[] | undefined;
  /**
   * runGitAsync only: kill git and everything it started (a transport helper, an ssh) after this
   * long, and fail with GitTimeout. A network call must never hang a command forever.
   */
  timeoutMs?: number | undefined;
  /** runGitAsync only: how stdout is decoded ('latin1' keeps every byte, for length-prefixed output). */
  stdoutEncoding?: BufferEncoding | undefined;
}

/** A git process killed because it ran past its timeoutMs. */
export class GitTimeout extends CliError {
  constructor(args: readonly string[], timeoutMs: number, cwd: string) {
    super('E_GIT', `git ${args.slice(0, 3).join(' ')} did not finish within ${timeoutMs} ms in ${cwd}; it was stopped`, { git_args: [...args], timeout_ms: timeoutMs });
    this.name = 'GitTimeout';
  }
}

const QUIET_ENV = { GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'cat', LC_ALL: 'C', GIT_OPTIONAL_LOCKS: '0' };

/** Runs git with an argument vector (never a shell), output captured. */
export function runGit(args: readonly string[], options: GitOptions): GitResult {
  const result = childProcess().spawnSync('git', args, {
    cwd: options.cwd,
    input: options.input ?? '',
    encoding: 'utf8',
    env: { ...process.env, ...options.env, ...QUIET_ENV },
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.error) {
    throw new CliError('E_GIT', `could not run git in ${options.cwd}: ${result.error.message}; install git 2.38 or newer and put it on PATH`);
  }
  const exitCode = result.status ?? 128;
  if (exitCode !== 0 && !(options.okExitCodes ?? []).includes(exitCode)) {
    throw new GitError(args, exitCode, result.stderr, options.cwd);
  }
  return { stdout: result.stdout, stderr: result.stderr, exitCode };
}

/** runGit without blocking the event loop, so independent git processes can run side by side. */
export function runGitAsync(args: readonly string[], options: GitOptions): Promise<GitResult> {
  return new Promise((resolvePromise, reject) => {
    const input = options.input;
    const timeoutMs = options.timeoutMs;
    // With a timeout git gets its own process group, so the kill reaches its helpers too.
    const child = childProcess().spawn('git', args, { cwd: options.cwd, env: { ...process.env, ...options.env, ...QUIET_ENV }, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], detached: timeoutMs !== undefined });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      stopGroup(child.pid!);
      // Answer now: a helper outside the group could keep the pipes open long after.
      reject(new GitTimeout(args, timeoutMs!, options.cwd));
    }, timerDelay(timeoutMs));
    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => {
      if (timer) clearTimeout(timer);
      reject(new CliError('E_GIT', `could not run git in ${options.cwd}: ${error.message}; install git 2.38 or newer and put it on PATH`));
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      if (timedOut) return;
      const result = { stdout: Buffer.concat(stdout).toString(options.stdoutEncoding ?? 'utf8'), stderr: Buffer.concat(stderr).toString('utf8'), exitCode: code ?? 128 };
      if (result.exitCode !== 0 && !(options.okExitCodes ?? []).includes(result.exitCode)) {
        reject(new GitError(args, result.exitCode, result.stderr, options.cwd));
      } else {
        resolvePromise(result);
      }
    });
    if (input !== undefined && child.stdin) {
      // git may exit before reading all of it (an error): its exit code tells, not the pipe.
      child.stdin.on('error', () => {});
      child.stdin.end(input);
    }
  });
}

/**
 * A git process to talk to over its pipes (a receive-pack on the other end of a push), in its own
 * process group so a timeout can kill it with its helpers. The caller owns its lifetime.
 */
export function spawnGit(args: readonly string[], options: Pick<GitOptions, 'cwd' | 'env'>): import('node:child_process').ChildProcessWithoutNullStreams {
  return childProcess().spawn('git', args, { cwd: options.cwd, env: { ...(options.env ?? process.env), ...QUIET_ENV }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
}

/** stdout of a successful git call with the trailing newline removed. */
export function gitOutput(args: readonly string[], options: GitOptions): string {
  return runGit(args, options).stdout.replace(/\n$/, '');
}

/** True when git exits 0, false on exit 1; anything else is an error. */
export function gitTest(args: readonly string[], options: GitOptions): boolean {
  return runGit(args, { ...options, okExitCodes: [1] }).exitCode === 0;
}

/** Full commit id of a revision, or undefined when it names no commit. */
export function resolveCommit(rev: string, cwd: string): string | undefined {
  if (rev.startsWith('-')) return undefined;
  const result = runGit(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], { cwd, okExitCodes: [1, 128] });
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

/** gitOutput without blocking the event loop. */
export async function gitOutputAsync(args: readonly string[], options: GitOptions): Promise<string> {
  return (await runGitAsync(args, options)).stdout.replace(/\n$/, '');
}

/** gitTest without blocking the event loop. */
export async function gitTestAsync(args: readonly string[], options: GitOptions): Promise<boolean> {
  return (await runGitAsync(args, { ...options, okExitCodes: [1] })).exitCode === 0;
}

/** resolveCommit without blocking the event loop. */
export async function resolveCommitAsync(rev: string, cwd: string): Promise<string | undefined> {
  if (rev.startsWith('-')) return undefined;
  const result = await runGitAsync(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], { cwd, okExitCodes: [1, 128] });
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

let mergeTreeChecked = false;

/** `merge-tree --write-tree` (and its --stdin batch mode) arrived in git 2.38. */
export function requireMergeTreeSupport(cwd: string): void {
  if (mergeTreeChecked) return;
  const version = gitOutput(['version'], { cwd });
  const match = /(\d+)\.(\d+)/.exec(version);
  const major = Number(match?.[1] ?? 0);
  const minor = Number(match?.[2] ?? 0);
  if (major < 2 || (major === 2 && minor < 38)) {
    throw new CliError('E_GIT', `verify needs git 2.38 or newer for "merge-tree --write-tree" (found "${version}"); upgrade git`);
  }
  mergeTreeChecked = true;
}
