// `npm run bench -- scope`: the scope matcher before and after it stopped compiling globs to
// RegExp, side by side in one run. The old code is the src/ tree of OLD_REV (the last commit with
// the RegExp matcher), unpacked with `git archive` into .cache/ and imported beside the current
// src/. Three tables:
//   1. adversarial globs: old and new wall time per match (the old one once, cold, in a child
//      process stopped after OLD_LIMIT_MS; the new one warm) and the new one's counted steps
//      against (path + 1) × (pattern + 1);
//   2. `plan check` on a generated 10,000-task plan: schema validation and checkPlan, old and new
//      interleaved in the same rounds, medians;
//   3. matchesScope on a realistic mix (the first 2,000 tasks' entries against paths of the
//      modelled repository, half inside each task's scope), what the hook and `verify` do per file.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { generatePlan } from './plan-generator.ts';
import { seededRandom } from './seeded-random.ts';

const OLD_REV = process.env.SCOPE_BENCH_OLD_REV ?? '180c8969db123723aed6ea6441c80b743ba8f350';
const OLD_LIMIT_MS = Number(process.env.SCOPE_BENCH_OLD_LIMIT_MS ?? 30_000);
const ROUNDS = Number(process.env.SCOPE_BENCH_ROUNDS ?? 5);
/** matchesScope rounds are short (tens of ms), so more of them. */
const MATCH_ROUNDS = 3 * ROUNDS;
const ROOT = join(import.meta.dirname, '..');

type GlobModule = { matchesScope(path: string, scope: readonly string[], cost?: { steps: number }): boolean };
type CheckModule = { checkPlan(plan: unknown): unknown };
type SchemaModule = { planSchema: { safeParse(value: unknown): { success: boolean } } };

function oldTree(): string {
  const dir = join(ROOT, '.cache', 'bench-scope-old', OLD_REV);
  if (!existsSync(join(dir, 'src'))) {
    mkdirSync(dir, { recursive: true });
    const archive = execFileSync('git', ['archive', OLD_REV, 'src'], { cwd: ROOT, maxBuffer: 1 << 28 });
    execFileSync('tar', ['-x', '-C', dir], { input: archive });
  }
  return join(dir, 'src');
}

async function load(tree: string): Promise<{ glob: GlobModule; check: CheckModule; schema: SchemaModule }> {
  return {
    glob: (await import(join(tree, 'scope', 'glob.ts'))) as GlobModule,
    check: (await import(join(tree, 'plan', 'check-plan.ts'))) as CheckModule,
    schema: (await import(join(tree, 'plan', 'plan-schema.ts'))) as SchemaModule,
  };
}

const deep = (levels: number): string => Array.from({ length: levels }, (_, i) => `d${i}`).join('/');
const ADVERSARIAL: Array<{ name: string; glob: string; path: string }> = [
  { name: '`**/` ×6 + `x`, 40-level path', glob: `${'**/'.repeat(6)}x`, path: deep(40) },
  { name: '`**/` ×8 + `x`, 40-level path', glob: `${'**/'.repeat(8)}x`, path: deep(40) },
  { name: '`**/` ×12 + `x`, 40-level path', glob: `${'**/'.repeat(12)}x`, path: deep(40) },
  { name: '`**/` ×40 + `x`, 200-level path', glob: `${'**/'.repeat(40)}x`, path: deep(200) },
  { name: '`*a*a*a*a*a*a*a*b`, 60-char name', glob: '*a*a*a*a*a*a*a*b', path: 'a'.repeat(60) },
  { name: '`{a,b,*}` ×12 + `c`, 40-char name', glob: `${'{a,b,*}'.repeat(12)}c`, path: 'ab'.repeat(20) },
];

/** ms per match: the best of three 20 ms windows, after 50 ms of warm-up for the JIT. */
function timeMatch(glob: GlobModule, entry: string, path: string): number {
  const window = (ns: number): number => {
    const start = process.hrtime.bigint();
    let runs = 0;
    do {
      glob.matchesScope(path, [entry]);
      runs++;
    } while (Number(process.hrtime.bigint() - start) < ns);
    return Number(process.hrtime.bigint() - start) / 1e6 / runs;
  };
  window(50e6);
  return Math.min(window(20e6), window(20e6), window(20e6));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function formatMs(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 1 ? ms.toFixed(1) : ms >= 0.01 ? ms.toFixed(3) : ms.toExponential(1);
}

function cpu<T>(run: () => T): { ms: number; cpuMs: number } {
  const start = process.hrtime.bigint();
  const used = process.cpuUsage();
  run();
  const spent = process.cpuUsage(used);
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, cpuMs: (spent.user + spent.system) / 1000 };
}

async function oldCase(index: number): Promise<void> {
  const { glob } = await load(oldTree());
  const { glob: entry, path } = ADVERSARIAL[index]!;
  const start = process.hrtime.bigint();
  glob.matchesScope(path, [entry]);
  process.stdout.write(`${Number(process.hrtime.bigint() - start) / 1e6}\n`);
}

async function main(): Promise<void> {
  const load0 = loadavg().map((value) => value.toFixed(2)).join(' ');
  const older = await load(oldTree());
  const newer = await load(join(ROOT, 'src'));

  process.stdout.write(`load average at start: ${load0}\n\n| adversarial case | old (RegExp) | new | new steps | steps / ((path+1)(pattern+1)) |\n|---|---:|---:|---:|---:|\n`);
  for (const [index, item] of ADVERSARIAL.entries()) {
    const child = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'scope.bench.ts'), '--old-case', String(index)], {
      encoding: 'utf8',
      timeout: OLD_LIMIT_MS,
    });
    const old = child.status === 0 ? `${formatMs(Number(child.stdout.trim()))} ms` : `> ${OLD_LIMIT_MS / 1000} s (stopped)`;
    const cost = { steps: 0 };
    newer.glob.matchesScope(item.path, [item.glob], cost);
    const ratio = cost.steps / ((item.path.length + 1) * (item.glob.length + 1));
    process.stdout.write(`| ${item.name} | ${old} | ${formatMs(timeMatch(newer.glob, item.glob, item.path))} ms | ${cost.steps.toLocaleString('en')} | ${ratio.toFixed(2)} |\n`);
  }

  const plan = generatePlan(10_000);
  const rows: Record<string, number[]> = { oldValidate: [], newValidate: [], oldCheck: [], newCheck: [], oldCheckCpu: [], newCheckCpu: [] };
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which goes first, so warm-up and machine noise fall on both alike.
    const order = round % 2 === 0 ? (['old', 'new'] as const) : (['new', 'old'] as const);
    for (const which of order) {
      const modules = which === 'old' ? older : newer;
      rows[`${which}Validate`]!.push(cpu(() => modules.schema.planSchema.safeParse(plan)).ms);
      const check = cpu(() => modules.check.checkPlan(plan));
      rows[`${which}Check`]!.push(check.ms);
      rows[`${which}CheckCpu`]!.push(check.cpuMs);
    }
  }
  process.stdout.write(`\n| plan check, 10,000 tasks (median of ${ROUNDS}) | old | new | new / old |\n|---|---:|---:|---:|\n`);
  for (const [label, key] of [['validate ms', 'Validate'], ['checkPlan ms wall', 'Check'], ['checkPlan ms CPU', 'CheckCpu']] as const) {
    const old = median(rows[`old${key}`]!);
    const now = median(rows[`new${key}`]!);
    process.stdout.write(`| ${label} | ${old.toFixed(0)} | ${now.toFixed(0)} | ${(now / old).toFixed(2)} |\n`);
  }

  // Paths of the modelled repository: for each task, five inside one of its entries (a file it
  // names, or one beneath a folder or glob) and five anywhere.
  const random = seededRandom(11);
  const pick = (n: number): number => Math.floor(random() * n);
  const pad = (value: number, width: number): string => String(value).padStart(width, '0');
  const anyPath = (): string => `packages/pkg${pad(pick(100), 3)}/src/mod${pad(pick(20), 2)}/file${pad(pick(50), 3)}.ts`;
  const inside = (entry: string): string => entry.replace('/**/*.ts', `/mod${pad(pick(20), 2)}/file${pad(pick(50), 3)}.ts`).replace(/\/\*\*$/, `/file${pad(pick(50), 3)}.ts`);
  const calls = plan.tasks.slice(0, 2000).flatMap((task) => [
    ...Array.from({ length: 5 }, () => ({ scope: task.files, path: inside(task.files[pick(task.files.length)]!) })),
    ...Array.from({ length: 5 }, () => ({ scope: task.files, path: anyPath() })),
  ]);
  const matchRows: Record<'old' | 'new', number[]> = { old: [], new: [] };
  let inScope = 0;
  for (let round = 0; round < MATCH_ROUNDS; round++) {
    for (const which of round % 2 === 0 ? (['old', 'new'] as const) : (['new', 'old'] as const)) {
      const glob = which === 'old' ? older.glob : newer.glob;
      let count = 0;
      matchRows[which].push(cpu(() => calls.forEach((call) => (count += glob.matchesScope(call.path, call.scope) ? 1 : 0))).ms);
      inScope = count;
    }
  }
  // The first round compiles every entry (a RegExp each, or an automaton); the rest are warm.
  const first = { old: matchRows.old[0]!, new: matchRows.new[0]! };
  const warm = { old: median(matchRows.old.slice(1)), new: median(matchRows.new.slice(1)) };
  const best = { old: Math.min(...matchRows.old), new: Math.min(...matchRows.new) };
  process.stdout.write(
    `\n| matchesScope, ${calls.length.toLocaleString('en')} calls (${inScope.toLocaleString('en')} in scope), ${MATCH_ROUNDS} rounds | old | new | new / old |\n|---|---:|---:|---:|\n` +
      [
        ['first round (compiles) ms', first],
        ['warm rounds, median ms', warm],
        ['best round ms', best],
      ]
        .map(([label, row]) => {
          const { old, new: now } = row as { old: number; new: number };
          return `| ${label as string} | ${old.toFixed(1)} | ${now.toFixed(1)} | ${(now / old).toFixed(2)} |\n`;
        })
        .join(''),
  );
  process.stdout.write(`\nload average at end: ${loadavg().map((value) => value.toFixed(2)).join(' ')}; node ${process.version}, ${new Date().toISOString()}\n`);
}

const at = process.argv.indexOf('--old-case');
(at >= 0 ? oldCase(Number(process.argv[at + 1])) : main()).catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exitCode = 1;
});
