// Median wall time of `parallel-agents status --json` on a 200-task store, as a ratio to
// `node -e 0` measured in the same run (interleaved, shuffled each round). Target: <= 1.6x.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBundle } from '../scripts/build.mjs';
import { LocalStore } from '../src/store/local/local-store.ts';

// Wrapped in main(): tsx runs these files as CommonJS, which has no top-level await.
async function main(): Promise<void> {
  const ROUNDS = Number(process.env.ROUNDS ?? 40);
  const work = mkdtempSync(join(tmpdir(), 'pa-bench-cli-'));
  const cli = await writeBundle(work);
  const store = new LocalStore({ dir: join(work, '_tasks'), repoRoot: undefined, gitCommonDir: undefined });
  await store.add(Array.from({ length: 200 }, (_, i) => ({
    id: `task-${i}`,
    title: `Task number ${i}`,
    files: [`src/module-${i}/**`],
    depends_on: i > 0 && i % 3 === 0 ? [`task-${i - 1}`] : [],
    body: `Implement module ${i} and its tests.\n`,
  })));
  for (let i = 0; i < 20; i++) await store.claim({ agent: `agent-${i}` });

  const commands: Record<string, string[]> = {
    'node -e 0': ['-e', '0'],
    'status --json': [cli, 'status', '--json', '--tasks-dir', store.dir],
    'claim (nothing claimable path)': [cli, 'claim', '--agent', 'x', '--role', 'nobody', '--tasks-dir', store.dir],
    '--help': [cli, '--help'],
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS + 3; round++) {
    const order = Object.keys(commands).sort(() => Math.random() - 0.5);
    for (const name of order) {
      const start = process.hrtime.bigint();
      spawnSync(process.execPath, commands[name]!, { stdio: 'ignore' });
      if (round >= 3) times[name]!.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }
  rmSync(work, { recursive: true, force: true });
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const base = median(times['node -e 0']!);
  console.log(`median of ${ROUNDS} interleaved rounds, 200-task store\n`);
  console.log('| command | median ms | x node -e 0 |');
  console.log('|---|---:|---:|');
  for (const name of Object.keys(commands)) console.log(`| ${name} | ${median(times[name]!).toFixed(1)} | ${(median(times[name]!) / base).toFixed(2)} |`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
