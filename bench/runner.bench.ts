// Runner benchmark (`npm run bench -- runner`):
//  1. Scheduling efficiency on random DAGs (50-500 tasks, 3/4/5/8 agents): the real runner loop
//     (runTasks: scheduler, concurrency control, budget, report) drives sleep-based agents against
//     an in-memory store, and the same loop run one Kahn level at a time (a barrier after every
//     wave) is the baseline. Both are measured in real time; efficiency = LB / makespan with the
//     lower bound computed from the measured task times. Durations are lognormal (median 1 unit,
//     sigma 0.6) with 1 unit = 4 ms, so the whole sweep takes seconds.
//  2. 16 independent 1-second tasks with 4 and with 1 agent through the full stack (plan publish,
//     the local store, a worktree per task, `sleep 1` agent processes, commit, complete, verify,
//     cleanup): the reported speedup (agent time / wall time) next to the measured wall times.
//  3. Orchestration overhead per task (claim, worktree, commit and scope check, complete) through
//     the full stack with an instant agent, as the run report splits it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../src/errors.ts';
import type { ClaimRequest, CompleteRequest, FailRequest, HolderRequest, Task, TaskState } from '../src/store/backend.ts';
import type { AgentAdapter } from '../src/runner/adapters/agent-adapter.ts';
import { commandAdapter } from '../src/runner/adapters/command-adapter.ts';
import { runTasks, type RunnerStore } from '../src/runner/runner.ts';
import { runPlan } from '../src/runner/run-plan.ts';
import type { TaskWorkspace } from '../src/runner/task-workspace.ts';
import type { RunReport } from '../src/runner/run-report.ts';
import { seededRandom } from './seeded-random.ts';

const UNIT_MS = 4;
const quietView = { event() {}, close() {} };

// ---------- random DAGs ----------


interface BenchTask { id: string; deps: string[]; units: number }

/** Sparse random DAG: each task depends on 0-2 of the 20 tasks before it. */
function randomDag(size: number, seed: number): BenchTask[] {
  const random = seededRandom(seed);
  const tasks: BenchTask[] = [];
  for (let index = 0; index < size; index++) {
    const deps = new Set<string>();
    const count = Math.floor(random() * 3);
    for (let k = 0; k < count && index > 0; k++) deps.add(`t${Math.max(0, index - 1 - Math.floor(random() * 20))}`);
    // Lognormal, median 1, sigma 0.6 (Box-Muller).
    const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    tasks.push({ id: `t${index}`, deps: [...deps], units: Math.exp(0.6 * normal) });
  }
  return tasks;
}

function kahnLevels(tasks: readonly BenchTask[]): string[][] {
  const level = new Map<string, number>();
  for (const task of tasks) level.set(task.id, Math.max(0, ...task.deps.map((dep) => level.get(dep)! + 1)));
  const levels: string[][] = [];
  for (const task of tasks) (levels[level.get(task.id)!] ??= []).push(task.id);
  return levels;
}

/** The store protocol in memory, for the scheduling benchmark: no disk, no git. */
class MemoryStore implements RunnerStore {
  readonly description = 'memory';
  readonly localDir = join(tmpdir(), 'pa-bench-memory-store');
  private readonly tasks = new Map<string, Task>();
  constructor(tasks: readonly BenchTask[]) {
    for (const task of tasks) {
      this.tasks.set(task.id, { id: task.id, title: task.id, files: [], reads: [], depends_on: task.deps, attempts: 0, max_attempts: 2, body: '', state: 'available', file: '' });
    }
  }
  private move(id: string, state: TaskState, extra: Partial<Task> = {}): Task {
    const task = { ...this.tasks.get(id)!, state, ...extra };
    this.tasks.set(id, task);
    return task;
  }
  async exists() { return true; }
  async init() { return { store: this.description, created: false, exclude_added: false }; }
  async add(): Promise<Task[]> { throw new Error('not used'); }
  async get(id: string) { return this.tasks.get(id); }
  async heldBy() { return []; }
  async claim(request: ClaimRequest) {
    const task = this.tasks.get(request.task!);
    if (!task || task.state !== 'available' || task.depends_on.some((dep) => this.tasks.get(dep)?.state !== 'completed')) {
      throw new CliError('E_NOTHING_CLAIMABLE', `task ${request.task} is not claimable`);
    }
    return { task: this.move(task.id, 'claimed'), token: 'x' };
  }
  async heartbeat(request: HolderRequest) { return this.tasks.get(request.task)!; }
  async complete(request: CompleteRequest) { return this.move(request.task, 'completed', { commit: request.commit }); }
  async fail(request: FailRequest) { return this.move(request.task, 'blocked'); }
  async release(request: HolderRequest) { return this.move(request.task, 'available'); }
  async reopen(): Promise<Task> { throw new Error('not used'); }
  async recover() { return { recovered: [], repaired: [], reconciled: [] }; }
  async list() { return { tasks: [...this.tasks.values()], problems: [] }; }
}

function sleepAdapter(units: Map<string, number>): AgentAdapter {
  return {
    name: 'sleep',
    async run(attempt) {
      const ms = units.get(attempt.taskId)! * UNIT_MS;
      await new Promise((resolve) => setTimeout(resolve, ms));
      return { status: 'ok', usage: {}, exit: { exitCode: 0, signal: null, timedOut: false, interrupted: false, durationMs: ms, stdout: '', stderrTail: '', pid: undefined } };
    },
  };
}

const noWorkspace: TaskWorkspace = {
  async prepare() { return { path: tmpdir(), branch: 'bench', base: 'base', mainCheckout: tmpdir() }; },
  async evidence() { return 'head'; },
  async saveProgress() {},
};

async function runSubset(tasks: readonly BenchTask[], ids: readonly string[], store: MemoryStore, agents: number) {
  const units = new Map(tasks.map((task) => [task.id, task.units]));
  return runTasks(
    { store, workspace: noWorkspace, adapter: sleepAdapter(units), view: quietView },
    { taskIds: ids, agents, timeoutMs: 60_000, heartbeatMs: 60_000, signal: new AbortController().signal, estimateOf: (task) => units.get(task.id)! },
  );
}

function lowerBoundMs(tasks: readonly BenchTask[], agents: number, timeOf: (id: string) => number): number {
  const finish = new Map<string, number>();
  let critical = 0;
  let work = 0;
  for (const task of tasks) {
    const end = Math.max(0, ...task.deps.map((dep) => finish.get(dep)!)) + timeOf(task.id);
    finish.set(task.id, end);
    critical = Math.max(critical, end);
    work += timeOf(task.id);
  }
  return Math.max(critical, work / agents);
}

async function schedule(tasks: BenchTask[], agents: number, mode: 'dependency' | 'waves'): Promise<{ efficiency: number; speedup: number; makespan: number }> {
  const store = new MemoryStore(tasks);
  const times = new Map<string, number>();
  const started = performance.now();
  const groups = mode === 'dependency' ? [tasks.map((task) => task.id)] : kahnLevels(tasks);
  for (const group of groups) {
    const { report } = await runSubset(tasks, group, store, agents);
    for (const line of report.tasks) times.set(line.id, line.time_ms);
  }
  const makespan = performance.now() - started;
  const work = [...times.values()].reduce((sum, ms) => sum + ms, 0);
  const bound = lowerBoundMs(tasks, agents, (id) => times.get(id)!);
  return { efficiency: Math.min(1, bound / makespan), speedup: work / makespan, makespan };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function schedulingSweep(): Promise<void> {
  const sizes = [50, 200, 500];
  const agentCounts = [3, 4, 5, 8];
  const seeds = [1, 2, 3];
  console.log(`### 1. Scheduling efficiency, real time, sleep agents (1 unit = ${UNIT_MS} ms, ${seeds.length} seeds each, medians)\n`);
  console.log('| tasks | agents | dependency-driven efficiency | waves efficiency | dependency speedup | waves speedup |');
  console.log('|---:|---:|---:|---:|---:|---:|');
  for (const size of sizes) {
    for (const agents of agentCounts) {
      const dep: { efficiency: number; speedup: number; makespan: number }[] = [];
      const waves: typeof dep = [];
      for (const seed of seeds) {
        const tasks = randomDag(size, seed * 1000 + size);
        // Interleave the two so machine noise hits both alike.
        dep.push(await schedule(tasks, agents, 'dependency'));
        waves.push(await schedule(tasks, agents, 'waves'));
      }
      console.log(`| ${size} | ${agents} | ${median(dep.map((run) => run.efficiency)).toFixed(3)} | ${median(waves.map((run) => run.efficiency)).toFixed(3)} | ${median(dep.map((run) => run.speedup)).toFixed(2)}x | ${median(waves.map((run) => run.speedup)).toFixed(2)}x |`);
    }
  }
}

// ---------- full stack ----------

function fullStackRepo(count: number, agentSeconds: number | undefined): { repo: string; plan: string } {
  const repo = realpathSync(mkdtempSync(join(tmpdir(), 'pa-bench-runner-')));
  const git = (...args: string[]): void => { execFileSync('git', args, { cwd: repo, stdio: 'ignore' }); };
  git('init', '-q', '-b', 'main');
  git('config', 'user.name', 'bench');
  git('config', 'user.email', 'bench@example.invalid');
  git('config', 'commit.gpgSign', 'false');
  writeFileSync(join(repo, 'README.md'), '# bench\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'initial');
  const plan = join(repo, '..', `${repo.split('/').at(-1)}.plan.json`);
  writeFileSync(plan, JSON.stringify({
    name: 'bench',
    tasks: Array.from({ length: count }, (_, index) => ({ id: `task-${index}`, title: `task ${index}`, files: [`out/task-${index}.txt`], prompt: `write out/task-${index}.txt${agentSeconds ? ' slowly' : ''}` })),
  }));
  return { repo, plan };
}

async function fullStack(count: number, agents: number, agentArgv: string[]): Promise<{ report: RunReport }> {
  const { repo, plan } = fullStackRepo(count, undefined);
  const adapter = commandAdapter(agentArgv);
  try {
    const result = await runPlan({
      cwd: repo, env: { ...process.env, PARALLEL_TASKS_DIR: undefined, PARALLEL_WORKTREES_DIR: undefined }, planPath: plan, agents, adapter,
      timeoutMs: 60_000, resume: false, signal: new AbortController().signal, view: quietView,
    });
    if (result.report.counts.completed !== count) throw new Error(`only ${result.report.counts.completed}/${count} completed`);
    return { report: result.report };
  } finally {
    rmSync(repo, { recursive: true, force: true });
    rmSync(plan, { force: true });
  }
}

const WRITE = 'mkdir -p out && echo "$PARALLEL_TASK_ID" > "out/$PARALLEL_TASK_ID.txt"';

async function speedupSixteen(): Promise<void> {
  const agent = ['sh', '-c', `sleep 1; ${WRITE}`];
  console.log('\n### 2. 16 independent 1-second tasks (full stack: store, worktrees, agent processes, commits, verify, cleanup)\n');
  console.log('| agents | wall | agent time | orchestration | idle | reported speedup = agent / wall | efficiency |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|');
  const runs = new Map<number, RunReport>();
  for (const agents of [4, 1]) {
    const { report } = await fullStack(16, agents, agent);
    runs.set(agents, report);
    console.log(`| ${agents} | ${(report.makespan_ms / 1000).toFixed(2)} s | ${(report.work_ms / 1000).toFixed(2)} s | ${(report.orchestration_ms / 1000).toFixed(2)} s | ${(report.idle_ms / 1000).toFixed(2)} s | ${report.speedup.toFixed(2)}x | ${report.efficiency.toFixed(3)} |`);
  }
  const measured = runs.get(1)!.makespan_ms / runs.get(4)!.makespan_ms;
  const reported = runs.get(4)!.speedup / runs.get(1)!.speedup;
  console.log(`\nwall(1 agent) / wall(4 agents) = ${measured.toFixed(2)}x; reported speedup(4) / speedup(1) = ${reported.toFixed(2)}x (${((reported / measured - 1) * 100).toFixed(1)} %)`);
}

async function overhead(): Promise<void> {
  const count = 24;
  const { report } = await fullStack(count, 1, ['sh', '-c', WRITE]);
  const perTask = report.tasks.map((line) => line.orchestration_ms);
  const o = report.orchestration;
  console.log(`\n### 3. Orchestration overhead per task (claim + worktree + prompt + commit + scope check + complete), ${count} tasks, 1 agent\n`);
  console.log(`per task, agent process excluded: median ${median(perTask).toFixed(0)} ms (min ${Math.min(...perTask).toFixed(0)}, max ${Math.max(...perTask).toFixed(0)})`);
  console.log(`by phase (total ms over ${count} tasks): claim ${o.claim_ms}, checkout waited ${o.checkout_ms}, commit and scope check ${o.evidence_ms}, store ${o.store_ms}; ` +
    `run steps: ${Object.entries(o.run_steps).map(([step, ms]) => `${step} ${Math.round(ms)}`).join(', ')}; ` +
    `the instant agent process itself (sh -c "mkdir; echo", a load gauge): median ${median(report.tasks.map((line) => line.agent_ms)).toFixed(0)} ms`);
}

async function main(): Promise<void> {
  // RUNNER_BENCH_ONLY=scheduling|speedup|overhead runs one part.
  const only = process.env.RUNNER_BENCH_ONLY;
  if (!only || only === 'scheduling') await schedulingSweep();
  if (!only || only === 'speedup') await speedupSixteen();
  if (!only || only === 'overhead') await overhead();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
