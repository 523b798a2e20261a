import { spawn, spawnSync } from 'node:child_process';
import { TEST_BUNDLE } from './paths.ts';

export interface CliRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as one JSON document, when it is one (with --json it always is). */
  json: any;
}

function parse(stdout: string): unknown {
  try {
    return JSON.parse(stdout);
  } catch {
    return undefined;
  }
}

/** With --json, the progress a command printed on stderr: one JSON event per line, and nothing else. */
export function progressEvents(stderr: string): any[] {
  return stderr.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line));
}

export interface CliOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  input?: string;
}

/** Runs the bundled CLI as a real child process. */
export function runCli(args: string[], options: CliOptions): CliRun {
  const result = spawnSync(process.execPath, [TEST_BUNDLE, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    input: options.input ?? '',
    encoding: 'utf8',
  });
  return { exitCode: result.status ?? -1, stdout: result.stdout, stderr: result.stderr, json: parse(result.stdout) };
}

/** Async variant for tests that run many CLI processes at once. */
export function runCliAsync(args: string[], options: CliOptions): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TEST_BUNDLE, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ exitCode: code ?? -1, stdout, stderr, json: parse(stdout) }));
    child.stdin.end(options.input ?? '');
  });
}

// "Another machine with the same host name" (a container, a cloud VM named like the others): the
// CLI in its own pid namespace, where this machine's pids name other processes or none.
const ELSEWHERE = ['--user', '--map-root-user', '--pid', '--fork', '--mount-proc', '--kill-child'];

/**
 * Whether these tests can run here. As root (CI runs as root) they always run, so a broken
 * `unshare` fails them instead of skipping them; an unprivileged user may be refused the
 * namespace by a hardened kernel, and only then are they skipped.
 */
export const canRunElsewhere = process.getuid?.() === 0 || spawnSync('unshare', [...ELSEWHERE, 'true']).status === 0;

/** The bundled CLI run in another pid namespace: its pids and this machine's mean different processes. */
export function runCliElsewhere(args: string[], options: CliOptions): CliRun {
  const result = spawnSync('unshare', [...ELSEWHERE, process.execPath, TEST_BUNDLE, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    input: options.input ?? '',
    encoding: 'utf8',
  });
  return { exitCode: result.status ?? -1, stdout: result.stdout, stderr: result.stderr, json: parse(result.stdout) };
}

/** The shell words that run the bundled CLI in another pid namespace, for a script. */
export function elsewhereCommand(): string {
  return ['unshare', ...ELSEWHERE, `'${process.execPath}'`, `'${TEST_BUNDLE}'`].join(' ');
}
