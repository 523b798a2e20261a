// Claim throughput with 16 and 32 contending processes on 2,000 tasks, through the library API,
// side by side with a naive first-free-task rename (list available/, take the first, rename) in
// the same run. BASELINE=<commit> adds that commit's store (its own bench worker, built from
// `git archive` of the commit) as a third variant, so an older store is measured in the same run.
// Each configuration runs REPS times in interleaved order; medians are reported.
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { LocalStore } from '../src/store/local/local-store.ts';

// Wrapped in main(): tsx runs these files as CommonJS, which has no top-level await.
async function main(): Promise<void> {
  const TASKS = 2000;
  const REPS = Number(process.env.REPS ?? 3);
  const work = mkdtempSync(join(tmpdir(), 'pa-bench-claims-'));
  const worker = join(work, 'claim-worker.cjs');
  buildSync({ entryPoints: [join(import.meta.dirname, 'fixtures', 'claim-worker.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: worker, logLevel: 'silent' });
  const baseline = process.env.BASELINE;
  const baselineWorker = join(work, 'baseline-claim-worker.cjs');
  if (baseline) {
    const root = join(import.meta.dirname, '..');
    const old = join(work, 'baseline');
    mkdirSync(old);
    execFileSync('sh', ['-c', 'git archive "$1" bench src | tar -x -C "$2"', 'sh', baseline, old], { cwd: root });
    symlinkSync(join(root, 'node_modules'), join(old, 'node_modules'));
    buildSync({ entryPoints: [join(old, 'bench', 'fixtures', 'claim-worker.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: baselineWorker, logLevel: 'silent' });
  }
  type Mode = 'store' | 'naive' | 'baseline';

  async function once(mode: Mode, contenders: number, cycle: 'claim' | 'cycle'): Promise<{ perSecond: number; duplicates: number; lost: number }> {
    const dir = join(work, `${mode}-${contenders}-${Math.random().toString(36).slice(2)}`);
    const store = new LocalStore({ dir, repoRoot: undefined, gitCommonDir: undefined });
    await store.init();
    await store.add(Array.from({ length: TASKS }, (_, i) => ({ id: `t${i}`, title: `t${i}` })));
    mkdirSync(join(dir, 'claimed'), { recursive: true });
    const children = Array.from({ length: contenders }, (_, i) => fork(mode === 'baseline' ? baselineWorker : worker, [dir, `a${i}`, mode === 'baseline' ? 'store' : mode, cycle], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    await Promise.all(children.map((child) => new Promise((resolve) => child.once('message', resolve))));
    const results = children.map((child) => new Promise<{ won: string[]; doneAt: string }>((resolve) => child.once('message', resolve as never)));
    const start = process.hrtime.bigint();
    for (const child of children) child.send('go');
    const done = await Promise.all(results);
    const end = done.reduce((max, result) => (BigInt(result.doneAt) > max ? BigInt(result.doneAt) : max), start);
    const all = done.flatMap((result) => result.won);
    const unique = new Set(all);
    rmSync(dir, { recursive: true, force: true });
    return { perSecond: TASKS / (Number(end - start) / 1e9), duplicates: all.length - unique.size, lost: TASKS - unique.size };
  }

  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const rows: string[] = [];
  for (const [contenders, cycle] of [[16, 'claim'], [32, 'claim'], [16, 'cycle'], [32, 'cycle']] as const) {
    const modes: Mode[] = baseline ? ['store', 'naive', 'baseline'] : ['store', 'naive'];
    const runs: Record<Mode, number[]> = { store: [], naive: [], baseline: [] };
    let duplicates = 0;
    let lost = 0;
    for (let rep = 0; rep < REPS; rep++) {
      for (const mode of modes.map((_, i) => modes[(i + rep) % modes.length]!)) {
        const result = await once(mode, contenders, cycle);
        runs[mode].push(result.perSecond);
        duplicates += result.duplicates;
        lost += result.lost;
      }
    }
    const before = baseline ? ` ${median(runs.baseline).toFixed(0)} | ${(median(runs.store) / median(runs.baseline)).toFixed(2)}x |` : '';
    rows.push(`| ${cycle === 'claim' ? 'claim' : 'claim + complete'} | ${contenders} | ${TASKS} | ${median(runs.store).toFixed(0)} | ${median(runs.naive).toFixed(0)} | ${(median(runs.store) / median(runs.naive)).toFixed(2)}x |${before} ${duplicates} | ${lost} |`);
  }
  rmSync(work, { recursive: true, force: true });
  console.log(`throughput, median of ${REPS} interleaved runs (tasks/s, from "go" to the last worker done)\n`);
  const baselineColumns = baseline ? { head: ` store at ${baseline} | now / then |`, rule: '---:|---:|' } : { head: '', rule: '' };
  console.log(`| operation | contenders | tasks | LocalStore (library API) | naive first-free rename | ratio |${baselineColumns.head} duplicates | lost |`);
  console.log(`|---|---:|---:|---:|---:|---:|${baselineColumns.rule}---:|---:|`);
  console.log(rows.join('\n'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
