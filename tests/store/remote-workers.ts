// Contenders on clones of a shared git remote, as child processes (tests/fixtures/remote-worker.ts),
// released together once every one is ready.
import { fork } from 'node:child_process';
import { fixturePath } from '../helpers/paths.ts';

export interface WorkerRun {
  code: number | null;
  stats?: { fetches: number; pushes: number; rejected: number };
}

/** Forks remote workers, waits until each is ready, then releases them together. */
export async function raceRemoteWorkers(jobs: { clone: string; agent: string; log: string }[], env: Record<string, string> = {}): Promise<WorkerRun[]> {
  const children = jobs.map((job) => fork(fixturePath('remote-worker'), [job.clone, job.agent, job.log], { execArgv: [], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  const ready = children.map((child) => new Promise<void>((resolve) => child.once('message', () => resolve())));
  const done = children.map((child) => new Promise<WorkerRun>((resolve) => {
    let stats: WorkerRun['stats'];
    child.on('message', (message: { stats?: WorkerRun['stats'] }) => { if (message && typeof message === 'object') stats = message.stats; });
    child.once('exit', (code) => resolve({ code, stats }));
  }));
  await Promise.all(ready);
  for (const child of children) child.send('go');
  return Promise.all(done);
}

export function countLines(texts: string[], kind: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of texts.join('').split('\n')) {
    const [event, id] = line.split(' ');
    if (event === kind && id) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}
