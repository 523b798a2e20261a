import { CliError } from '../errors.ts';
import { describeProcess } from '../process/liveness.ts';
import { runShell, tailOf } from '../process/run-shell.ts';
import { PROJECT_CONFIG_FILE, readProjectConfig, type ProjectConfig } from '../repo/project-config.ts';
import { formatDuration } from '../text/duration.ts';
import { leasePorts, type PortBlock } from './port-leases.ts';
import type { RepoContext } from './repo-context.ts';
import { copyWorktreeIncludes } from './worktree-include.ts';

// A new worktree is made ready to work in, in the order a person would do it by hand: the ignored
// files it needs (.worktreeinclude), its own ports, then the project's set-up command with those
// ports in its environment. Task worktrees and verify's test worktree go through the same steps.

export const SETUP_OUTPUT_TAIL_LINES = 20;

export interface WorktreeTarget {
  path: string;
  task?: string | undefined;
  /** Verify's test worktree: it lives only as long as this process, and so do its ports. */
  scratch?: boolean | undefined;
  /** Stops the set-up command when it fires (the run was interrupted). */
  signal?: AbortSignal | undefined;
}

/** What the worktree record keeps about its preparation. */
export interface PreparedFields {
  ports?: PortBlock | undefined;
  prepared?: { copied: number; skipped?: { path: string; reason: string }[] | undefined; setup?: string | undefined; setup_ms?: number | undefined } | undefined;
}

export interface PreparedWorktree {
  ports: PortBlock | undefined;
  copied: string[];
  skipped: { path: string; reason: string }[];
  setup: { command: string; duration_ms: number } | undefined;
  /** The environment the set-up ran with; checks and agents in this worktree get the same. */
  env: Record<string, string>;
  /** The fields to store in the worktree record. */
  record: PreparedFields;
}

/** The one place the per-worktree variables are named: set-up, checks, verify's tests and runner agents read them. */
export function worktreeEnvironment(repoRoot: string, worktree: { path: string; task?: string | undefined; ports?: PortBlock | undefined }): Record<string, string> {
  return {
    PARALLEL_MAIN_WORKTREE: repoRoot,
    PARALLEL_WORKTREE: worktree.path,
    ...(worktree.task ? { PARALLEL_TASK_ID: worktree.task } : {}),
    ...portEnvironment(worktree.ports),
  };
}

export function portEnvironment(ports: PortBlock | undefined): Record<string, string> {
  return ports ? { PARALLEL_PORT: String(ports.from), PARALLEL_PORT_COUNT: String(ports.count) } : {};
}

/**
 * The ports of an existing worktree: those its record names, or, for a worktree made before the
 * project declared ports, a lease taken now.
 */
export async function worktreePorts(context: RepoContext, worktree: { path: string; task?: string | undefined; ports?: PortBlock | undefined }, config: ProjectConfig = readProjectConfig(context.repoRoot)): Promise<PortBlock | undefined> {
  if (worktree.ports) return worktree.ports;
  if (!config.ports) return undefined;
  return leasePorts(context, { path: worktree.path, task: worktree.task, range: config.ports });
}

/** Copies the .worktreeinclude files, leases ports, runs the set-up command. Call once the files are checked out. */
export async function prepareWorktree(context: RepoContext, target: WorktreeTarget): Promise<PreparedWorktree> {
  const config = readProjectConfig(context.repoRoot);
  const { copied, skipped } = copyWorktreeIncludes(context.repoRoot, target.path);
  const ports = config.ports
    ? await leasePorts(context, { path: target.path, task: target.task, range: config.ports, holder: target.scratch ? describeProcess(process.pid) : undefined })
    : undefined;
  const env = worktreeEnvironment(context.repoRoot, { path: target.path, task: target.task, ports });
  let setup: PreparedWorktree['setup'];
  if (config.setup) {
    const run = await runShell(config.setup, { cwd: target.path, env, timeoutMs: config.setupTimeoutMs, signal: target.signal });
    if (run.interrupted) {
      throw new CliError('E_INTERRUPTED', `the set-up command of ${PROJECT_CONFIG_FILE} was stopped in ${target.path}: interrupted`, { path: target.path });
    }
    if (run.exitCode !== 0) {
      const how = run.timedOut ? `timed out after ${formatDuration(config.setupTimeoutMs)}` : `exit ${run.exitCode}`;
      const last = tailOf(run.output, 1).trim();
      const retry = target.task ? `"parallel-agents worktree add --task ${target.task}" again (it sets up the same worktree once more)` : 'again';
      throw new CliError('E_SETUP', `the set-up command of ${PROJECT_CONFIG_FILE} ("${config.setup}") failed in ${target.path} (${how})${last ? `: ${last}` : ''}; fix the project or the "setup" field, then run ${retry}`, {
        path: target.path,
        exit_code: run.exitCode,
        output_tail: tailOf(run.output, SETUP_OUTPUT_TAIL_LINES),
      });
    }
    setup = { command: config.setup, duration_ms: run.durationMs };
  }
  const record: PreparedFields = {};
  if (ports) record.ports = ports;
  if (copied.length > 0 || skipped.length > 0 || setup) {
    record.prepared = { copied: copied.length, ...(skipped.length > 0 ? { skipped } : {}), ...(setup ? { setup: setup.command, setup_ms: setup.duration_ms } : {}) };
  }
  return { ports, copied, skipped, setup, env, record };
}
