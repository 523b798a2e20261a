// Real git servers on loopback for the git-remote store's tests and benchmarks: a bare repository
// served by `git daemon --enable=receive-pack` on 127.0.0.1, and a TCP proxy in front of it that a
// test can stall, cut, or watch for a byte pattern (a pack going out, an "unpack ok" coming
// back). No vitest imports: bench/ uses these too.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

export function gitIn(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** A bare repository with one commit on main, at <base>/<name>.git (HEAD names main). */
export function createBareRepo(base: string, name = 'shared'): string {
  const bare = join(base, `${name}.git`);
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare]);
  // A server that runs gc on a schedule, not a `gc --auto` process after every push.
  gitIn(bare, 'config', 'receive.autogc', 'false');
  const seed = join(base, `${name}-seed`);
  execFileSync('git', ['init', '-q', '-b', 'main', seed]);
  for (const [key, value] of [['user.name', 'Test'], ['user.email', 'test@example.com'], ['commit.gpgSign', 'false']]) gitIn(seed, 'config', key!, value!);
  execFileSync('git', ['commit', '-q', '--allow-empty', '-m', 'initial'], { cwd: seed });
  gitIn(seed, 'push', '-q', bare, 'main');
  return bare;
}

/** A clone of `url` at `dir` that can commit (identity set, no signing, no auto gc). */
export function cloneRepo(url: string, dir: string): string {
  execFileSync('git', ['clone', '-q', url, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  for (const [key, value] of [['user.name', 'Test'], ['user.email', 'test@example.com'], ['commit.gpgSign', 'false'], ['gc.auto', '0'], ['maintenance.auto', 'false']]) gitIn(dir, 'config', key!, value!);
  return dir;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface GitDaemon {
  port: number;
  /** The daemon process (it reaps the receive-packs and upload-packs it forks: their CPU lands in its children's time). */
  pid: number;
  /** git://127.0.0.1:<port>/<name>.git */
  url(name?: string): string;
  /** SIGKILL to the daemon and every receive-pack it forked: the server dies mid-whatever. */
  kill(): void;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  /** Connections served so far, from the daemon's log: pushes (receive-pack) and fetches (upload-pack). */
  requests(): { pushes: number; fetches: number };
  stop(): Promise<void>;
}

/**
 * git-daemon itself: `git daemon` runs it as a child and waits, so the CPU of the receive-packs
 * the daemon reaps would reach the `git` process's children's time only when the daemon exits.
 */
function daemonProgram(): string {
  return join(execFileSync('git', ['--exec-path'], { encoding: 'utf8' }).trim(), 'git-daemon');
}

/** Starts `git daemon` serving every repository under `base`; resolves once it accepts connections ("Ready to rumble"). */
export async function startGitDaemon(base: string): Promise<GitDaemon> {
  let child: ChildProcess | undefined;
  let port = 0;
  const served = { pushes: 0, fetches: 0 };
  const launch = async (): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      port = port || (await freePort());
      const started = spawn(daemonProgram(), ['--verbose', '--reuseaddr', '--listen=127.0.0.1', `--port=${port}`, `--base-path=${base}`, '--export-all', '--enable=receive-pack', '--informative-errors', base], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
      const ready = await new Promise<boolean>((resolve) => {
        let partial = '';
        started.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
          const lines = (partial + chunk).split('\n');
          partial = lines.pop()!;
          for (const line of lines) {
            if (line.includes('Ready to rumble')) resolve(true);
            if (line.includes('Request receive-pack for ')) served.pushes++;
            if (line.includes('Request upload-pack for ')) served.fetches++;
          }
        });
        started.once('exit', () => resolve(false));
      });
      if (ready) {
        child = started;
        return;
      }
      // The port was taken between freePort and bind: another one.
      if (attempt >= 5) throw new Error(`git daemon would not start on 127.0.0.1:${port}`);
      port = 0;
    }
  };
  const killGroup = (signal: NodeJS.Signals): void => {
    if (child?.pid === undefined) return;
    try { process.kill(-child.pid, signal); } catch { /* gone */ }
  };
  await launch();
  return {
    get port() { return port; },
    get pid() { return child!.pid!; },
    url: (name = 'shared') => `git://127.0.0.1:${port}/${name}.git`,
    kill: () => killGroup('SIGKILL'),
    requests: () => ({ ...served }),
    restart: async () => {
      const old = child;
      if (old && old.exitCode === null && old.signalCode === null) await new Promise((resolve) => old.once('exit', resolve));
      await launch();
    },
    stop: async () => {
      const old = child;
      killGroup('SIGKILL');
      if (old && old.exitCode === null && old.signalCode === null) await new Promise((resolve) => old.once('exit', resolve));
    },
  };
}

export interface Proxy {
  port: number;
  url(name?: string): string;
  /** Hold every byte in both directions until resume (a stalled network). */
  pause(): void;
  resume(): void;
  /** Calls `action` (once) when `pattern` passes in that direction; the bytes that carried it are forwarded only if it returns true. */
  on(direction: 'up' | 'down', pattern: string, action: () => boolean): void;
  /** Drops every open connection. */
  cut(): void;
  close(): Promise<void>;
}

/** A TCP proxy on 127.0.0.1 in front of `targetPort`. */
export async function startProxy(targetPort: number): Promise<Proxy> {
  let paused = false;
  const held: (() => void)[] = [];
  const sockets = new Set<Socket>();
  const triggers: { direction: 'up' | 'down'; pattern: string; action: () => boolean }[] = [];
  const relay = (from: Socket, to: Socket, direction: 'up' | 'down'): void => {
    from.on('data', (chunk: Buffer) => {
      const send = (): void => {
        let forward = true;
        for (const trigger of [...triggers]) {
          if (trigger.direction === direction && chunk.includes(trigger.pattern)) {
            triggers.splice(triggers.indexOf(trigger), 1);
            forward = trigger.action() && forward;
          }
        }
        if (forward && !to.destroyed) to.write(chunk);
      };
      if (paused) held.push(send);
      else send();
    });
    from.on('close', () => to.destroy());
    from.on('error', () => to.destroy());
  };
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    relay(client, upstream, 'up');
    relay(upstream, client, 'down');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    url: (name = 'shared') => `git://127.0.0.1:${port}/${name}.git`,
    pause: () => { paused = true; },
    resume: () => {
      paused = false;
      for (const send of held.splice(0)) send();
    },
    on: (direction, pattern, action) => { triggers.push({ direction, pattern, action }); },
    cut: () => { for (const socket of sockets) socket.destroy(); },
    close: () => new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    }),
  };
}
