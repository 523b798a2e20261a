import { existsSync } from 'node:fs';
import { CliError } from '../errors.ts';
import { runGit, gitOutput } from '../repo/run-git.ts';
import { readWorktreeRecord } from './worktree-registry.ts';
import { identityFallback } from './worktree-state.ts';

/**
 * Commits everything left in a task's worktree and returns the branch head. Agents inside Claude
 * Code cannot run `cd <worktree> && git commit` (the host refuses to change directory before a
 * git call, and its permission rules would need a broad Bash grant); letting the CLI commit keeps
 * their tools narrowed to `parallel-agents` and makes the evidence the exact branch head.
 */
export function commitTaskWorktree(storeDir: string, taskId: string, message: string): string {
  const record = readWorktreeRecord(storeDir, taskId);
  if (!record) {
    throw new CliError('E_EVIDENCE', `task ${taskId} has no worktree; commit your work yourself and pass --commit <sha> (or create one with parallel-agents worktree add --task ${taskId})`);
  }
  if (!existsSync(record.path)) {
    throw new CliError('E_EVIDENCE', `the worktree of task ${taskId} is gone (${record.path}); run parallel-agents worktree prune and add it again`);
  }
  runGit(['add', '--all', '--', '.'], { cwd: record.path });
  // Exit 1 = nothing to commit: the agent committed everything itself.
  runGit(['commit', '--quiet', '--no-verify', '-m', message], { cwd: record.path, env: identityFallback(record.path), okExitCodes: [1] });
  return gitOutput(['rev-parse', '--verify', 'HEAD'], { cwd: record.path });
}
