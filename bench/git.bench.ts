// Conflict pre-check and worktree creation on a generated repository modelled on MEASUREMENTS §3:
// 5,000 files (50 folders x 100 files of 40 lines), N task branches editing 10 files each, and one
// more commit on main so every merge is a real 3-way merge.
//   npm run bench -- git   (BENCH_GIT_REPS / BENCH_GIT_WT_REPS = repetitions, 3 by default;
//   BENCH_GIT_SKIP_PRECHECK=1 or BENCH_GIT_SKIP_WORKTREES=1 runs one half; BENCH_GIT_WT_DIR = where)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { precheckConflicts } from '../src/git/conflict-precheck.ts';
import { openRepoContext } from '../src/git/repo-context.ts';
import { addWorktree } from '../src/git/worktree.ts';
import { writeBundle } from '../scripts/build.mjs';

const DIRS = 50;
const FILES_PER_DIR = 100;
const LINES = 40;
const REPS = Number(process.env.BENCH_GIT_REPS ?? 3);

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 }).trim();
}

function fileText(d: number, f: number, tag: string): string {
  let text = '';
  for (let line = 0; line < LINES; line++) text += `d${d} f${f} line ${line} ${line === 20 ? tag : ''}\n`;
  return text;
}

function path(d: number, f: number): string {
  return `d${String(d).padStart(2, '0')}/f${String(f).padStart(3, '0')}.txt`;
}

/**
 * Builds the repo with one `git fast-import` stream. Branch `clean-i` edits 10 files of its own;
 * `shared-i` does the same plus line i of a common file (so every pair shares a path and must be
 * merged; still clean), and `shared-0`/`shared-1` both rewrite line 100, the one real conflict.
 */
function makeRepo(branches: number, parent = tmpdir()): string {
  const repo = mkdtempSync(join(parent, 'pa-bench-git-'));
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'config', 'gc.auto', '0');
  git(repo, 'config', 'user.name', 'Bench');
  git(repo, 'config', 'user.email', 'bench@example.com');
  const chunks: string[] = [];
  let mark = 0;
  let time = 1_700_000_000;
  const blob = (text: string): number => {
    mark++;
    chunks.push(`blob\nmark :${mark}\ndata ${Buffer.byteLength(text)}\n${text}\n`);
    return mark;
  };
  const sharedLines = (edits: Map<number, string>): string =>
    Array.from({ length: 200 }, (_, i) => `shared ${i} ${edits.get(i) ?? ''}\n`).join('');
  const commit = (ref: string, files: [string, number][], from: string | undefined, message: string): void => {
    time++;
    chunks.push(`commit ${ref}\nmark :${++mark}\ncommitter Bench <bench@example.com> ${time} +0000\ndata ${message.length}\n${message}\n`);
    if (from) chunks.push(`from ${from}\n`);
    for (const [name, blobMark] of files) chunks.push(`M 100644 :${blobMark} ${name}\n`);
    chunks.push('\n');
  };
  const initial: [string, number][] = [];
  for (let d = 0; d < DIRS; d++) for (let f = 0; f < FILES_PER_DIR; f++) initial.push([path(d, f), blob(fileText(d, f, ''))]);
  initial.push(['shared.txt', blob(sharedLines(new Map()))]);
  commit('refs/heads/main', initial, undefined, 'initial');
  const base = `:${mark}`;
  for (let i = 0; i < branches; i++) {
    // Branch i owns files (i*10 .. i*10+9) of folders 0..49 spread so no two branches touch one file.
    const own: [string, number][] = [];
    for (let k = 0; k < 10; k++) {
      const slot = i * 10 + k;
      own.push([path(slot % DIRS, Math.floor(slot / DIRS)), blob(fileText(slot % DIRS, Math.floor(slot / DIRS), `edit by ${i}`))]);
    }
    commit(`refs/heads/clean-${i}`, own, base, `clean ${i}`);
    // Lines 3 apart: git treats edits to adjacent lines as a conflict.
    const line = i < 2 ? 1 : 3 * i + 1;
    const shared = blob(sharedLines(new Map([[line, `by ${i}`]])));
    commit(`refs/heads/shared-${i}`, [...own, ['shared.txt', shared]], base, `shared ${i}`);
  }
  // main moves on: 10 files no branch touches (folders 0..9, file 99).
  const mainFiles: [string, number][] = [];
  for (let d = 0; d < 10; d++) mainFiles.push([path(d, 99), blob(fileText(d, 99, 'main moved'))]);
  commit('refs/heads/main', mainFiles, base, 'main moves');
  execFileSync('git', ['fast-import', '--quiet'], { cwd: repo, input: chunks.join(''), maxBuffer: 1 << 28 });
  git(repo, 'checkout', '-q', '-f', 'main');
  git(repo, 'repack', '-adq');
  return repo;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function precheckBench(repo: string): Promise<void> {
  const main = git(repo, 'rev-parse', 'main');
  console.log('### Conflict pre-check (5,000-file repo, 10 files per branch)\n');
  console.log('| branches | variant | merges run | pairs skipped | conflicts found | resolve heads ms | pre-check ms (3 git processes) | total ms |');
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const n of [4, 16, 64]) {
    for (const variant of ['clean', 'shared'] as const) {
      const diffTimes: number[] = [];
      const mergeTimes: number[] = [];
      let last: Awaited<ReturnType<typeof precheckConflicts>> | undefined;
      for (let rep = 0; rep < REPS; rep++) {
        const t0 = process.hrtime.bigint();
        const names = Array.from({ length: n }, (_, i) => `${variant}-${i}`);
        const heads = git(repo, 'rev-parse', ...names).split('\n');
        const branches = names.map((task, i) => ({ task, head: heads[i]! }));
        diffTimes.push(ms(t0));
        const t1 = process.hrtime.bigint();
        last = await precheckConflicts(repo, main, branches);
        mergeTimes.push(ms(t1));
      }
      const diff = median(diffTimes);
      const merge = median(mergeTimes);
      const label = variant === 'clean' ? 'disjoint files' : 'every pair shares a file';
      console.log(`| ${n} | ${label} | ${last!.merges_checked} | ${last!.pairs_skipped} | ${last!.conflicts.length} | ${diff.toFixed(1)} | ${merge.toFixed(1)} | ${(diff + merge).toFixed(1)} |`);
    }
  }
  console.log('');
}

function duKb(target: string): number {
  const out = spawnSync('du', ['-sk', target], { encoding: 'utf8' }).stdout;
  return Number(out.split('\t')[0]);
}

function cleanupWorktrees(repo: string): void {
  git(repo, 'worktree', 'prune');
  for (const line of git(repo, 'worktree', 'list', '--porcelain').split('\n')) {
    if (line.startsWith('worktree ') && line.slice(9) !== repo) {
      git(repo, 'worktree', 'remove', '--force', line.slice(9));
    }
  }
  rmSync(join(repo, '.parallel'), { recursive: true, force: true });
  rmSync(join(repo, '_tasks'), { recursive: true, force: true });
  rmSync(join(repo, 'plain-wt'), { recursive: true, force: true });
  for (const branch of git(repo, 'branch', '--format=%(refname:short)').split('\n')) {
    if (branch.startsWith('parallel/') || branch.startsWith('plain-')) git(repo, 'branch', '-q', '-D', branch);
  }
  // Sparse worktrees turn this on in the shared config; every variant must start from the same state.
  spawnSync('git', ['config', '--unset-all', 'extensions.worktreeConfig'], { cwd: repo });
  spawnSync('sync');
}

function runCliAsync(cli: string, cwd: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd, stdio: 'ignore' });
    child.on('close', (code) => resolve(code ?? -1));
  });
}

async function worktreeBench(repo: string, cli: string): Promise<void> {
  const agents = 16;
  const reps = Number(process.env.BENCH_GIT_WT_REPS ?? 3);
  const context = openRepoContext({ cwd: repo, env: {} });
  const cliAdd = (args: string[]): void => {
    const code = spawnSync(process.execPath, [cli, 'worktree', 'add', ...args], { cwd: repo, stdio: 'ignore' }).status;
    if (code !== 0) throw new Error(`worktree add ${args.join(' ')} exited ${code}`);
  };
  // Sequential variants interleave call by call (plain #i, ours #i, ...), so drift in machine load
  // or disk state hits every variant alike; the sums are 16 calls in a row of each.
  const sequential: Record<string, (i: number) => Promise<void> | void> = {
    'plain `git worktree add -b`': (i) => void git(repo, 'worktree', 'add', '-q', '-b', `plain-${i}`, join(repo, 'plain-wt', `t${i}`), 'main'),
    'our `worktree add` CLI': (i) => cliAdd(['--task', `c${i}`]),
    'our addWorktree() in-process (lock + records, no node start)': async (i) => void (await addWorktree(context, { taskId: `p${i}` })),
    'our `worktree add --sparse d00` CLI': (i) => cliAdd(['--task', `s${i}`, '--sparse', 'd00']),
  };
  const names = Object.keys(sequential);
  const totals = new Map<string, number[]>(names.map((name) => [name, []]));
  const concurrent: number[] = [];
  const plainBlock: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    cleanupWorktrees(repo);
    const sums = new Map<string, number>(names.map((name) => [name, 0]));
    for (let i = 0; i < agents; i++) {
      const order = names.map((_, k) => names[(k + i + rep) % names.length]!);
      for (const name of order) {
        const start = process.hrtime.bigint();
        await sequential[name]!(i);
        sums.set(name, sums.get(name)! + ms(start));
      }
    }
    for (const name of names) totals.get(name)!.push(sums.get(name)!);
    if (rep === 0) {
      console.log('disk per worktree (files + admin dir, du):');
      console.log(`  full: ${((duKb(join(repo, 'plain-wt', 't0')) + duKb(join(repo, '.git', 'worktrees', 't0'))) / 1024).toFixed(1)} MB`);
      console.log(`  ours, full: ${((duKb(join(repo, '.parallel', 'worktrees', 'c0')) + duKb(join(repo, '.git', 'worktrees', 'c0'))) / 1024).toFixed(1)} MB`);
      console.log(`  ours, --sparse d00: ${((duKb(join(repo, '.parallel', 'worktrees', 's0')) + duKb(join(repo, '.git', 'worktrees', 's0'))) / 1024).toFixed(1)} MB\n`);
    }
    // 16 agents asking at the same moment, against 16 plain calls in a row just before it.
    cleanupWorktrees(repo);
    let start = process.hrtime.bigint();
    for (let i = 0; i < agents; i++) git(repo, 'worktree', 'add', '-q', '-b', `plain-${i}`, join(repo, 'plain-wt', `t${i}`), 'main');
    plainBlock.push(ms(start));
    start = process.hrtime.bigint();
    const codes = await Promise.all(Array.from({ length: agents }, (_, i) => runCliAsync(cli, repo, ['worktree', 'add', '--task', `c${i}`])));
    concurrent.push(ms(start));
    if (codes.some((code) => code !== 0)) throw new Error(`concurrent worktree add exit codes ${codes.join(',')}`);
  }
  cleanupWorktrees(repo);
  const plain = median(totals.get(names[0]!)!);
  console.log(`### Worktrees for 16 agents (full checkout = 5,001 files; median of ${reps})\n`);
  console.log('| variant | 16 calls ms | ms per worktree | x plain |');
  console.log('|---|---:|---:|---:|');
  for (const name of names) {
    const total = median(totals.get(name)!);
    console.log(`| ${name}, 16 in a row (interleaved) | ${total.toFixed(0)} | ${(total / agents).toFixed(0)} | ${(total / plain).toFixed(2)} |`);
  }
  const block = median(plainBlock);
  const together = median(concurrent);
  console.log(`| plain \`git worktree add -b\`, 16 in a row (block) | ${block.toFixed(0)} | ${(block / agents).toFixed(0)} | 1.00 (block) |`);
  console.log(`| our \`worktree add\` CLI, 16 at once | ${together.toFixed(0)} | ${(together / agents).toFixed(0)} | ${(together / block).toFixed(2)} vs block |`);
  console.log('');
}

async function main(): Promise<void> {
  const started = Date.now();
  const repo = makeRepo(64);
  console.log(`generated repo: ${git(repo, 'ls-files').split('\n').length} files, 128 branches, in ${Date.now() - started} ms\n`);
  try {
    if (!process.env.BENCH_GIT_SKIP_PRECHECK) await precheckBench(repo);
    if (!process.env.BENCH_GIT_SKIP_WORKTREES) {
      const cliDir = mkdtempSync(join(tmpdir(), 'pa-bench-cli-'));
      const cli = await writeBundle(cliDir);
      // On this VM, ext4 with `discard` slows down for minutes after worktrees are deleted
      // (MEASUREMENTS §0), which swamps the overhead being measured; tmpfs isolates it.
      // BENCH_GIT_WT_DIR picks another parent folder (e.g. one on the real disk).
      const parent = process.env.BENCH_GIT_WT_DIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());
      const wtRepo = makeRepo(0, parent);
      console.log(`worktree repo under ${parent}\n`);
      try {
        await worktreeBench(wtRepo, cli);
      } finally {
        rmSync(cliDir, { recursive: true, force: true });
        rmSync(wtRepo, { recursive: true, force: true });
      }
    }
  } finally {
    if (process.env.BENCH_GIT_KEEP) console.log(`kept ${repo}`);
    else rmSync(repo, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
