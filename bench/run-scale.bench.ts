// `run` at real size (`npm run bench -- run-scale`), on the generated monorepo (50,000 files, 150 MB).
//  1. 8 agents, 30 tasks of trivial work (each writes one file in its package): the runner (the
//     real CLI: publish, claims, scoped worktrees, evidence, verify, cleanup) against a plain bash
//     script doing the same with parallel sparse checkouts (xargs -P 8: worktree add under flock,
//     cone sparse-checkout, read-tree, the same agent, commit; then one octopus merge, rm + prune).
//     Paired runs, alternating which goes first; wall times spawn to exit.
//  2. The reported speedup against the wall clock: the same 30 tasks with an agent that thinks
//     for THINK seconds (default 1) before its edit, run with 1 and with 8 agents.
//  3. Overhead per task without contention: runner and script with 1 agent on the 30 tasks.
// RUN_SCALE_ONLY=trivial|speedup|overhead runs one part; REPS sets the paired runs (default 3).
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchRepo, load, median, resetRepo, timed, type BenchRepo } from './fixtures/bench-repo.ts';

const REPS = Number(process.env.REPS ?? 3);
const THINK = Number(process.env.THINK ?? 1);
const TASKS = 30;
const AGENTS = 8;
const env = { ...process.env, PARALLEL_TASKS_DIR: undefined, PARALLEL_WORKTREES_DIR: undefined };

const SCRIPT = `#!/bin/bash
# The plain script: what a user would write to run the same agents on the same tasks.
set -euo pipefail
REPO=$1; WT=$2; AGENT=$3; P=$4; shift 4
ms() { echo $(( $(date +%s%N) / 1000000 )); }
start=$(ms)
mkdir -p "$WT"
# Concurrent sparse-checkout calls race on this shared setting unless it is set once up front.
git -C "$REPO" config extensions.worktreeConfig true
one() {
  id=$1; wt="$WT/$id"
  # Concurrent worktree adds read each other's half-made admin folders and fail: one at a time.
  flock "$REPO/.git/script.lock" git -C "$REPO" worktree add -q --no-checkout -b "script/$id" "$wt" HEAD
  cd "$wt"
  git sparse-checkout set --cone --sparse-index --skip-checks "packages/$id/src" "packages/$id/package.json"
  git read-tree -mu HEAD
  PARALLEL_TASK_ID=$id "$AGENT" < /dev/null
  git add -A
  git commit -q -m "$id"
}
export -f one; export REPO WT AGENT
printf '%s\\n' "$@" | xargs -P "$P" -n 1 bash -c 'one "$0"'
tasks=$(ms)
cd "$REPO"
git merge -q --no-edit $(printf 'script/%s ' "$@")
merged=$(ms)
rm -rf "$WT"
git worktree prune
echo "tasks $((tasks - start)) merge $((merged - tasks)) cleanup $(( $(ms) - merged ))"
`;

function agentScript(repo: BenchRepo, name: string, thinkSeconds: number): string {
  const path = join(repo.work, name);
  writeFileSync(path, `#!/bin/sh\ncat > /dev/null\n${thinkSeconds > 0 ? `sleep ${thinkSeconds}\n` : ''}echo "touched by $PARALLEL_TASK_ID" > "packages/$PARALLEL_TASK_ID/src/parallel-agents.txt"\n`);
  chmodSync(path, 0o755);
  return path;
}

function planFile(repo: BenchRepo, ids: readonly string[]): string {
  const path = join(repo.work, 'plan.json');
  writeFileSync(path, JSON.stringify({
    name: 'scale',
    tasks: ids.map((id) => ({ id, title: `touch ${id}`, files: [`packages/${id}/src/**`], reads: [`packages/${id}/package.json`], estimate: '1m', prompt: `Write packages/${id}/src/parallel-agents.txt` })),
  }));
  return path;
}

async function runner(repo: BenchRepo, plan: string, agent: string, agents: number): Promise<{ ms: number; report: any }> {
  resetRepo(repo);
  const { ms } = await timed([process.execPath, repo.cli, 'run', plan, '--agent-cmd', agent, '--agents', String(agents), '--json'], { cwd: repo.dir, env });
  const report = JSON.parse(readFileSync(join(repo.dir, '_tasks', 'run-report.json'), 'utf8'));
  if (report.counts.completed !== TASKS || report.verify.status !== 'merged') throw new Error(`runner: ${report.counts.completed}/${TASKS} completed, verify ${report.verify.status}`);
  return { ms, report };
}

/** The plain script's wall time and its phases (the parallel tasks, the octopus merge, the cleanup), ms. */
async function script(repo: BenchRepo, ids: readonly string[], agent: string, parallel = AGENTS): Promise<{ ms: number; phases: Record<string, number> }> {
  resetRepo(repo);
  const path = join(repo.work, 'plain.sh');
  writeFileSync(path, SCRIPT);
  chmodSync(path, 0o755);
  const { ms, stdout } = await timed([path, repo.dir, join(repo.work, 'script-wt'), agent, String(parallel), ...ids], { cwd: repo.work });
  const words = stdout.trim().split(/\s+/);
  const phases: Record<string, number> = {};
  for (let i = 0; i + 1 < words.length; i += 2) phases[words[i]!] = Number(words[i + 1]);
  return { ms, phases };
}

interface Paired { runner: number; script: number; scriptPhases: Record<string, number>; report: any }

async function paired(repo: BenchRepo, ids: readonly string[], agents: number): Promise<Paired[]> {
  const agent = agentScript(repo, 'agent-trivial.sh', 0);
  const plan = planFile(repo, ids);
  const runs: Paired[] = [];
  for (let i = 0; i < REPS; i++) {
    // Alternate the order so a change of machine load hits both alike.
    const first = i % 2 === 0 ? 'script' : 'runner';
    const a = first === 'script' ? await script(repo, ids, agent, agents) : await runner(repo, plan, agent, agents);
    const b = first === 'script' ? await runner(repo, plan, agent, agents) : await script(repo, ids, agent, agents);
    const [scriptRun, runnerRun] = (first === 'script' ? [a, b] : [b, a]) as [{ ms: number; phases: Record<string, number> }, { ms: number; report: any }];
    runs.push({ runner: runnerRun.ms, script: scriptRun.ms, scriptPhases: scriptRun.phases, report: runnerRun.report });
  }
  return runs;
}

const secs = (ms: number): string => (ms / 1000).toFixed(2);

async function trivialWork(repo: BenchRepo, ids: readonly string[]): Promise<void> {
  const runs = await paired(repo, ids, AGENTS);
  console.log(`\n### 1. ${AGENTS} agents, ${TASKS} tasks of trivial work: runner vs plain script (${REPS} paired runs; s)\n`);
  console.log('| run | plain script (tasks + merge + cleanup) | runner (start + tasks + verify + cleanup) | runner / script | (runner - script) x agents / tasks | runner: task orchestration per task (slot time) |');
  console.log('|---:|---:|---:|---:|---:|---:|');
  runs.forEach((run, index) => {
    const p = run.scriptPhases;
    const steps = run.report.orchestration.run_steps;
    const tasksPhase = run.report.makespan_ms - steps.start - steps.verify - steps.cleanup;
    const perTask = run.report.tasks.reduce((sum: number, task: any) => sum + task.orchestration_ms, 0) / TASKS;
    console.log(`| ${index + 1} | ${secs(run.script)} (${secs(p.tasks!)} + ${secs(p.merge!)} + ${secs(p.cleanup!)}) | ${secs(run.runner)} (${secs(steps.start)} + ${secs(tasksPhase)} + ${secs(steps.verify)} + ${secs(steps.cleanup)}) | ${(run.runner / run.script).toFixed(3)} | ${secs(((run.runner - run.script) * AGENTS) / TASKS)} | ${secs(perTask)} |`);
  });
  const last = runs.at(-1)!.report.orchestration;
  console.log(`\nmedian runner / script: ${median(runs.map((run) => run.runner / run.script)).toFixed(3)}; tasks phases alone (runner from its first claim to its last attempt, script's xargs): median ratio ${median(runs.map((run) => (run.report.makespan_ms - Object.values(run.report.orchestration.run_steps as Record<string, number>).reduce((a, b) => a + b, 0)) / run.scriptPhases.tasks!)).toFixed(3)}`);
  console.log(`last run's task orchestration in total (slot time): claims ${last.claim_ms} ms, checkouts waited ${last.checkout_ms} ms, commits and scope checks ${last.evidence_ms} ms, store ${last.store_ms} ms`);
}

async function overheadPerTask(repo: BenchRepo, ids: readonly string[]): Promise<void> {
  const runs = await paired(repo, ids, 1);
  console.log(`\n### 3. Overhead per task without contention: 1 agent, ${TASKS} trivial tasks (${REPS} paired runs)\n`);
  console.log('| run | plain script, per task | runner, per task (whole run / tasks) | runner - script, per task | runner: task orchestration per task (median) |');
  console.log('|---:|---:|---:|---:|---:|');
  runs.forEach((run, index) => {
    const orchestration = median(run.report.tasks.map((task: any) => task.orchestration_ms));
    console.log(`| ${index + 1} | ${(run.script / TASKS).toFixed(0)} ms | ${(run.runner / TASKS).toFixed(0)} ms | ${((run.runner - run.script) / TASKS).toFixed(0)} ms | ${orchestration.toFixed(0)} ms |`);
  });
}

async function speedupTruth(repo: BenchRepo, ids: readonly string[]): Promise<void> {
  const agent = agentScript(repo, 'agent-think.sh', THINK);
  const plan = planFile(repo, ids);
  const one = await runner(repo, plan, agent, 1);
  const many = await runner(repo, plan, agent, AGENTS);
  const measured = one.ms / many.ms;
  const reported = many.report.speedup / one.report.speedup;
  console.log(`\n### 2. Reported speedup vs wall clock: ${TASKS} tasks, agents think ${THINK} s, 1 vs ${AGENTS} agents\n`);
  console.log('| agents | wall (spawn to exit) | report: wall | agent time | orchestration | idle | reported speedup |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|');
  for (const [agents, run] of [[1, one], [AGENTS, many]] as const) {
    const r = run.report;
    console.log(`| ${agents} | ${(run.ms / 1000).toFixed(2)} s | ${(r.makespan_ms / 1000).toFixed(2)} s | ${(r.work_ms / 1000).toFixed(2)} s | ${(r.orchestration_ms / 1000).toFixed(2)} s | ${(r.idle_ms / 1000).toFixed(2)} s | ${r.speedup.toFixed(2)}x |`);
  }
  console.log(`\nmeasured wall(1) / wall(${AGENTS}) = ${measured.toFixed(3)}x; reported speedup(${AGENTS}) / speedup(1) = ${reported.toFixed(3)}x; difference ${((reported / measured - 1) * 100).toFixed(1)} %`);
}

async function main(): Promise<void> {
  const repo = await benchRepo();
  try {
    console.log(`Generated monorepo: ${repo.files} files, ${(repo.bytes / 2 ** 20).toFixed(0)} MiB, ${repo.folders} folders; ${load()}`);
    const ids = repo.packages.slice(0, TASKS);
    if (!process.env.RUN_SCALE_ONLY || process.env.RUN_SCALE_ONLY === 'trivial') await trivialWork(repo, ids);
    if (!process.env.RUN_SCALE_ONLY || process.env.RUN_SCALE_ONLY === 'speedup') await speedupTruth(repo, ids);
    if (!process.env.RUN_SCALE_ONLY || process.env.RUN_SCALE_ONLY === 'overhead') await overheadPerTask(repo, ids);
    console.log(`\n${load()}`);
  } finally {
    repo.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
