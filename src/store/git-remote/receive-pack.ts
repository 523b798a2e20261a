import { createRequire } from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import type { Socket } from 'node:net';
import { stopGroup } from '../../process/stop-group.ts';
import { spawnGit } from '../../repo/run-git.ts';
import { timerDelay } from '../../text/duration.ts';

// A push spoken directly to the server's receive-pack, for remotes reached over file:// (or a
// path) and git://: one connection, the ref advertisement, commands whose old values the server
// checks under each ref's lock, a pack of the few objects a transition makes, and the server's
// per-ref report. A `git push` costs two more processes on this side (push, pack-objects) and reads
// this clone's refs; for the store's small transitions that was most of the client's CPU per
// claim (bench/RESULTS.md). Every other remote (ssh, http, helpers) is pushed with git.

type Net = typeof import('node:net');
const load = <T>(name: string): T => (typeof require === 'function' ? require(name) : createRequire(import.meta.url)(name)) as T;

export type Endpoint = { kind: 'local'; path: string } | { kind: 'daemon'; host: string; port: number; path: string };

/** What git's local transport clears before it starts a receive-pack (git's local_repo_env): it names this clone, not the remote. */
const LOCAL_REPO_ENV = [
  'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_CONFIG', 'GIT_CONFIG_PARAMETERS', 'GIT_CONFIG_COUNT', 'GIT_OBJECT_DIRECTORY', 'GIT_DIR', 'GIT_WORK_TREE',
  'GIT_IMPLICIT_WORK_TREE', 'GIT_GRAFT_FILE', 'GIT_INDEX_FILE', 'GIT_NO_REPLACE_OBJECTS', 'GIT_REPLACE_REF_BASE', 'GIT_PREFIX', 'GIT_SHALLOW_FILE', 'GIT_COMMON_DIR',
];

/**
 * Where a push URL can be spoken to directly, or undefined (ssh, http, helpers, anything with
 * an escape or a form git reads differently): those go through git push.
 */
export function directEndpoint(url: string, cwd: string): Endpoint | undefined {
  if (url.includes('%') || /[\0\n]/.test(url)) return undefined;
  if (url.startsWith('file://')) return url.startsWith('file:///') ? { kind: 'local', path: url.slice('file://'.length) } : undefined;
  const daemon = /^git:\/\/(127\.0\.0\.1|localhost|\[::1\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?(\/[^?#]*)$/.exec(url);
  // git asks for "~user/..." without the slash (git daemon's --user-path reads it so).
  if (daemon) return { kind: 'daemon', host: daemon[1]!.replace(/^\[|\]$/g, ''), port: Number(daemon[2] ?? 9418), path: daemon[3]!.replace(/^\/~/, '~') };
  // git reads "host:path" before the first slash as ssh; a path is absolute or starts with ./ or ../
  if (isAbsolute(url) || url.startsWith('./') || url.startsWith('../')) return { kind: 'local', path: resolve(cwd, url) };
  return undefined;
}

export const ZERO_ID = '0'.repeat(40);

export interface Advertisement {
  refs: Map<string, string>;
  capabilities: Set<string>;
}

export interface Command {
  ref: string;
  /** null: the ref must not exist. */
  old: string | null;
  /** null: delete it. */
  new: string | null;
}

export interface Report {
  unpack: string;
  /** Ref -> undefined when applied, or the server's reason. */
  refs: Map<string, string | undefined>;
}

/** The connection failed or the server broke the protocol; `sent`: commands had gone out, so nobody knows whether they were applied. */
export class SessionFailure extends Error {
  sent = false;
}

function pkt(line: string | Buffer): Buffer {
  const body = typeof line === 'string' ? Buffer.from(line, 'utf8') : line;
  return Buffer.concat([Buffer.from((body.length + 4).toString(16).padStart(4, '0'), 'latin1'), body]);
}
const FLUSH = Buffer.from('0000', 'latin1');

/** Bytes from the server, read as pkt-lines. */
class PktReader {
  private buffered = Buffer.alloc(0);
  private ended: string | undefined;
  private wake: (() => void) | undefined;

  push(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    this.wake?.();
  }

  end(why: string): void {
    this.ended ??= why;
    this.wake?.();
  }

  /** The next line without its newline, or null for a flush. */
  async line(): Promise<string | null> {
    for (;;) {
      if (this.buffered.length >= 4) {
        const head = this.buffered.subarray(0, 4).toString('latin1');
        const size = Number.parseInt(head, 16);
        if (!/^[0-9a-f]{4}$/.test(head) || (size > 0 && size < 4)) throw new SessionFailure('the server sent something that is not a git protocol line');
        if (size === 0) {
          this.buffered = this.buffered.subarray(4);
          return null;
        }
        if (this.buffered.length >= size) {
          const text = this.buffered.subarray(4, size).toString('utf8').replace(/\n$/, '');
          this.buffered = this.buffered.subarray(size);
          if (text.startsWith('ERR ')) throw new SessionFailure(text.slice(4));
          return text;
        }
      }
      if (this.ended !== undefined) throw new SessionFailure(this.ended);
      await new Promise<void>((wake) => { this.wake = wake; });
      this.wake = undefined;
    }
  }
}

interface Connection {
  reader: PktReader;
  write(data: Buffer): void;
  /** Done talking; `abort` also stops the other end (a local receive-pack is otherwise left to finish its hooks). */
  close(abort: boolean): void;
}

function openLocal(path: string, cwd: string): Connection {
  const env = { ...process.env };
  for (const name of LOCAL_REPO_ENV) delete env[name];
  const child = spawnGit(['receive-pack', path], { cwd, env });
  const reader = new PktReader();
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => reader.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
  child.stdin.on('error', () => {});
  child.on('error', (error) => reader.end(`could not run git receive-pack: ${error.message}`));
  child.on('close', (code, signal) => reader.end(stderr.split('\n').map((line) => line.replace(/^fatal: /, '').trim()).find((line) => line !== '') ?? (signal ? `git receive-pack was killed by ${signal}` : `git receive-pack exited with code ${String(code)}`)));
  return {
    reader,
    write: (data) => child.stdin.write(data),
    close: (abort) => {
      child.stdin.end();
      if (abort) stopGroup(child.pid!);
    },
  };
}

function openDaemon(endpoint: Extract<Endpoint, { kind: 'daemon' }>): Connection {
  const reader = new PktReader();
  const socket: Socket = load<Net>('node:net').connect({ host: endpoint.host, port: endpoint.port });
  socket.on('data', (chunk: Buffer) => reader.push(chunk));
  socket.on('error', (error: NodeJS.ErrnoException) => reader.end(`unable to connect to ${endpoint.host}:${endpoint.port}: ${error.code === 'ECONNREFUSED' ? 'Connection refused' : error.message}`));
  socket.on('close', () => reader.end('the server closed the connection'));
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  socket.write(pkt(`git-receive-pack ${endpoint.path}\0host=${host}:${endpoint.port}\0`));
  return { reader, write: (data) => socket.write(data), close: (abort) => (abort ? socket.destroy() : socket.end()) };
}

export interface SessionOptions {
  cwd: string;
  timeoutMs: number;
}

/**
 * One push: reads the advertisement, asks `decide` for the commands (none: nothing is sent) and
 * sends them with `pack`, and returns the server's report. Rejects with SessionFailure when the
 * connection fails or no answer comes within the timeout.
 */
export async function receivePack(endpoint: Endpoint, options: SessionOptions, decide: (advertised: Advertisement) => { commands: Command[]; capabilities: string[]; pack: Buffer | undefined }): Promise<{ advertised: Advertisement; report: Report | undefined }> {
  const connection = endpoint.kind === 'local' ? openLocal(endpoint.path, options.cwd) : openDaemon(endpoint);
  const timer = setTimeout(() => {
    connection.reader.end(`no answer within ${options.timeoutMs} ms`);
    connection.close(true);
  }, timerDelay(options.timeoutMs));
  let finished = false;
  let sent = false;
  try {
    const advertised: Advertisement = { refs: new Map(), capabilities: new Set() };
    for (let index = 0; ; index++) {
      const line = await connection.reader.line();
      if (line === null) break;
      // A server asked for protocol v1 (never by us, but GIT_PROTOCOL may be set) says so first.
      if (index === 0 && line.startsWith('version ')) continue;
      const [head, caps] = line.split('\0');
      if (caps !== undefined) for (const cap of caps.split(' ')) if (cap !== '') advertised.capabilities.add(cap);
      const match = /^([0-9a-f]{40}) (\S+)$/.exec(head!);
      if (!match) throw new SessionFailure(`the server's ref advertisement has a line git does not send: ${head!.slice(0, 80)}`);
      if (match[2] !== 'capabilities^{}' && match[2] !== '.have') advertised.refs.set(match[2]!, match[1]!);
    }
    const { commands, capabilities, pack } = decide(advertised);
    if (commands.length === 0) {
      connection.write(FLUSH);
      finished = true;
      return { advertised, report: undefined };
    }
    sent = true;
    commands.forEach((command, index) => {
      const text = `${command.old ?? ZERO_ID} ${command.new ?? ZERO_ID} ${command.ref}`;
      connection.write(pkt(index === 0 ? `${text}\0${capabilities.join(' ')}` : text));
    });
    connection.write(FLUSH);
    if (commands.some((command) => command.new !== null) && pack) connection.write(pack);
    const report: Report = { unpack: '', refs: new Map() };
    for (;;) {
      const line = await connection.reader.line();
      if (line === null) break;
      if (line.startsWith('unpack ')) report.unpack = line.slice('unpack '.length);
      else if (line.startsWith('ok ')) report.refs.set(line.slice(3), undefined);
      else if (line.startsWith('ng ')) {
        const rest = line.slice(3);
        const space = rest.indexOf(' ');
        report.refs.set(space < 0 ? rest : rest.slice(0, space), space < 0 ? 'rejected' : rest.slice(space + 1));
      }
    }
    finished = true;
    return { advertised, report };
  } catch (error) {
    if (error instanceof SessionFailure) error.sent = sent;
    throw error;
  } finally {
    clearTimeout(timer);
    connection.close(!finished);
  }
}
