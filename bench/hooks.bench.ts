// What the plugin's hooks cost per tool call. PreToolUse runs on every Bash and every edit of every
// session with the plugin enabled, so the main-thread fast path (no agent_id: nothing to check)
// and the guarded path (a subagent editing inside its claimed scope, on a 200-task store) are
// timed side by side with `node -e 0`, interleaved, medians of ROUNDS runs each.
//   npm run bench -- hooks          (BENCH_HOOK_ROUNDS=15 by default)
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBundle } from '../scripts/build.mjs';
import { LocalStore } from '../src/store/local/local-store.ts';
import { locateStore } from '../src/store/location.ts';
import { writeSubagent } from '../src/hooks/subagent-registry.ts';

const ROUNDS = Number(process.env.BENCH_HOOK_ROUNDS ?? 15);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'pa-bench-hooks-'));
  try {
    // The plugin's layout: hooks.json runs hooks/run-hook.cjs, which loads bin/ -> dist/ when needed.
    const plugin = join(root, 'plugin');
    mkdirSync(join(plugin, 'dist'), { recursive: true });
    await writeBundle(join(plugin, 'dist'));
    cpSync(join(import.meta.dirname, '..', 'bin'), join(plugin, 'bin'), { recursive: true });
    cpSync(join(import.meta.dirname, '..', 'hooks'), join(plugin, 'hooks'), { recursive: true });
    const entry = join(plugin, 'hooks', 'run-hook.cjs');
    const cli = join(plugin, 'dist', 'parallel-agents.cjs');
    const repo = join(root, 'repo');
    execFileSync('git', ['init', '-q', '-b', 'main', repo]);
    const store = new LocalStore(locateStore({ cwd: repo }));
    await store.init();
    await store.add(Array.from({ length: 200 }, (_, i) => ({ id: `t${String(i).padStart(3, '0')}`, title: `task ${i}`, files: [`src/m${i}/**`] })));
    const held = (await store.claim({ agent: 'bench-1' })).task;
    writeSubagent(store.localDir, { agentId: 'abench', agentType: 'parallel:backend-developer', sessionId: 's', agent: 'bench-1', hostPid: process.pid, recordedAt: new Date().toISOString() });
    const base = { session_id: 's', cwd: repo, hook_event_name: 'PreToolUse' };
    const variants: Array<[string, string[], string]> = [
      ['node -e 0', ['-e', '0'], ''],
      ['CLI hook, main-thread Bash (no pre-filter)', [cli, 'hook', 'pre-tool-use'], JSON.stringify({ ...base, tool_name: 'Bash', tool_input: { command: 'ls' } })],
      ['run-hook.cjs, main-thread Edit (pre-filtered)', [entry, 'pre-tool-use'], JSON.stringify({ ...base, tool_name: 'Edit', tool_input: { file_path: join(repo, 'x.ts') } })],
      ['run-hook.cjs, subagent Bash (identity marker, hook-bash.cjs)', [entry, 'pre-tool-use'], JSON.stringify({ ...base, agent_id: 'abench', tool_name: 'Bash', tool_input: { command: 'git status' } })],
      ['run-hook.cjs, subagent Write in scope (200 tasks)', [entry, 'pre-tool-use'], JSON.stringify({ ...base, agent_id: 'abench', tool_name: 'Write', tool_input: { file_path: join(repo, held.files[0]!.replace('**', 'x.ts')), content: '' } })],
    ];
    const times = new Map<string, number[]>(variants.map(([name]) => [name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, args, input] of variants) {
        const start = process.hrtime.bigint();
        const result = spawnSync(process.execPath, args, { input, cwd: repo, encoding: 'utf8' });
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        if (result.status !== 0 || result.stdout.includes('"deny"')) throw new Error(`${name}: exit ${result.status} ${result.stdout}${result.stderr}`);
        times.get(name)!.push(ms);
      }
    }
    const baseline = median(times.get('node -e 0')!);
    console.log(`| variant | median ms | x node -e 0 |\n|---|---:|---:|`);
    for (const [name] of variants) {
      const value = median(times.get(name)!);
      console.log(`| ${name} | ${value.toFixed(1)} | ${(value / baseline).toFixed(2)} |`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
}
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
