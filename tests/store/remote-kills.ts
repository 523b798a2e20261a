import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { TEST_BUNDLE } from '../helpers/paths.ts';
import { waitFor } from '../runner/fixtures.ts';

// The CLI bundle on a git-remote store, killed (SIGKILL injected by strace at a system call's
// entry) at each step of one transition. Only the CLI's main thread is traced without -f: with
// -f the injection counter is kept per process and git's own calls would be killed too. The git
// processes it started are left running, as after a real kill -9; each run marks them through
// its environment and the tests wait until none is left before judging the remote.

/** One step of a dry run: the n-th traced call of `syscall` in the CLI's main thread, and what it did. */
export interface Step {
  syscall: string;
  nth: number;
  label: string;
}

const TRACED = 'openat,write,rename,fsync,unlink,link,clone,connect';

/** What a main-thread call did, with random parts (temp names, object ids, pids) blanked; undefined when it is noise. */
function labelOf(line: string, root: string, spawned: ReadonlyMap<number, string>): string | undefined {
  const call = /^(\w+)\((.*)$/.exec(line);
  if (!call) return undefined;
  const [, syscall, rest] = call as unknown as [string, string, string];
  const paths = (text: string): string => text.split(root).join('').replace(/\.tmp~[^/"<>]*/g, '.tmp~*').replace(/objects\/[0-9a-f]{2}\/[0-9a-f]{38}/g, 'objects/*').replace(/objects\/[0-9a-f]{2}\//g, 'objects/*/');
  switch (syscall) {
    case 'clone': {
      if (rest.includes('CLONE_THREAD')) return undefined;
      const child = Number(/= (\d+)\s*$/.exec(rest)?.[1]);
      return `spawn ${spawned.get(child) ?? 'a process'}`;
    }
    case 'openat':
      if (!/O_WRONLY|O_RDWR|O_CREAT/.test(rest)) return undefined;
      return `create ${paths(/"([^"]+)"/.exec(rest)?.[1] ?? '?')}`;
    case 'write': {
      const fd = /^\d+<([^>]*)>, "((?:[^"\\]|\\.)*)"/.exec(rest);
      if (!fd) return undefined;
      const [, target, data] = fd as unknown as [string, string, string];
      if (target.startsWith('anon_inode:') || (target.startsWith('pipe:') && (data === '*' || /, 16\)/.test(rest)))) return undefined;
      if (target.startsWith('/')) return /\/(stdout|stderr)$|^\/dev\//.test(target) ? 'write the answer' : `write ${paths(target)}`;
      const kind = data.startsWith('PACK') ? 'the pack' : data === '0000' ? 'a flush' : /^[0-9a-f]{4}[0-9a-f]{40} [0-9a-f]{40} /.test(data) ? 'the commands' : /^[0-9a-f]{4}git-receive-pack /.test(data) ? 'the service request' : 'input';
      return `send ${kind} (${target.replace(/:\[\d+\]/, '')})`;
    }
    case 'connect':
      return rest.includes('AF_INET') ? 'connect to the server' : undefined;
    default:
      return `${syscall} ${paths(/"([^"]+)"/.exec(rest)?.[1] ?? '?')}`;
  }
}

/** The steps of a dry run's strace -f output (lines "<pid> call(...)"), in order, numbered per syscall. */
export function stepsOf(trace: string, root: string): Step[] {
  // strace pads the pid to a width: "123  call(...)".
  const lines = trace.split('\n').filter((line) => /^\d+ /.test(line)).map((line) => line.replace(/^(\d+) +/, '$1 '));
  const main = Number(lines[0]!.split(' ')[0]);
  const spawned = new Map<number, string>();
  for (const line of lines) {
    const exec = /^(\d+) execve\("[^"]*", \[((?:"[^"]*"(?:, )?)+)/.exec(line);
    if (!exec || !/\) = 0$/.test(line) || spawned.has(Number(exec[1]))) continue;
    // "git -c name=value push ...": the program and its subcommand.
    const words = [...exec[2]!.matchAll(/"([^"]*)"/g)].map((word) => word[1]!).filter((word, index, all) => word !== '-c' && all[index - 1] !== '-c');
    spawned.set(Number(exec[1]), words.slice(0, 2).join(' ').replace(/^\S*\/git /, 'git '));
  }
  const counts = new Map<string, number>();
  const steps: Step[] = [];
  for (const line of lines) {
    if (Number(line.split(' ')[0]) !== main) continue;
    const body = line.slice(line.indexOf(' ') + 1).replace(/ <unfinished \.\.\.>$/, '');
    const syscall = /^(\w+)\(/.exec(body)?.[1];
    if (!syscall || !TRACED.split(',').includes(syscall)) continue;
    const nth = (counts.get(syscall) ?? 0) + 1;
    counts.set(syscall, nth);
    const label = labelOf(body, root, spawned);
    if (label !== undefined) steps.push({ syscall, nth, label });
  }
  return steps;
}

function cliArgs(args: readonly string[]): string[] {
  return [process.execPath, TEST_BUNDLE, ...args];
}

/** A traced run to the end, following every process, for stepsOf. */
export function dryRun(args: readonly string[], cwd: string, env: Record<string, string>): { exitCode: number | null; trace: string } {
  // Written to a file, strace -f starts every line with its process's pid.
  const out = join(tmpdir(), `pa-kills-dry-${randomBytes(6).toString('hex')}`);
  const run = spawnSync('strace', ['-f', '-qq', '-y', '-s', '64', '-o', out, '-e', `trace=${TRACED},execve`, ...cliArgs(args)], { cwd, env: { ...process.env, ...env }, encoding: 'utf8' });
  if (run.error) throw new Error(`cannot run strace (${run.error.message}): these tests need it installed, as CI has`);
  const trace = readFileSync(out, 'utf8');
  rmSync(out, { force: true });
  return { exitCode: run.status, trace: `${trace}\n${run.stderr}` };
}

/** Processes whose environment carries `mark` (the killed CLI's git children, left running). */
function marked(mark: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').includes(mark)) pids.push(Number(name));
    } catch { /* gone, or not ours */ }
  }
  return pids;
}

export interface Killed {
  signal: NodeJS.Signals | null;
  exitCode: number | null;
  /** The label of the call the kill landed on (undefined: the run ended first). */
  at: string | undefined;
}

/** The CLI killed at the entry of the `step.nth`-th call of its syscall; resolves once every process it started has ended. */
export async function killAt(step: Pick<Step, 'syscall' | 'nth'>, args: readonly string[], cwd: string, env: Record<string, string>, root: string): Promise<Killed> {
  const mark = `PA_KILL_RUN=${randomBytes(8).toString('hex')}`;
  const [name, value] = mark.split('=') as [string, string];
  const run = spawnSync('strace', ['-qq', '-y', '-s', '64', '-e', `trace=${step.syscall}`, '-e', `inject=${step.syscall}:signal=SIGKILL:when=${step.nth}`, ...cliArgs(args)], { cwd, env: { ...process.env, ...env, [name]: value }, encoding: 'utf8', timeout: 30_000 });
  await waitFor(() => marked(mark).length === 0, `the killed CLI's git processes (${marked(mark).join(', ')}) to end`);
  const lines = run.stderr.split('\n');
  const end = lines.findIndex((line) => line.startsWith('+++ killed by SIGKILL'));
  const call = end > 0 ? lines.slice(0, end).reverse().find((line) => line.startsWith(`${step.syscall}(`)) : undefined;
  const at = call === undefined ? undefined : labelOf(call.replace(/ = \?\s*$/, ' = ?'), root, new Map()) ?? `${step.syscall} (noise)`;
  return { signal: run.signal, exitCode: run.status, at };
}

/** Copies a prepared case over `dir` (the same absolute path: clones name their remote and worktrees by it). */
export function restore(snapshot: string, dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  cpSync(snapshot, dir, { recursive: true });
}

/** Every *.lock file under `dir`, relative to it. */
export function lockFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.lock')) found.push(relative(dir, path));
    }
  };
  walk(dir);
  return found;
}

/** Moves a file's mtime `ms` into the past: what time does to a lock nobody holds. */
export function age(path: string, ms: number): void {
  const then = (statSync(path).mtimeMs - ms) / 1000;
  utimesSync(path, then, then);
}
