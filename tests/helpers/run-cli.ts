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
