import type { Task } from '../store/backend.ts';
import { sparseNote } from '../git/worktree-sparse.ts';
import { EXIT_STATUS_INSTRUCTIONS } from './adapters/agent-adapter.ts';
import type { PreparedWorkspace } from './task-workspace.ts';

// What an agent is told: the task, where it works, what it may change, where the rest of the
// repository is when its worktree is scoped, and how to say it finished.

export function agentName(slot: number): string {
  return `agent-${slot}`;
}

export function buildPrompt(task: Task, workspace: PreparedWorkspace, finishInstructions = EXIT_STATUS_INSTRUCTIONS): string {
  const scope = task.files.length > 0 ? task.files.join(', ') : '(no declared scope: keep changes minimal)';
  return [
    `# Task ${task.id}: ${task.title}`,
    '',
    task.body.trim(),
    '',
    '---',
    `You are working in a git worktree at ${workspace.path} on branch ${workspace.branch}.`,
    'It is your current directory: run every command there, without cd.',
    ...(workspace.sparse ? [sparseNote(workspace.sparse, workspace.mainCheckout)] : []),
    `Only change files in this task's write scope: ${scope}.`,
    ...(task.last_error ? [`The previous attempt did not succeed: ${task.last_error}`] : []),
    'Commit your work when done (anything left uncommitted is committed for you).',
    finishInstructions,
    '',
  ].join('\n');
}
