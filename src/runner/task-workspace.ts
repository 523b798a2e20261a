import { addWorktree } from '../git/worktree.ts';
import { readWorktreeRecord } from '../git/worktree-registry.ts';
import type { RepoContext } from '../git/repo-context.ts';
import { gitOutput, runGit } from '../git/run-git.ts';
import { identityFallback, uncommittedPaths } from '../git/worktree-state.ts';

// Where an attempt runs and how its result becomes a commit. One worktree per task (not per agent
// slot): a retry, or a resumed run, continues from what the earlier attempt left on the branch.

export interface PreparedWorkspace {
  path: string;
  branch: string;
  /** Commit the task's branch started from. */
  base: string;
}

export interface TaskWorkspace {
  prepare(taskId: string): Promise<PreparedWorkspace>;
  /** Commits whatever the agent left uncommitted; returns the branch head afterwards. */
  commitLeftovers(workspace: PreparedWorkspace, message: string): string;
}

export function gitTaskWorkspace(context: RepoContext, base?: string): TaskWorkspace {
  return {
    async prepare(taskId) {
      const record = readWorktreeRecord(context.storeDir, taskId) ?? (await addWorktree(context, { taskId, base }));
      return { path: record.path, branch: record.branch, base: record.base };
    },
    commitLeftovers(workspace, message) {
      if (uncommittedPaths(workspace.path).length > 0) {
        runGit(['add', '--all', '--', '.'], { cwd: workspace.path });
        // The agent's own hooks already had their chance on its commits; verify runs the tests.
        runGit(['commit', '--quiet', '--no-verify', '-m', message], { cwd: workspace.path, env: identityFallback(workspace.path) });
      }
      return gitOutput(['rev-parse', '--verify', 'HEAD'], { cwd: workspace.path });
    },
  };
}
