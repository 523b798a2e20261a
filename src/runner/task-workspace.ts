import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../errors.ts';
import { addWorktree } from '../git/worktree.ts';
import { readWorktreeRecord } from '../git/worktree-registry.ts';
import type { RepoContext } from '../git/repo-context.ts';
import { runGitAsync } from '../repo/run-git.ts';
import { stackedBase } from '../git/stacked-base.ts';
import { identityFallback } from '../git/worktree-state.ts';
import type { PortBlock } from '../git/port-leases.ts';

// Where an attempt runs and how its result becomes a commit. One worktree per task (not per agent
// slot): a retry, or a resumed run, continues from what the earlier attempt left on the branch.
// A dependent task starts from its dependencies' commits, not from the run's base: it builds on
// their work, and verify later merges the stacked branches in dependency order without conflict.

export interface PreparedWorkspace {
  path: string;
  branch: string;
  /** Commit the task's branch started from. */
  base: string;
  /** The worktree's own ports, when the project declares ports (.parallel-agents.json). */
  ports?: PortBlock | undefined;
}

export interface TaskWorkspace {
  /** `dependencyCommits`: the evidence commits of the task's (completed) dependencies. */
  prepare(taskId: string, dependencyCommits: readonly string[]): Promise<PreparedWorkspace>;
  /** Commits whatever the agent left uncommitted; returns the branch head afterwards. */
  commitLeftovers(workspace: PreparedWorkspace, message: string): Promise<string>;
}

/**
 * The branch head straight from its loose ref file, which a commit has just written: one git
 * process fewer per task. Anything unusual (packed refs, reftable, a symbolic ref) falls back to
 * `git rev-parse`.
 */
function readLooseRef(gitCommonDir: string, branch: string): string | undefined {
  try {
    const value = readFileSync(join(gitCommonDir, 'refs', 'heads', ...branch.split('/')), 'utf8').trim();
    return /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export function gitTaskWorkspace(context: RepoContext, runBase: string): TaskWorkspace {
  let identity: NodeJS.ProcessEnv | undefined;
  return {
    async prepare(taskId, dependencyCommits) {
      const existing = readWorktreeRecord(context.storeDir, taskId);
      if (existing) return { path: existing.path, branch: existing.branch, base: existing.base, ports: existing.ports };
      const base = stackedBase(context.repoRoot, runBase, dependencyCommits);
      const record = await addWorktree(context, { taskId, base });
      return { path: record.path, branch: record.branch, base: record.base, ports: record.ports };
    },
    async commitLeftovers(workspace, message) {
      // Asynchronous on purpose: several agents finish at once, and a blocking git call here would
      // hold up every other agent's bookkeeping (and the heartbeats) for its whole duration.
      identity ??= identityFallback(context.repoRoot);
      await runGitAsync(['add', '--all', '--', '.'], { cwd: workspace.path });
      // Exit 1 = nothing to commit: the agent committed everything itself.
      // The agent's own hooks already had their chance on its commits; verify runs the tests.
      await runGitAsync(['commit', '--quiet', '--no-verify', '-m', message], { cwd: workspace.path, env: identity, okExitCodes: [1] });
      return readLooseRef(context.gitCommonDir, workspace.branch) ?? (await runGitAsync(['rev-parse', '--verify', 'HEAD'], { cwd: workspace.path })).stdout.trim();
    },
  };
}
