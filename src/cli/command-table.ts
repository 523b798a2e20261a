import type { CommandModule } from './command.ts';

interface CommandEntry {
  summary: string;
  load: () => Promise<{ command: CommandModule }>;
}

// Modules load lazily so a call pays only for the command it runs (start-up is a hot path:
// agents and hooks call the CLI many times per task).
export const COMMANDS: Record<string, CommandEntry> = {
  init: { summary: 'create the _tasks/ store and hide it from git', load: () => import('./commands/init.ts') },
  add: { summary: 'add one task to available/', load: () => import('./commands/add.ts') },
  claim: { summary: 'atomically claim one claimable task', load: () => import('./commands/claim.ts') },
  heartbeat: { summary: 'renew the lease on a claimed task', load: () => import('./commands/heartbeat.ts') },
  complete: { summary: 'finish a claimed task with its evidence', load: () => import('./commands/complete.ts') },
  fail: { summary: 'give up a claimed task with a reason (counts an attempt)', load: () => import('./commands/fail.ts') },
  release: { summary: 'give a claimed task back without penalty', load: () => import('./commands/release.ts') },
  recover: { summary: 'take back stale claims and finish interrupted transitions', load: () => import('./commands/recover.ts') },
  status: { summary: 'progress: N completed / M total, one row per task', load: () => import('./commands/status.ts') },
  show: { summary: 'print one task with its state and record', load: () => import('./commands/show.ts') },
  'plan check': { summary: 'classify a plan: edges, waves, critical path, agents', load: () => import('./commands/plan-check.ts') },
  'plan publish': { summary: 'write a checked plan into _tasks/available/', load: () => import('./commands/plan-publish.ts') },
  'plan schema': { summary: 'print the JSON Schema of plan files, for editors', load: () => import('./commands/plan-schema.ts') },
  'batch units': { summary: 'split files matching globs into independent units (and write a plan with one task per unit)', load: () => import('./commands/batch-units.ts') },
  'worktree add': { summary: 'create a worktree and branch for a task', load: () => import('./commands/worktree-add.ts') },
  'worktree list': { summary: 'list task worktrees', load: () => import('./commands/worktree-list.ts') },
  'worktree remove': { summary: 'remove a task worktree without losing work', load: () => import('./commands/worktree-remove.ts') },
  'worktree prune': { summary: 'forget worktrees whose folders are gone', load: () => import('./commands/worktree-prune.ts') },
  setup: { summary: 'show (and with --write add) the Claude Code permissions an unattended run needs', load: () => import('./commands/setup.ts') },
  check: { summary: 'run the task\'s declared check in its worktree, with the worktree\'s ports', load: () => import('./commands/check.ts') },
  verify: { summary: 'check ownership and conflicts, merge completed branches behind a test gate', load: () => import('./commands/verify.ts') },
  run: { summary: 'run a plan headless with N agents, then verify', load: () => import('./commands/run.ts') },
  demo: { summary: 'run a sample project end to end with the built-in scripted agent', load: () => import('./commands/demo.ts') },
  hook: { summary: 'Claude Code hook handlers (reads the hook payload on stdin)', load: () => import('./commands/hook.ts') },
};

export const COMMAND_GROUPS = new Set(['plan', 'worktree', 'batch']);
