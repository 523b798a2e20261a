// The git-remote store against the local store, measured side by side in one run:
//   1. claims/s and claim latency (p50/p99) with 16 contenders: the local _tasks/ folder, a remote
//      over file://, a remote served by git daemon on loopback (4 clones x 4 processes), and with
//      VARIANTS including "git daemon (maintained)", one whose refs were packed before the run;
//   2. network round trips (git connections) per transition, uncontended;
//   3. listing cost at 10,000 tasks, against the local store at the same size;
//   4. writing a transition's objects from Node against git hash-object + mktree + commit-tree.
// Variants of (1) run REPS times in rotated order; medians are reported. bench/RESULTS.md holds
// the figures and the machine load.
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { GitRemoteStore } from '../src/store/git-remote/git-remote-store.ts';
import { ObjectWriter } from '../src/store/git-remote/objects.ts';
import { LocalStore } from '../src/store/local/local-store.ts';
import { cloneRepo, createBareRepo, startGitDaemon, type GitDaemon } from '../tests/helpers/git-server.ts';

const CONTENDERS = Number(process.env.CONTENDERS ?? 16);
const TASKS = Number(process.env.TASKS ?? 480);
const REPS = Number(process.env.REPS ?? 2);
const LIST_TASKS = Number(process.env.LIST_TASKS ?? 10_000);

const ms = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const load = (): string => loadavg().map((value) => value.toFixed(1)).join(' ');
const ids = (count: number, prefix = 't'): string[] => Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);

interface ClaimRun {
  perSecond: number;
  /** CPU of the contenders during the race (their own, and their git processes'), per claim. */
  clientPerClaim: number;
  /** CPU of the server's processes during the race (receive-pack and what it runs; git daemon's own share), per claim. */
  serverPerClaim: number;
  /** CPU time of the whole VM during the race (/proc/stat), per claim: everything, the kernel's share included. */
  machinePerClaim: number;
  latencies: number[];
  duplicates: number;
  lost: number;
  refused: number;
  fetches: number;
  pushes: number;
}

/** CPU ms the whole machine has spent (all cores, user and system), from /proc/stat. */
function machineCpuMs(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: everything but idle and iowait, in 10 ms ticks.
  return (fields[0]! + fields[1]! + fields[2]! + fields[5]! + fields[6]! + fields[7]!) * 10;
}

type RaceResult = Omit<ClaimRun, 'lost' | 'clientPerClaim' | 'serverPerClaim' | 'machinePerClaim'> & { won: number; ownMs: number; childrenMs: number; machineMs: number };

async function race(worker: string, kind: 'local' | 'git', places: string[]): Promise<RaceResult> {
  const children = Array.from({ length: CONTENDERS }, (_, i) => fork(worker, [kind, places[i % places.length]!, `a${i}`], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  await Promise.all(children.map((child) => new Promise((resolve) => child.once('message', resolve))));
  type Result = { won: string[]; latencies: number[]; doneAt: string; cpu: { own: number; children: number }; stats?: { fetches: number; pushes: number; rejected: number } };
  const results = children.map((child) => new Promise<Result>((resolve, reject) => {
    child.once('message', resolve as never);
    child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`contender exited ${code}`))));
  }));
  const start = process.hrtime.bigint();
  const machineBefore = machineCpuMs();
  for (const child of children) child.send('go');
  const done = await Promise.all(results);
  const machineMs = machineCpuMs() - machineBefore;
  const end = done.reduce((max, result) => (BigInt(result.doneAt) > max ? BigInt(result.doneAt) : max), start);
  const all = done.flatMap((result) => result.won);
  const sum = (key: 'fetches' | 'pushes' | 'rejected'): number => done.reduce((total, result) => total + (result.stats?.[key] ?? 0), 0);
  return { machineMs, perSecond: all.length / (Number(end - start) / 1e9), ownMs: done.reduce((total, result) => total + result.cpu.own, 0), childrenMs: done.reduce((total, result) => total + result.cpu.children, 0), latencies: done.flatMap((result) => result.latencies), duplicates: all.length - new Set(all).size, won: new Set(all).size, refused: sum('rejected'), fetches: sum('fetches'), pushes: sum('pushes') };
}

async function claimRun(worker: string, variant: string, work: string, daemon: GitDaemon): Promise<ClaimRun> {
  const dir = mkdtempSync(join(work, `${variant.replace(/\W/g, '')}-`));
  const tasks = ids(TASKS).map((id) => ({ id, title: id }));
  let result: RaceResult;
  let serverMs = 0;
  if (variant === 'local') {
    const store = new LocalStore({ dir: join(dir, '_tasks'), repoRoot: undefined, gitCommonDir: undefined });
    await store.add(tasks);
    result = await race(worker, 'local', [store.dir]);
  } else {
    const name = `claims-${Math.random().toString(36).slice(2)}`;
    const bare = createBareRepo(daemonDir, name);
    const served = variant.startsWith('git daemon');
    const url = served ? daemon.url(name) : `file://${bare}`;
    const clones = [0, 1, 2, 3].map((i) => cloneRepo(url, join(dir, `clone-${i}`)));
    await new GitRemoteStore({ cwd: clones[0]!, remote: 'origin', localDir: join(clones[0]!, '_tasks') }).add(tasks);
    // Warm every clone's cache, as machines that have been following the plan would have it.
    for (const clone of clones) execFileSync('git', ['fetch', '-q', 'origin', '+refs/parallel/store/*:refs/parallel/cache/origin/*'], { cwd: clone });
    // "git daemon (maintained)": the server's refs packed and a commit-graph written before the run, as a host's maintenance leaves them.
    if (variant.endsWith('(maintained)')) for (const args of [['pack-refs', '--all'], ['commit-graph', 'write', '--reachable']]) execFileSync('git', args, { cwd: bare, stdio: 'ignore' });
    const serverBefore = childrenCpuMs(daemon.pid);
    result = await race(worker, 'git', clones);
    // Over file:// the server's receive-pack is the contenders' child (as are their few fetches); over git:// the daemon's.
    serverMs = served ? childrenCpuMs(daemon.pid) - serverBefore : result.childrenMs;
    if (!served) result.childrenMs = 0;
    rmSync(bare, { recursive: true, force: true });
  }
  rmSync(dir, { recursive: true, force: true });
  return { ...result, lost: TASKS - result.won, clientPerClaim: (result.ownMs + result.childrenMs) / result.won, serverPerClaim: serverMs / result.won, machinePerClaim: result.machineMs / result.won };
}

let daemonDir = '';

/** CPU ms of the children a process has reaped (clock ticks of 10 ms). */
function childrenCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

async function roundTrips(url: (name: string) => string, work: string, label: string): Promise<string[]> {
  const name = `trips-${label.replace(/\W/g, '')}`;
  createBareRepo(daemonDir, name);
  const clone = cloneRepo(url(name), join(work, `trips-${label.replace(/\W/g, '')}`));
  const store = new GitRemoteStore({ cwd: clone, remote: 'origin', localDir: join(clone, '_tasks') });
  const rows: string[] = [];
  const measure = async (what: string, action: () => Promise<unknown>, prepare?: () => Promise<unknown>, times = 4): Promise<void> => {
    const walls: number[] = [];
    let trips = { fetches: 0, pushes: 0 };
    for (let i = 0; i < times; i++) {
      await prepare?.();
      const before = { ...store.transport.stats };
      const start = process.hrtime.bigint();
      await action();
      walls.push(ms(start));
      trips = { fetches: store.transport.stats.fetches - before.fetches, pushes: store.transport.stats.pushes - before.pushes };
    }
    rows.push(`| ${label} | ${what} | ${trips.fetches} | ${trips.pushes} | ${trips.fetches + trips.pushes} | ${median(walls).toFixed(0)} |`);
  };
  await store.init();
  let n = 0;
  await measure('add (one task)', () => store.add([{ id: `r${n++}`, title: 'r' }]));
  await store.add(ids(20, 'w').map((id) => ({ id, title: id })));
  await store.transport.fetch();
  let held = { id: '', token: '' };
  const claimOne = async (agent = 'a'): Promise<void> => { const c = await store.claim({ agent }); held = { id: c.task.id, token: c.token }; };
  await measure('claim (cache current)', () => claimOne());
  await measure('heartbeat', () => store.heartbeat({ agent: 'a', task: held.id, token: held.token }));
  await measure('complete (library call)', () => store.complete({ agent: 'a', task: held.id, token: held.token }), () => claimOne());
  await measure('fail', () => store.fail({ agent: 'a', task: held.id, token: held.token, reason: 'x' }), () => claimOne());
  await measure('release', () => store.release({ agent: 'a', task: held.id, token: held.token }), () => claimOne());
  await measure('list (status, show)', () => store.list());
  await measure('recover (nothing stale)', () => store.recover({ staleAfterMs: 3_600_000 }));
  // Cache behind: another machine claimed and released the task since this clone last looked.
  const other = new GitRemoteStore({ cwd: cloneRepo(url(name), join(work, `trips-other-${label.replace(/\W/g, '')}`)), remote: 'origin', localDir: join(work, `other-${label.replace(/\W/g, '')}`) });
  let target = '';
  await measure('claim (cache behind: one look, a fetch, the push)', () => store.claim({ agent: 'a', task: target }), async () => {
    await store.transport.fetch();
    const free = (await other.list()).tasks.find((task) => task.state === 'available')!;
    const taken = await other.claim({ agent: 'o', task: free.id });
    await other.release({ agent: 'o', task: free.id, token: taken.token });
    target = free.id;
  });
  return rows;
}

async function listing(work: string, daemon: GitDaemon): Promise<string[]> {
  const rows: string[] = [];
  const tasks = ids(LIST_TASKS, 'l').map((id) => ({ id, title: `task ${id}`, files: [`src/${id}/**`] }));
  const local = new LocalStore({ dir: join(work, 'list-local', '_tasks'), repoRoot: undefined, gitCommonDir: undefined });
  let start = process.hrtime.bigint();
  await local.add(tasks);
  const localAdd = ms(start);
  const localList: number[] = [];
  for (let i = 0; i < 3; i++) {
    start = process.hrtime.bigint();
    await new LocalStore({ dir: local.dir, repoRoot: undefined, gitCommonDir: undefined }).list();
    localList.push(ms(start));
  }
  createBareRepo(daemonDir, 'listing');
  const writer = cloneRepo(daemon.url('listing'), join(work, 'list-writer'));
  const store = new GitRemoteStore({ cwd: writer, remote: 'origin', localDir: join(writer, '_tasks') });
  start = process.hrtime.bigint();
  await store.add(tasks);
  const gitAdd = ms(start);
  const reader = cloneRepo(daemon.url('listing'), join(work, 'list-reader'));
  const open = (): GitRemoteStore => new GitRemoteStore({ cwd: reader, remote: 'origin', localDir: join(reader, '_tasks') });
  start = process.hrtime.bigint();
  await open().list();
  const cold = ms(start);
  const warm: number[] = [];
  const cacheOnly: number[] = [];
  for (let i = 0; i < 3; i++) {
    start = process.hrtime.bigint();
    const { tasks: listed } = await open().list();
    warm.push(ms(start));
    if (listed.length !== LIST_TASKS) throw new Error(`listed ${listed.length} of ${LIST_TASKS}`);
    start = process.hrtime.bigint();
    await open().heldBy('nobody');
    cacheOnly.push(ms(start));
  }
  const claimAt: number[] = [];
  const claimer = open();
  for (let i = 0; i < 5; i++) {
    start = process.hrtime.bigint();
    await claimer.claim({ agent: 'c' });
    claimAt.push(ms(start));
  }
  rows.push(`| add ${LIST_TASKS} tasks | ${localAdd.toFixed(0)} | ${gitAdd.toFixed(0)} (${Math.ceil(LIST_TASKS / 1000)} atomic pushes) |`);
  rows.push(`| list, new process, first time on this clone (fetch of every task) | - | ${cold.toFixed(0)} |`);
  rows.push(`| list, new process (status: fetch, read and parse every task) | ${median(localList).toFixed(0)} | ${median(warm).toFixed(0)} |`);
  rows.push(`| read this clone's cache only (heldBy: the hooks' question) | - | ${median(cacheOnly).toFixed(0)} |`);
  rows.push(`| claim, uncontended, cache current | - | ${median(claimAt).toFixed(0)} |`);
  return rows;
}

function objectWrites(work: string): string[] {
  const repo = join(work, 'objects');
  execFileSync('git', ['init', '-q', repo]);
  const writer = new ObjectWriter(join(repo, '.git', 'objects'), 'sha1');
  const COUNT = 100;
  let parent: string | undefined;
  let start = process.hrtime.bigint();
  for (let i = 0; i < COUNT; i++) {
    const tree = writer.tree([{ mode: '100644', name: 'task.md', id: writer.blob(`---\nid: "t${i}"\n---\nnode ${i}\n`) }]);
    parent = writer.commit({ tree, parents: parent ? [parent] : [], message: `node ${i}\n`, time: 1 });
  }
  const node = ms(start) / COUNT;
  parent = undefined;
  start = process.hrtime.bigint();
  for (let i = 0; i < COUNT; i++) {
    const blob = execFileSync('git', ['hash-object', '-w', '--stdin'], { cwd: repo, input: `---\nid: "t${i}"\n---\ngit ${i}\n`, encoding: 'utf8' }).trim();
    const tree = execFileSync('git', ['mktree'], { cwd: repo, input: `100644 blob ${blob}\ttask.md\n`, encoding: 'utf8' }).trim();
    parent = execFileSync('git', ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', `git ${i}`], { cwd: repo, encoding: 'utf8' }).trim();
  }
  const git = ms(start) / COUNT;
  execFileSync('git', ['fsck', '--no-dangling', '--strict'], { cwd: repo });
  return [`| Node: deflate + hash + whole write (fsync) | ${node.toFixed(2)} |`, `| git hash-object + mktree + commit-tree | ${git.toFixed(2)} |`, `| ratio | ${(git / node).toFixed(1)}x |`];
}

/** Claims/s, latency and CPU per claim with CONTENDERS contenders, each variant REPS times in rotated order. */
async function claimSection(worker: string, daemon: GitDaemon, work: string): Promise<void> {
  const variants = (process.env.VARIANTS ?? 'local,file://,git daemon').split(',');
  const runs = new Map<string, ClaimRun[]>(variants.map((variant) => [variant, []]));
  for (let rep = 0; rep < REPS; rep++) {
    const order = variants.map((_, i) => variants[(i + rep) % variants.length]!);
    for (const variant of order) runs.get(variant)!.push(await claimRun(worker, variant, work, daemon));
  }
  console.log(`### Claims, ${CONTENDERS} contenders (git: 4 clones x 4 processes), ${TASKS} tasks, median of ${REPS} rotated runs\n`);
  console.log('| store | claims/s | p50 ms | p99 ms | CPU ms per claim: contenders | CPU ms per claim: server | CPU ms per claim: whole VM | claims/s 2 cores carry | ... if the contenders cost nothing | duplicates | lost | pushes | refused | fetches |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [variant, list] of runs) {
    const best = list.map((run) => run.perSecond);
    const latencies = list.flatMap((run) => run.latencies);
    const total = (key: 'duplicates' | 'lost' | 'pushes' | 'refused' | 'fetches'): number => list.reduce((sum, run) => sum + run[key], 0);
    const client = median(list.map((run) => run.clientPerClaim));
    const server = median(list.map((run) => run.serverPerClaim));
    const machine = median(list.map((run) => run.machinePerClaim));
    const bound = variant === 'local' ? '-' : (2000 / server).toFixed(0);
    console.log(`| ${variant} | ${median(best).toFixed(0)} | ${percentile(latencies, 50).toFixed(1)} | ${percentile(latencies, 99).toFixed(1)} | ${client.toFixed(1)} | ${variant === 'local' ? '-' : server.toFixed(1)} | ${machine.toFixed(1)} | ${(2000 / machine).toFixed(0)} | ${bound} | ${total('duplicates')} | ${total('lost')} | ${variant === 'local' ? '-' : (total('pushes') / REPS).toFixed(0)} | ${variant === 'local' ? '-' : (total('refused') / REPS).toFixed(0)} | ${variant === 'local' ? '-' : (total('fetches') / REPS).toFixed(0)} |`);
  }
  console.log(`\nload average after the claim runs: ${load()}\n`);
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'pa-bench-remote-'));
  daemonDir = mkdtempSync(join(tmpdir(), 'pa-bench-served-'));
  const daemon = await startGitDaemon(daemonDir);
  const worker = join(work, 'remote-claim-worker.cjs');
  buildSync({ entryPoints: [join(import.meta.dirname, 'fixtures', 'remote-claim-worker.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: worker, logLevel: 'silent' });
  try {
    console.log(`load average at start: ${load()} (${new Date().toISOString()})\n`);
    const sections = new Set((process.env.SECTIONS ?? 'claims,trips,listing,objects').split(','));
    if (sections.has('claims')) await claimSection(worker, daemon, work);
    if (sections.has('trips')) {
      console.log('### Round trips per transition (one process, no contention; a round trip = one git connection)\n');
      console.log('| remote | transition | fetches | pushes | round trips | median ms |');
      console.log('|---|---|---:|---:|---:|---:|');
      for (const line of await roundTrips((name) => `file://${join(daemonDir, `${name}.git`)}`, work, 'file://')) console.log(line);
      for (const line of await roundTrips((name) => daemon.url(name), work, 'git daemon')) console.log(line);
    }
    if (sections.has('listing')) {
      console.log(`\n### Listing at ${LIST_TASKS} tasks (git daemon on loopback), median of 3\n`);
      console.log('| operation | local store ms | git-remote store ms |');
      console.log('|---|---:|---:|');
      for (const line of await listing(work, daemon)) console.log(line);
    }
    if (sections.has('objects')) {
      console.log('\n### Writing one transition\'s objects (blob + tree + commit), mean of 100\n');
      console.log('| how | ms per transition |');
      console.log('|---|---:|');
      for (const line of objectWrites(work)) console.log(line);
    }
    console.log(`\nload average at the end: ${load()}`);
  } finally {
    await daemon.stop();
    rmSync(work, { recursive: true, force: true });
    rmSync(daemonDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
