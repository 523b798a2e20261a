// Worktrees at real size (`npm run bench -- worktrees`), on the generated monorepo (50,000 files,
// 150 MB): what adding and removing a task's worktree costs, measured side by side in one run.
//  1. Add: a scoped worktree (cone mode, sparse index, the folders of the task's files and reads)
//     through our addWorktree() and through the CLI (`worktree add --task`, node start included),
//     the same scope as non-cone patterns with plain git, and a full checkout; disk per worktree
//     (the folder plus its admin folder, where its index lives).
//  2. Remove: a full worktree by `git worktree remove`, `git worktree remove --force` and our
//     removal (rename aside, prune, delete after the lock); 30 scoped worktrees by ours at once and
//     by `git worktree remove` one after the other.
import { join } from 'node:path';
import { openRepoContext } from '../src/git/repo-context.ts';
import { addWorktree } from '../src/git/worktree.ts';
import { removeWorktrees } from '../src/git/worktree-remove.ts';
import { deleteWorktreeRecord } from '../src/git/worktree-registry.ts';
import { chooseCheckout } from '../src/git/worktree-sparse.ts';
import { openStore } from '../src/store/open-store.ts';
import { benchRepo, diskKb, git, load, median, resetRepo, timed, type BenchRepo } from './fixtures/bench-repo.ts';

const REPS = Number(process.env.REPS ?? 3);
const env = { ...process.env, PARALLEL_TASKS_DIR: undefined, PARALLEL_WORKTREES_DIR: undefined };

function scopeOf(pkg: string): { files: string[]; reads: string[] } {
  return { files: [`packages/${pkg}/src/**`], reads: [`packages/${pkg}/package.json`] };
}

async function clock<T>(work: () => Promise<T>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

async function adding(repo: BenchRepo): Promise<void> {
  const context = openRepoContext({ cwd: repo.dir, env });
  const store = openStore({ cwd: repo.dir, env });
  await store.init();
  await store.add(repo.packages.slice(0, 2 * REPS).map((pkg) => ({ id: pkg, title: pkg, ...scopeOf(pkg) })));
  const times: Record<string, number[]> = { scoped: [], cli: [], nonCone: [], full: [] };
  for (let i = 0; i < REPS; i++) {
    const pkg = repo.packages[i]!;
    const choice = chooseCheckout(context, { mode: 'auto', ...scopeOf(pkg) });
    times.scoped!.push(await clock(() => addWorktree(context, { taskId: pkg, sparse: choice.sparse })));
    const cliTask = repo.packages[REPS + i]!;
    times.cli!.push((await timed([process.execPath, repo.cli, 'worktree', 'add', '--task', cliTask, '--json'], { cwd: repo.dir, env })).ms);
    const path = join(repo.work, `non-cone-${i}`);
    times.nonCone!.push(await clock(async () => {
      git(repo.dir, 'worktree', 'add', '-q', '--no-checkout', '-b', `script/non-cone-${i}`, path);
      git(path, 'sparse-checkout', 'set', '--no-cone', '/*', '!/*/', `/packages/${pkg}/src/`, `/packages/${pkg}/package.json`);
      git(path, 'read-tree', '-mu', 'HEAD');
    }));
    times.full!.push(await clock(() => addWorktree(context, { taskId: `full-${i}` })));
  }
  const adminDir = (name: string): string => join(repo.dir, '.git', 'worktrees', name);
  const scopedKb = diskKb(join(context.worktreesDir, repo.packages[0]!), adminDir(repo.packages[0]!));
  const fullKb = diskKb(join(context.worktreesDir, 'full-0'), adminDir('full-0'));
  const row = (name: string, values: number[]): string => `| ${name} | ${median(values).toFixed(0)} | ${Math.min(...values).toFixed(0)} | ${Math.max(...values).toFixed(0)} |`;
  console.log(`\n### 1. Adding a task's worktree (${REPS} of each, interleaved; ms)\n`);
  console.log('| variant | median | min | max |');
  console.log('|---|---:|---:|---:|');
  console.log(row('scoped, addWorktree() (cone + sparse index)', times.scoped!));
  console.log(row('scoped, CLI `worktree add --task` (node start included)', times.cli!));
  console.log(row('same scope, plain git, non-cone patterns', times.nonCone!));
  console.log(row('full checkout, addWorktree()', times.full!));
  console.log(`\nscoped: ${git(join(context.worktreesDir, repo.packages[0]!), 'ls-files', '-t').split('\n').filter((line) => line.startsWith('H ')).length} files checked out; disk ${scopedKb} KB per scoped worktree vs ${fullKb} KB per full one = ${((100 * scopedKb) / fullKb).toFixed(2)} %`);
  console.log(`scoped / full time: ${(median(times.scoped!) / median(times.full!)).toFixed(3)}; cone / non-cone: ${(median(times.scoped!) / median(times.nonCone!)).toFixed(2)}`);
}

async function removing(repo: BenchRepo): Promise<void> {
  const context = openRepoContext({ cwd: repo.dir, env });
  const times: Record<string, number[]> = { gitRemove: [], gitForce: [], ours: [] };
  for (let i = 0; i < REPS; i++) {
    const [a, b, c] = ['a', 'b', 'c'].map((name) => `rm-${name}-${i}`) as [string, string, string];
    for (const id of [a, b, c]) await addWorktree(context, { taskId: id });
    times.gitRemove!.push(await clock(async () => git(repo.dir, 'worktree', 'remove', join(context.worktreesDir, a))));
    times.gitForce!.push(await clock(async () => git(repo.dir, 'worktree', 'remove', '--force', join(context.worktreesDir, b))));
    times.ours!.push(await clock(() => removeWorktrees(context, [c], { target: 'main', unmerged: 'refuse' })));
    for (const id of [a, b]) deleteWorktreeRecord(context.storeDir, id);
  }
  const scoped = repo.packages.slice(0, 60);
  const choose = (pkg: string): string[] | undefined => chooseCheckout(context, { mode: 'scoped', ...scopeOf(pkg) }).sparse;
  for (const pkg of scoped) await addWorktree(context, { taskId: `s-${pkg}`, sparse: choose(pkg) });
  const oursMany = await clock(() => removeWorktrees(context, scoped.slice(0, 30).map((pkg) => `s-${pkg}`), { target: 'main', unmerged: 'refuse' }));
  const gitMany = await clock(async () => {
    for (const pkg of scoped.slice(30)) git(repo.dir, 'worktree', 'remove', join(context.worktreesDir, `s-${pkg}`));
  });
  console.log(`\n### 2. Removing worktrees (ms)\n`);
  console.log('| what | git worktree remove | git worktree remove --force | ours (judge, rename aside, prune, delete) |');
  console.log('|---|---:|---:|---:|');
  console.log(`| one full worktree (median of ${REPS}) | ${median(times.gitRemove!).toFixed(0)} | ${median(times.gitForce!).toFixed(0)} | ${median(times.ours!).toFixed(0)} |`);
  console.log(`| 30 scoped worktrees | ${gitMany.toFixed(0)} (one by one) | - | ${oursMany.toFixed(0)} (at once) |`);
}

async function main(): Promise<void> {
  const repo = await benchRepo();
  try {
    console.log(`Generated monorepo: ${repo.files} files, ${(repo.bytes / 2 ** 20).toFixed(0)} MiB, ${repo.folders} folders (generated in ${repo.generateMs} ms, cloned in ${repo.cloneMs} ms); ${load()}`);
    await adding(repo);
    resetRepo(repo);
    await removing(repo);
    console.log(`\n${load()}`);
  } finally {
    repo.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
