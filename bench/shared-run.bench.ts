// Many machines, one run (`npm run bench -- shared-run`): one plan run through a git-remote store
// served by `git daemon` on loopback, by `parallel-agents run --store git:origin` in 1 clone and
// in 2 clones at once, side by side in one process, configurations rotated between repetitions.
// The plan has three waves (dependencies cross machines); each agent thinks THINK seconds, then
// writes its file and its dependencies' files into it. Reported: wall time from the first spawn to
// the last exit, git connections the server saw (pushes, fetches) per task, the transitions in
// the task refs' journals, and which run's verify merged.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBundle } from '../scripts/build.mjs';
import { cloneRepo, createBareRepo, gitIn, startGitDaemon, type GitDaemon } from '../tests/helpers/git-server.ts';
import { load, median, timed } from './fixtures/bench-repo.ts';

const REPS = Number(process.env.REPS ?? 2);
const THINK = Number(process.env.THINK ?? 2);
const CONFIGS = [
  { name: '1 clone x 2 agents', clones: 1, agents: 2 },
  { name: '2 clones x 2 agents', clones: 2, agents: 2 },
  { name: '1 clone x 4 agents', clones: 1, agents: 4 },
];

/** 12 independent tasks, 8 that each need 3 of them, 4 that each need 2 of those. */
function planTasks(): { id: string; depends_on: string[] }[] {
  const first = Array.from({ length: 12 }, (_, i) => ({ id: `a${String(i).padStart(2, '0')}`, depends_on: [] as string[] }));
  const second = Array.from({ length: 8 }, (_, i) => ({ id: `b${i}`, depends_on: [first[i]!.id, first[(i + 4) % 12]!.id, first[(i + 8) % 12]!.id] }));
  const third = Array.from({ length: 4 }, (_, i) => ({ id: `c${i}`, depends_on: [second[i]!.id, second[i + 4]!.id] }));
  return [...first, ...second, ...third];
}

interface Outcome {
  ms: number;
  pushes: number;
  fetches: number;
  transitions: Record<string, number>;
  merged: number;
}

async function runOnce(work: string, daemon: GitDaemon, cli: string, agent: string, plan: string, config: (typeof CONFIGS)[number]): Promise<Outcome> {
  const name = `run-${Math.random().toString(36).slice(2, 8)}`;
  const bare = createBareRepo(join(work, 'served'), name);
  const clones = Array.from({ length: config.clones }, (_, i) => cloneRepo(daemon.url(name), join(work, `${name}-${i}`)));
  const before = daemon.requests();
  const started = performance.now();
  const runs = await Promise.all(clones.map((clone) => timed([process.execPath, cli, 'run', plan, '--store', 'git:origin', '--agents', String(config.agents), '--agent-cmd', agent, '--json'], { cwd: clone })));
  const ms = performance.now() - started;
  const after = daemon.requests();
  const transitions: Record<string, number> = {};
  for (const task of planTasks()) {
    for (const subject of gitIn(bare, 'log', '--first-parent', '--format=%s', `refs/parallel/store/tasks/${task.id}`).split('\n')) {
      const kind = subject.split(' ')[0]!;
      transitions[kind] = (transitions[kind] ?? 0) + 1;
    }
  }
  if (transitions.complete !== planTasks().length) throw new Error(`${config.name}: ${transitions.complete} completions for ${planTasks().length} tasks`);
  const merged = runs.filter((run) => JSON.parse(run.stdout.trim().split('\n').at(-1)!).report.verify.status === 'merged').length;
  return { ms, pushes: after.pushes - before.pushes, fetches: after.fetches - before.fetches, transitions, merged };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'pa-bench-shared-'));
  mkdirSync(join(work, 'served'));
  const daemon = await startGitDaemon(join(work, 'served'));
  try {
    const cli = await writeBundle(join(work, 'cli'));
    const agent = join(work, 'agent.sh');
    writeFileSync(agent, `#!/bin/sh\ncat > /dev/null\nsleep ${THINK}\nmkdir -p out\ndeps="$(cat out/*.txt 2>/dev/null)"\nprintf "%s\\n%s" "$PARALLEL_TASK_ID" "$deps" > "out/$PARALLEL_TASK_ID.txt"\n`);
    chmodSync(agent, 0o755);
    const plan = join(work, 'plan.json');
    writeFileSync(plan, JSON.stringify({ name: 'shared-bench', tasks: planTasks().map((task) => ({ ...task, title: task.id, files: [`out/${task.id}.txt`], prompt: `write out/${task.id}.txt` })) }));
    const tasks = planTasks().length;
    console.log(`${tasks} tasks in 3 waves, agents think ${THINK}s; ${REPS} repetitions, rotated; ${load()}`);
    const results = new Map<string, Outcome[]>(CONFIGS.map((config) => [config.name, []]));
    for (let rep = 0; rep < REPS; rep++) {
      for (let i = 0; i < CONFIGS.length; i++) {
        const config = CONFIGS[(i + rep) % CONFIGS.length]!;
        results.get(config.name)!.push(await runOnce(work, daemon, cli, agent, plan, config));
      }
    }
    console.log(`\n| configuration | wall s (median) | runs | pushes per task | fetches per task | transitions per task | verifies that merged |`);
    console.log('|---|---:|---|---:|---:|---|---:|');
    for (const config of CONFIGS) {
      const outcomes = results.get(config.name)!;
      const kinds = Object.keys(outcomes[0]!.transitions).filter((kind) => kind !== 'add').sort();
      const perTask = (value: number): string => (value / tasks).toFixed(2);
      console.log(`| ${config.name} | ${(median(outcomes.map((o) => o.ms)) / 1000).toFixed(1)} | ${outcomes.map((o) => (o.ms / 1000).toFixed(1)).join(', ')} | ${perTask(median(outcomes.map((o) => o.pushes)))} | ${perTask(median(outcomes.map((o) => o.fetches)))} | ${kinds.map((kind) => `${kind} ${perTask(median(outcomes.map((o) => o.transitions[kind] ?? 0)))}`).join(', ')} | ${outcomes.map((o) => o.merged).join(', ')} |`);
    }
    console.log(`\n${load()}`);
  } finally {
    await daemon.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
