// `npm run bench -- batch`: `batch units ... --plan-out` end to end (a fresh `node` process each
// time) on the generated monorepo (bench/fixtures/monorepo.ts: 50,000 files, 150 MB, ~10,800
// folders), this checkout's CLI against the one built from BASELINE, interleaved in the same run.
// Target: under 2 s for 50,000 files in 10,000 folders.
//   BENCH_BATCH_REPS (3), BENCH_BATCH_FILES (50000), BENCH_BATCH_MB (150),
//   BENCH_BATCH_BASELINE (a commit; default: the last one before the linear rewrite),
//   BENCH_BATCH_SCALE (12500,25000: smaller monorepos of the same shape, `**/*.{ts,js}` only, to
//   show how time grows with size; empty to skip).
// Besides time, each variant's plan is measured for what the issue was about: tracked files its
// scopes cover that the globs did not select, overlaps `plan check` finds, and estimate spread.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeBundle } from '../scripts/build.mjs';
import { generateMonorepo } from './fixtures/monorepo.ts';

const BASELINE = process.env.BENCH_BATCH_BASELINE ?? '180c8969db123723aed6ea6441c80b743ba8f350';
const REPS = Number(process.env.BENCH_BATCH_REPS ?? 3);
const FILES = Number(process.env.BENCH_BATCH_FILES ?? 50_000);
const MEGABYTES = Number(process.env.BENCH_BATCH_MB ?? 150);
const SCALE = (process.env.BENCH_BATCH_SCALE ?? '12500,25000').split(',').filter((size) => size.trim() !== '').map(Number);
const PROJECT = join(import.meta.dirname, '..');
const CASES = [
  { name: '`**/*.{ts,js}`', globs: ['**/*.{ts,js}'] },
  { name: '`**/*`', globs: ['**/*'] },
];

function git(cwd: string, args: string[], input?: string): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', input, maxBuffer: 1 << 30 }).trim();
}

/** The CLI as it was at `rev`: its src/ and build script, bundled with this checkout's node_modules. */
async function baselineCli(rev: string, dir: string): Promise<string> {
  const tree = join(dir, 'tree');
  mkdirSync(tree, { recursive: true });
  const archive = execFileSync('git', ['archive', '--format=tar', rev, 'src', 'scripts', 'package.json'], { cwd: PROJECT, maxBuffer: 1 << 30 });
  execFileSync('tar', ['-x', '-C', tree], { input: archive });
  symlinkSync(join(PROJECT, 'node_modules'), join(tree, 'node_modules'));
  const build = (await import(pathToFileURL(join(tree, 'scripts', 'build.mjs')).href)) as { writeBundle(out: string): Promise<string> };
  return build.writeBundle(join(dir, 'out'));
}

/**
 * CPU milliseconds of the children this process has waited for, their own waited-for children
 * (the git processes the CLI runs) included: Linux's cutime + cstime, in clock ticks of 10 ms.
 * On a loaded machine wall time swings with the load; CPU time much less.
 */
function childrenCpuMs(): number | undefined {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /s, '').split(' ');
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return undefined;
  }
}

function run(cli: string, cwd: string, args: string[]): { ms: number; cpuMs: number | undefined; stdout: string } {
  const cpu = childrenCpuMs();
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [cli, 'batch', 'units', ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`batch units ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  const after = childrenCpuMs();
  return { ms, cpuMs: cpu === undefined || after === undefined ? undefined : after - cpu, stdout: result.stdout };
}

/** Tracked files the units' scopes cover (entries are files or "dir/**" / "**"), in one pass over the tree. */
function covered(tracked: readonly string[], units: { scope: string[] }[]): Set<string> {
  const exact = new Set<string>();
  const folders = new Set<string>();
  for (const unit of units) {
    for (const entry of unit.scope) {
      if (entry === '**') folders.add('');
      else if (entry.endsWith('/**')) folders.add(entry.slice(0, -3));
      else exact.add(entry);
    }
  }
  return new Set(tracked.filter((file) => {
    if (exact.has(file) || folders.has('')) return true;
    for (let at = file.lastIndexOf('/'); at > 0; at = file.lastIndexOf('/', at - 1)) if (folders.has(file.slice(0, at))) return true;
    return false;
  }));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function uptime(): string {
  return spawnSync('uptime', { encoding: 'utf8' }).stdout.trim();
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'pa-bench-batch-'));
  try {
    console.log(`load before: ${uptime()}`);
    const repo = await generateMonorepo(join(work, 'repo'), { files: FILES, megabytes: MEGABYTES, seed: 1 });
    console.log(`monorepo: ${repo.files.toLocaleString('en')} files, ${repo.folders.toLocaleString('en')} folders, ${(repo.bytes / 2 ** 20).toFixed(0)} MiB; ` +
      `generated in ${repo.generateMs} ms (0 = cached), cloned in ${repo.cloneMs} ms`);
    const clis = { old: await baselineCli(BASELINE, join(work, 'old')), new: await writeBundle(join(work, 'new')) };
    console.log(`old = ${BASELINE.slice(0, 12)}, new = this checkout\n`);
    const tracked = git(repo.dir, ['ls-files']).split('\n');
    const rows: string[] = [];
    for (const testCase of CASES) {
      const times: Record<'old' | 'new', number[]> = { old: [], new: [] };
      const cpu: Record<'old' | 'new', number[]> = { old: [], new: [] };
      const args = (variant: string, json: boolean): string[] => [
        ...testCase.globs.flatMap((glob) => ['--glob', glob]),
        '--plan-out', join(work, `plan-${variant}.yaml`), '--instruction', 'Add a license header to every file', '--force', ...(json ? ['--json'] : []),
      ];
      // Alternate which variant runs first, so drift in machine load hits both alike.
      for (let rep = 0; rep < REPS; rep++) {
        for (const variant of (rep % 2 ? ['new', 'old'] : ['old', 'new']) as ('old' | 'new')[]) {
          const timed = run(clis[variant], repo.dir, args(variant, false));
          times[variant].push(timed.ms);
          if (timed.cpuMs !== undefined) cpu[variant].push(timed.cpuMs);
        }
      }
      for (const variant of ['old', 'new'] as const) {
        const result = JSON.parse(run(clis[variant], repo.dir, args(variant, true)).stdout) as { files: number; groups: number; units: { id: string; files: string[]; scope: string[] }[] };
        const selected = new Set(result.units.flatMap((unit) => unit.files));
        const cover = covered(tracked, result.units);
        const extra = [...cover].filter((file) => !selected.has(file)).length;
        const check = JSON.parse(spawnSync(process.execPath, [clis.new, 'plan', 'check', join(work, `plan-${variant}.yaml`), '--json'], { cwd: repo.dir, encoding: 'utf8', maxBuffer: 1 << 30 }).stdout);
        const estimates = check.tasks.map((task: { estimate: string }) => task.estimate);
        const entries = result.units.reduce((sum, unit) => sum + unit.scope.length, 0);
        const longestId = Math.max(...result.units.map((unit) => unit.id.length));
        rows.push(`| ${testCase.name} | ${variant} | ${median(times[variant]).toFixed(0)} | ${times[variant].map((ms) => ms.toFixed(0)).join(', ')} | ${cpu[variant].length ? median(cpu[variant]).toFixed(0) : '-'} | ` +
          `${result.files.toLocaleString('en')} / ${result.groups.toLocaleString('en')} / ${result.units.length} | ${entries.toLocaleString('en')} | ` +
          `${extra.toLocaleString('en')} | ${check.edges.length} | ${new Set(estimates).size} (${check.critical_path.length.amount / 60_000} min critical path) | ${longestId} |`);
        process.stdout.write(`${rows[rows.length - 1]}\n`);
      }
      const cpuRatio = cpu.old.length && cpu.new.length ? (median(cpu.new) / median(cpu.old)).toFixed(3) : '-';
      rows.push(`| | new / old | ${(median(times.new) / median(times.old)).toFixed(3)} | | ${cpuRatio} | | | | | | |`);
    }
    const scaling: string[] = [];
    for (const files of [...SCALE, FILES]) {
      const small = files === FILES ? repo : await generateMonorepo(join(work, `repo-${files}`), { files, megabytes: (MEGABYTES * files) / FILES, seed: 1 });
      const args = ['--glob', '**/*.{ts,js}', '--plan-out', join(work, 'plan-scale.yaml'), '--instruction', 'x', '--force'];
      const times: Record<'old' | 'new', number[]> = { old: [], new: [] };
      const cpu: Record<'old' | 'new', number[]> = { old: [], new: [] };
      for (let rep = 0; rep < REPS; rep++) {
        for (const variant of (rep % 2 ? ['new', 'old'] : ['old', 'new']) as ('old' | 'new')[]) {
          const timed = run(clis[variant], small.dir, args);
          times[variant].push(timed.ms);
          if (timed.cpuMs !== undefined) cpu[variant].push(timed.cpuMs);
        }
      }
      const [oldMs, newMs] = [median(times.old), median(times.new)];
      const cpuText = (variant: 'old' | 'new'): string => (cpu[variant].length ? median(cpu[variant]).toFixed(0) : '-');
      scaling.push(`| ${files.toLocaleString('en')} | ${small.folders.toLocaleString('en')} | ${oldMs.toFixed(0)} | ${cpuText('old')} | ${newMs.toFixed(0)} | ${cpuText('new')} | ${(newMs / oldMs).toFixed(3)} |`);
      process.stdout.write(`${scaling[scaling.length - 1]}\n`);
      if (small !== repo) rmSync(small.dir, { recursive: true, force: true });
    }
    console.log(`\nload after: ${uptime()}\n`);
    console.log(`median of ${REPS}, each a fresh node process writing the plan (--plan-out, text output)\n`);
    console.log('| glob | CLI | wall ms (median) | wall ms (runs) | CPU ms (median, git included) | files / groups / units | scope entries | tracked files covered but not selected | plan check edges | distinct estimates | longest id |');
    console.log('|---|---|---:|---|---:|---|---:|---:|---:|---|---:|');
    console.log(rows.join('\n'));
    console.log('\n`**/*.{ts,js}` by repository size (same generator and seed, megabytes scaled alike):\n');
    console.log('| files | folders | old wall ms | old CPU ms | new wall ms | new CPU ms | new / old (wall) |');
    console.log('|---:|---:|---:|---:|---:|---:|---:|');
    console.log(scaling.join('\n'));
    console.log(`\nnode ${process.version}, ${new Date().toISOString()}`);
  } finally {
    if (process.env.BENCH_BATCH_KEEP) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
