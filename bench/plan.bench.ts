// `npm run bench -- plan`: `plan check` classification on generated plans of 1,000, 10,000 and
// 100,000 tasks (plan-generator.ts: a 100,402-path monorepo model;
// 1-20 entries per task, 75 % exact paths, 15 % modNN/**, 5 % src/**/*.ts, 5 % hot files).
// Timed: schema validation (what loadPlan adds after parsing) and checkPlan (ids, order, scope
// index, chained edges, waves, critical path, agents). A naive all-pairs overlap check runs
// beside the index on the small sizes, for the ratio.
import { checkPlan } from '../src/plan/check-plan.ts';
import { planSchema, type Plan } from '../src/plan/plan-schema.ts';
import { compileScopePattern, patternsOverlap, type ScopePattern } from '../src/scope/overlap.ts';
import { generatePlan } from './plan-generator.ts';

/** The O(T²) baseline the index replaces: every task pair, every entry pair. */
function naiveConflictingPairs(plan: Plan): number {
  const cache = new Map<string, ScopePattern>();
  const compiled = plan.tasks.map((task) =>
    task.files.map((entry) => {
      let pattern = cache.get(entry);
      if (!pattern) cache.set(entry, (pattern = compileScopePattern(entry)));
      return pattern;
    }),
  );
  let pairs = 0;
  for (let i = 0; i < compiled.length; i++) {
    for (let j = i + 1; j < compiled.length; j++) {
      if (compiled[i]!.some((a) => compiled[j]!.some((b) => patternsOverlap(a, b)))) pairs++;
    }
  }
  return pairs;
}

/** Wall time, and CPU time: on a shared 2-core machine the CPU figure moves less with load. */
function time<T>(run: () => T): { ms: number; cpuMs: number; value: T } {
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const value = run();
  const used = process.cpuUsage(cpu);
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, cpuMs: (used.user + used.system) / 1000, value };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const sizes = (process.env.PLAN_BENCH_SIZES ?? '1000,10000,100000').split(',').map(Number);
const rows: string[] = [];
rows.push('| tasks | entries (distinct) | validate ms | check ms wall (median) | check ms CPU | µs/task (wall) | + edge records ms | edges (depends_on / implied) | waves / max width | agents | naive pairwise ms | conflicting task pairs |');
rows.push('|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|');
for (const size of sizes) {
  const plan = generatePlan(size);
  const entries = plan.tasks.reduce((sum, task) => sum + task.files.length, 0);
  const distinct = new Set(plan.tasks.flatMap((task) => task.files)).size;
  const repeats = size <= 1000 ? 7 : size <= 10000 ? 5 : 2;
  const checkTimes: number[] = [];
  const checkCpu: number[] = [];
  const validateTimes: number[] = [];
  let analysis: ReturnType<typeof checkPlan> | undefined;
  let naive: { ms: number; value: number } | undefined;
  for (let round = 0; round < repeats; round++) {
    // Interleave baseline and index in the same rounds, so machine noise hits both alike.
    if (size <= 2000 && round < 3) {
      const run = time(() => naiveConflictingPairs(plan));
      if (!naive || run.ms < naive.ms) naive = run;
    }
    validateTimes.push(time(() => planSchema.safeParse(plan)).ms);
    const run = time(() => checkPlan(plan));
    checkTimes.push(run.ms);
    checkCpu.push(run.cpuMs);
    analysis = run.value;
  }
  const result = analysis!;
  // What --json and the text graph add on top: one record (with its reason) per edge.
  const records = time(() => result.edges.length);
  const dependsOn = result.edges.filter((edge) => edge.kinds.includes('depends_on')).length;
  const implied = result.edges.length - dependsOn;
  const widest = Math.max(...result.waves.map((wave) => wave.length));
  const checkMs = median(checkTimes);
  rows.push(
    `| ${size.toLocaleString('en')} | ${entries.toLocaleString('en')} (${distinct.toLocaleString('en')}) | ${median(validateTimes).toFixed(0)} | ${checkMs.toFixed(0)} | ${median(checkCpu).toFixed(0)} | ` +
      `${((checkMs * 1000) / size).toFixed(1)} | ${records.ms.toFixed(0)} | ${dependsOn.toLocaleString('en')} / ${implied.toLocaleString('en')} | ${result.waves.length} / ${widest} | ` +
      `${result.agents.recommended} (uncapped ${result.agents.uncapped}) | ${naive ? naive.ms.toFixed(0) : '-'} | ${naive ? naive.value.toLocaleString('en') : '-'} |`,
  );
  process.stdout.write(`${rows[rows.length - 1]}\n`);
}
process.stdout.write(`\n${rows.join('\n')}\n`);
process.stdout.write(`\nnode ${process.version}, ${new Date().toISOString()}\n`);
