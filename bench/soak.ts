// `npm run soak`: the randomized soak of bench/soak-engine.ts, long (ROUNDS=20 rounds of 150 ticks
// by default, 16 churners and 4 recoverers), on the ordinary temp folder; prints its figures as a
// table row for bench/RESULTS.md and exits 1 on any violation. SOAK_SEED replays a run.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { soak } from './soak-engine.ts';

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'pa-soak-'));
  const worker = join(work, 'store-agent.cjs');
  buildSync({ entryPoints: [join(import.meta.dirname, '..', 'tests', 'fixtures', 'store-agent.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: worker, logLevel: 'silent' });
  const seed = Number(process.env.SOAK_SEED ?? Date.now() % 1e9);
  const options = {
    dir: join(work, 'store'),
    worker,
    churners: Number(process.env.CHURNERS ?? 16),
    recoverers: Number(process.env.RECOVERERS ?? 4),
    rounds: Number(process.env.ROUNDS ?? 20),
    ticksPerRound: Number(process.env.TICKS ?? 150),
    tasks: Number(process.env.TASKS ?? 200),
    seed,
    killRate: 0.05,
    stallRate: 0.08,
    callKillRate: 0.004,
    callStallRate: 0.006,
  };
  process.stdout.write(`soak: seed ${seed}, ${options.churners} churners + ${options.recoverers} recoverers, ${options.rounds} rounds of ${options.ticksPerRound} ticks, ${options.tasks} tasks, ${cpus().length} cores\n`);
  const result = await soak({ ...options, dir: join(work, 'store'), progress: (line) => process.stdout.write(`${line}\n`) });
  const load = (values: number[]) => values.map((value) => value.toFixed(1)).join(' ');
  process.stdout.write('\n| seed | processes | rounds | operations begun | answered | kills | stalls | completes | fails | recovered | duration | load before | load after | violations |\n');
  process.stdout.write('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|\n');
  process.stdout.write(`| ${seed} | ${result.processes} | ${result.rounds} | ${result.begun} | ${result.answered} | ${result.kills} | ${result.stalls} | ${result.completes} | ${result.failures} | ${result.recoveries} | ${(result.durationMs / 1000).toFixed(0)} s | ${load(result.loadBefore)} | ${load(result.loadAfter)} | ${result.violations.length} |\n`);
  for (const violation of result.violations.slice(0, 20)) process.stdout.write(`violation: ${violation}\n`);
  if (result.violations.length === 0 && !process.env.KEEP_SOAK_DIR) rmSync(work, { recursive: true, force: true });
  else process.stdout.write(`store kept at ${work}\n`);
  process.exitCode = result.violations.length === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`${String((error as Error).stack ?? error)}\n`);
  process.exitCode = 1;
});
