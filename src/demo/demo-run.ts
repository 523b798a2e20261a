import { runGit } from '../repo/run-git.ts';
import { mkdtempSync, realpathSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { commandAdapter } from '../runner/adapters/command-adapter.ts';
import type { ProgressView } from '../runner/progress-view.ts';
import { runPlan, type RunPlanResult } from '../runner/run-plan.ts';
import { DEMO_PLAN_NAME, SAMPLE_TEST_COMMAND, demoPlan, sampleProjectFiles } from './sample-project.ts';

// `parallel-agents demo`: the whole product on a fresh machine in under a minute, no model needed.
// A throwaway repository gets the sample project and its plan; the real runner drives the
// scripted agent as real child processes in real worktrees; verify merges behind the project's
// own tests; the report shows what the parallelism bought.

export const PLAN_FILE = `${DEMO_PLAN_NAME}.plan.json`;

export function createDemoRepo(): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'parallel-agents-demo-')));
  const files = { ...sampleProjectFiles(), [PLAN_FILE]: `${JSON.stringify(demoPlan(), null, 2)}\n` };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  const git = (...args: string[]): void => {
    runGit(args, { cwd: dir });
  };
  git('init', '-q', '-b', 'main');
  git('config', 'user.name', 'parallel-agents demo');
  git('config', 'user.email', 'demo@parallel-agents.invalid');
  git('config', 'commit.gpgSign', 'false');
  git('config', 'gc.auto', '0');
  git('add', '-A');
  git('commit', '-q', '-m', 'textkit: initial sample project and plan');
  return dir;
}

export interface DemoOptions {
  agents: number;
  keep: boolean;
  /** How to start this CLI again as the scripted agent (`node <bundle> demo agent`). */
  selfArgv: readonly string[];
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  view: ProgressView;
  emit: (event: Record<string, unknown> & { event: string }, human?: string) => void;
}

export interface DemoResult extends RunPlanResult {
  repo: string;
  kept: boolean;
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const repo = createDemoRepo();
  options.emit({ event: 'demo-repo', repo }, `demo: sample project in ${repo}`);
  // The demo's store and worktrees live in its own repository, whatever the caller's environment says.
  const env = { ...options.env, PARALLEL_TASKS_DIR: undefined, PARALLEL_WORKTREES_DIR: undefined };
  let result: RunPlanResult;
  try {
    result = await runPlan({
      cwd: repo,
      env,
      planPath: join(repo, PLAN_FILE),
      agents: options.agents,
      adapter: commandAdapter([...options.selfArgv, 'demo', 'agent']),
      timeoutMs: 60_000,
      heartbeatMs: 10_000,
      testCommand: SAMPLE_TEST_COMMAND,
      testTimeoutMs: 60_000,
      resume: false,
      signal: options.signal,
      view: options.view,
      emit: options.emit,
    });
  } catch (error) {
    (error as Error).message += `; the demo repository is kept at ${repo}`;
    throw error;
  }
  // A failed demo is kept for inspection even without --keep.
  const kept = options.keep || result.exitCode !== 0 || options.signal.aborted;
  if (!kept) rmSync(repo, { recursive: true, force: true });
  const where = kept
    ? `demo repository kept at ${repo} (look around: git log --graph --oneline --all; parallel-agents status)`
    : 'demo repository removed (pass --keep to look around)';
  // The report file went with the repository unless it was kept.
  const text = kept ? result.text : result.text.split('\n').filter((line) => !line.startsWith('report: ')).join('\n');
  return { ...result, text: `${text}\n${speedupMeaning(result.report)}\n${where}`, repo, kept };
}

/** The headline number in one sentence, so nobody reads it as more than it is. */
export function speedupMeaning(report: RunPlanResult['report']): string {
  const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  return `speedup ${report.speedup.toFixed(2)}x: ${report.agents} agents did ${seconds(report.work_ms)} of agent work in ${seconds(report.makespan_ms)} of wall time (1.00x = one agent working without a pause; orchestration and idle time count against it).`;
}
