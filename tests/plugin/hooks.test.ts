// The hook handlers as Claude Code runs them: the bundled CLI, a payload on stdin, a real store in a
// real repository. Payload shapes follow what 2.1.197 sends (agent_id only inside subagents).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { claimAgentNames } from '../../src/hooks/claim-call.ts';
import { TaskStore } from '../../src/store/task-store.ts';
import { buildTestPlugin } from '../helpers/claude-code.ts';
import { git, gitRepo } from '../helpers/git-repo.ts';
import { runCli } from '../helpers/run-cli.ts';

function hook(event: string, repo: string, payload: Record<string, unknown>) {
  return runCli(['hook', event], { cwd: repo, input: JSON.stringify({ session_id: 'sess-1', cwd: repo, ...payload }) });
}

function preBash(repo: string, agentId: string, command: string) {
  return hook('pre-tool-use', repo, { hook_event_name: 'PreToolUse', agent_id: agentId, agent_type: 'parallel:backend-developer', tool_name: 'Bash', tool_input: { command } });
}

function preWrite(repo: string, agentId: string | undefined, filePath: string) {
  return hook('pre-tool-use', repo, {
    hook_event_name: 'PreToolUse',
    ...(agentId ? { agent_id: agentId, agent_type: 'parallel:backend-developer' } : {}),
    tool_name: 'Write',
    tool_input: { file_path: filePath, content: 'x' },
  });
}

function denial(run: { stdout: string }): string | undefined {
  if (run.stdout.trim() === '') return undefined;
  const output = JSON.parse(run.stdout);
  expect(output.hookSpecificOutput.permissionDecision).toBe('deny');
  return output.hookSpecificOutput.permissionDecisionReason as string;
}

/** A repo with a store holding api (src/api/**) and ui (src/ui/**), api claimed by backend-1. */
function runWithClaim(): string {
  const repo = gitRepo({ 'README.md': '# t\n', 'src/api/a.ts': 'export {}\n' });
  // The store is set up in-process (fast); the hooks themselves always run as the real CLI.
  const store = TaskStore.open({ cwd: repo });
  store.init();
  store.add({ id: 'api', title: 'API', role: 'backend-developer', files: ['src/api/**'] });
  store.add({ id: 'ui', title: 'UI', role: 'frontend-designer', files: ['src/ui/**'] });
  expect(preBash(repo, 'agent-a', 'cd /x && parallel-agents claim --agent backend-1 --role backend-developer --json').exitCode).toBe(0);
  expect(store.claimSync({ agent: 'backend-1', role: 'backend-developer' }).task.id).toBe('api');
  return repo;
}

describe('claimAgentNames', () => {
  it.each([
    ['parallel-agents claim --agent backend-1 --role backend-developer --json', ['backend-1']],
    ['cd "/a b" && parallel-agents claim --agent=qa-2', ['qa-2']],
    ["/p/bin/parallel-agents claim --role x --agent 'front 1'", ['front 1']],
    ['parallel-agents status --json && parallel-agents claim --agent a1; echo --agent nope', ['a1']],
    ['parallel-agents claim --agent "$AGENT"', []],
    ['echo parallel-agents claim --agent x', []],
    ['parallel-agents complete --agent backend-1 --task api', []],
    ['PARALLEL_AGENTS_DEBUG=1 parallel-agents claim --agent a2 --json', ['a2']],
    ['timeout 60 parallel-agents claim --agent t1', ['t1']],
    ['env X=1 parallel-agents claim --agent e1', ['e1']],
    ['node /p/bin/parallel-agents claim --agent n1', ['n1']],
    ['FOO=1 echo parallel-agents claim --agent no', []],
  ])('%s', (command, names) => {
    expect(claimAgentNames(command)).toEqual(names);
  });
});

describe('hook pre-tool-use', () => {
  it('lets a claimed agent edit inside its scope and denies outside it, with a fix to act on', () => {
    const repo = runWithClaim();
    expect(denial(preWrite(repo, 'agent-a', join(repo, 'src/api/new.ts')))).toBeUndefined();
    const reason = denial(preWrite(repo, 'agent-a', join(repo, 'src/ui/page.ts')));
    expect(reason).toMatch(/src\/ui\/page\.ts is outside the write scope of the task you hold \(api: src\/api\/\*\*\)/);
    expect(reason).toMatch(/parallel-agents fail --agent backend-1 --task api/);
    expect(denial(preWrite(repo, 'agent-a', '/etc/passwd'))).toMatch(/outside this repository/);
  });

  it('denies an edit in another checkout than the task worktree', () => {
    const repo = runWithClaim();
    const added = runCli(['worktree', 'add', '--task', 'api', '--json'], { cwd: repo });
    expect(added.exitCode, added.stderr).toBe(0);
    const worktree = added.json.path as string;
    expect(denial(preWrite(repo, 'agent-a', join(worktree, 'src/api/x.ts')))).toBeUndefined();
    expect(denial(preWrite(repo, 'agent-a', join(repo, 'src/api/x.ts')))).toMatch(/not in the worktree of task api/);
  });

  it('leaves sessions that never claimed alone: the main thread and agents used directly', () => {
    const repo = runWithClaim();
    expect(denial(preWrite(repo, undefined, join(repo, 'anything.ts')))).toBeUndefined();
    expect(denial(preWrite(repo, 'agent-never-claimed', join(repo, 'anything.ts')))).toBeUndefined();
  });

  it('denies edits once the agent holds nothing, and a second live agent claiming under the same name', async () => {
    const repo = runWithClaim();
    await TaskStore.open({ cwd: repo }).complete({ agent: 'backend-1', task: 'api' });
    expect(denial(preWrite(repo, 'agent-a', join(repo, 'src/api/a.ts')))).toMatch(/hold no task/);
    expect(denial(preBash(repo, 'agent-b', 'parallel-agents claim --agent backend-1'))).toMatch(/already used by another running agent/);
    expect(denial(preBash(repo, 'agent-a', 'parallel-agents claim --agent other-name'))).toMatch(/keep using --agent backend-1/);
    // Finished: claiming the next task is allowed again.
    expect(denial(preBash(repo, 'agent-a', 'parallel-agents claim --agent backend-1 --json'))).toBeUndefined();
  });

  it('keeps an agent that never claimed out of work another agent holds, and lets it work elsewhere', () => {
    const repo = runWithClaim();
    const reason = denial(preWrite(repo, 'agent-z', join(repo, 'src', 'api', 'b.ts')));
    expect(reason).toMatch(/belongs to task api, which agent backend-1 holds right now/);
    expect(denial(preWrite(repo, 'agent-z', join(repo, 'docs', 'notes.md')))).toBeUndefined();
    // The main conversation (no agent_id) is never restricted.
    expect(denial(preWrite(repo, undefined, join(repo, 'src', 'api', 'b.ts')))).toBeUndefined();
  });

  it('denies a second claim while the agent still holds an unfinished task', () => {
    const repo = runWithClaim();
    const reason = denial(preBash(repo, 'agent-a', 'parallel-agents claim --agent backend-1 --role backend-developer --json'));
    expect(reason).toMatch(/finish what you hold before claiming again: you \(agent "backend-1"\) still hold api/);
    expect(reason).toMatch(/parallel-agents complete --agent backend-1 --task api/);
  });

  it('does nothing without a store', () => {
    const repo = gitRepo();
    const run = preBash(repo, 'agent-a', 'parallel-agents claim --agent a');
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe('');
    expect(existsSync(join(repo, '_tasks'))).toBe(false);
  });
});

describe('hook subagent-stop', () => {
  it('sends a subagent that stops holding a claim back once, then fails the claim with a reason naming it', () => {
    const repo = runWithClaim();
    const stop = { hook_event_name: 'SubagentStop', agent_id: 'agent-a', agent_type: 'parallel:backend-developer', last_assistant_message: 'I give up' };
    const first = hook('subagent-stop', repo, stop);
    expect(first.exitCode).toBe(0);
    const decision = JSON.parse(first.stdout);
    expect(decision.decision).toBe('block');
    expect(decision.reason).toMatch(/you still hold api\. Finish each claim before you stop.*parallel-agents complete --agent backend-1 --task api/);
    expect(TaskStore.open({ cwd: repo }).get('api')!.state).toBe('claimed');

    const second = hook('subagent-stop', repo, { ...stop, stop_hook_active: true });
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toBe('');
    const task = TaskStore.open({ cwd: repo }).get('api')!;
    expect(task.state).toBe('failed');
    expect(task.attempts).toBe(1);
    expect(task.last_error).toMatch(/agent backend-1 \(parallel:backend-developer agent-a\) stopped while still holding this task, without complete or fail, even after a reminder.*I give up/);
    expect(existsSync(join(repo, '_tasks', 'subagents', 'agent-a.json'))).toBe(false);
    const events = readFileSync(join(repo, '_tasks', 'events.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(events.filter((event) => event.event === 'fail').map((event) => event.task)).toEqual(['api']);
  });

  it('never reminds twice, even when the host does not report stop_hook_active', () => {
    const repo = runWithClaim();
    const stop = { hook_event_name: 'SubagentStop', agent_id: 'agent-a' };
    expect(JSON.parse(hook('subagent-stop', repo, stop).stdout).decision).toBe('block');
    expect(hook('subagent-stop', repo, stop).stdout).toBe('');
    expect(TaskStore.open({ cwd: repo }).get('api')!.state).toBe('failed');
  });

  it('reminds again about a task claimed after an earlier reminder', async () => {
    const repo = runWithClaim();
    const stop = { hook_event_name: 'SubagentStop', agent_id: 'agent-a' };
    expect(JSON.parse(hook('subagent-stop', repo, stop).stdout).reason).toMatch(/you still hold api\./);
    const store = TaskStore.open({ cwd: repo });
    await store.complete({ agent: 'backend-1', task: 'api' });
    store.claimSync({ agent: 'backend-1', task: 'ui' });
    const again = JSON.parse(hook('subagent-stop', repo, stop).stdout);
    expect(again.decision).toBe('block');
    expect(again.reason).toMatch(/you still hold ui\..*--commit-worktree/);
    expect(TaskStore.open({ cwd: repo }).get('ui')!.state).toBe('claimed');
  });

  it('leaves a subagent that finished its claim alone', async () => {
    const repo = runWithClaim();
    await TaskStore.open({ cwd: repo }).complete({ agent: 'backend-1', task: 'api' });
    expect(hook('subagent-stop', repo, { hook_event_name: 'SubagentStop', agent_id: 'agent-a' }).exitCode).toBe(0);
    expect(git(repo, 'status', '--porcelain')).toBe('');
    expect(TaskStore.open({ cwd: repo }).get('api')!.state).toBe('completed');
  });
});

describe('hooks fail open', () => {
  it.each([
    ['pre-tool-use', 'not json'],
    ['subagent-stop', '{"agent_id": 42}'],
    ['no-such-event', '{}'],
  ])('%s with %s exits 0 with no decision', (event, input) => {
    const repo = gitRepo();
    const run = runCli(['hook', event], { cwd: repo, input });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe('');
  });
});

describe('hooks/run-hook.cjs (the entry hooks.json runs)', () => {
  function entry(plugin: string, event: string, payload: Record<string, unknown>) {
    const result = spawnSync(process.execPath, [join(plugin, 'hooks', 'run-hook.cjs'), event], { input: JSON.stringify(payload), encoding: 'utf8' });
    return { exitCode: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  it('skips loading the CLI when there is nothing to check, and fails open when the CLI is missing', () => {
    const plugin = buildTestPlugin();
    rmSync(join(plugin, 'dist'), { recursive: true });
    const repo = gitRepo();
    const mainThread = entry(plugin, 'pre-tool-use', { cwd: repo, tool_name: 'Write', tool_input: { file_path: join(repo, 'x') } });
    const plainBash = entry(plugin, 'pre-tool-use', { cwd: repo, agent_id: 'a1', tool_name: 'Bash', tool_input: { command: 'git status' } });
    for (const run of [mainThread, plainBash]) expect(run).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    const guarded = entry(plugin, 'pre-tool-use', { cwd: repo, agent_id: 'a1', tool_name: 'Write', tool_input: { file_path: join(repo, 'x') } });
    expect(guarded.exitCode).toBe(0);
    expect(guarded.stdout).toBe('');
    expect(guarded.stderr).toMatch(/cannot run the CLI.*fail open/);
  });

  it('hands the payload it read to the CLI', () => {
    const plugin = buildTestPlugin();
    const repo = runWithClaim();
    const run = entry(plugin, 'pre-tool-use', { session_id: 'sess-1', cwd: repo, agent_id: 'agent-a', tool_name: 'Write', tool_input: { file_path: join(repo, 'src/ui/x.ts') } });
    expect(run.exitCode).toBe(0);
    expect(denial(run)).toMatch(/outside the write scope of the task you hold \(api: src\/api\/\*\*\)/);
    const stop = entry(plugin, 'subagent-stop', { session_id: 'sess-1', cwd: repo, agent_id: 'agent-a', stop_hook_active: true });
    expect(stop.exitCode).toBe(0);
    expect(TaskStore.open({ cwd: repo }).get('api')!.state).toBe('failed');
  });
});
