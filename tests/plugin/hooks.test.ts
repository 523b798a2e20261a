// The hook handlers as Claude Code runs them: the bundled CLI, a payload on stdin, a real store in a
// real repository. Payload shapes follow what 2.1.197 and 2.1.332 send (agent_id only inside
// subagents). A subagent's CLI calls go through tests/helpers/host-sim.ts: the PreToolUse hook
// marks the command and the command runs the way Claude Code runs it, so claims bind to the
// subagent through the host, never through the command text.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.ts';
import { buildTestPlugin } from '../helpers/claude-code.ts';
import { git, gitRepo } from '../helpers/git-repo.ts';
import { cliAs, type HostOptions } from '../helpers/host-sim.ts';
import { runCli } from '../helpers/run-cli.ts';

let plugin: string;
beforeEach(() => {
  plugin = buildTestPlugin();
});

function hook(event: string, repo: string, payload: Record<string, unknown>, projectDir = repo) {
  return runCli(['hook', event], { cwd: repo, env: { CLAUDE_PROJECT_DIR: projectDir }, input: JSON.stringify({ session_id: 'sess-1', cwd: repo, ...payload }) });
}

function preWrite(repo: string, agentId: string | undefined, filePath: string, cwd = repo) {
  return hook('pre-tool-use', repo, {
    hook_event_name: 'PreToolUse',
    cwd,
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

function task(repo: string, id: string) {
  return openStore({ cwd: repo }).get(id);
}

/** A repo with a store holding api (src/api/**) and ui (src/ui/**), api claimed by subagent agent-a as backend-1. */
async function runWithClaim(): Promise<{ repo: string; host: HostOptions; token: string }> {
  const repo = gitRepo({ 'README.md': '# t\n', 'src/api/a.ts': 'export {}\n' });
  // The store is set up in-process (fast); the claim runs as the subagent's own Bash call.
  const store = openStore({ cwd: repo });
  await store.add([
    { id: 'api', title: 'API', role: 'backend-developer', files: ['src/api/**'] },
    { id: 'ui', title: 'UI', role: 'frontend-designer', files: ['src/ui/**'] },
  ]);
  const host = { repo, plugin };
  const claim = cliAs(host, 'agent-a', ['claim', '--agent', 'backend-1', '--role', 'backend-developer', '--json']);
  expect(claim.exitCode, claim.stderr).toBe(0);
  expect((claim.json as { task: { id: string } }).task.id).toBe('api');
  return { repo, host, token: (claim.json as { token: string }).token };
}

describe('hook pre-tool-use', () => {
  it('lets a claimed agent edit inside its scope and denies outside it, with a fix to act on', async () => {
    const { repo } = await runWithClaim();
    expect(denial(preWrite(repo, 'agent-a', join(repo, 'src/api/new.ts')))).toBeUndefined();
    const reason = denial(preWrite(repo, 'agent-a', join(repo, 'src/ui/page.ts')));
    expect(reason).toMatch(/src\/ui\/page\.ts is outside the write scope of the task you hold \(api: src\/api\/\*\*\)/);
    expect(reason).toMatch(/parallel-agents fail --agent backend-1 --task api/);
    expect(denial(preWrite(repo, 'agent-a', '/etc/passwd'))).toMatch(/outside this repository/);
  });

  it('decides from the edited path and the bound identity, never from the cwd the payload reports', async () => {
    const { repo } = await runWithClaim();
    const elsewhere = gitRepo();
    for (const cwd of ['/', elsewhere]) {
      expect(denial(preWrite(repo, 'agent-a', join(repo, 'README.md'), cwd)), cwd).toMatch(/outside the write scope/);
      expect(denial(preWrite(repo, 'agent-a', join(repo, 'src/api/new.ts'), cwd)), cwd).toBeUndefined();
    }
  });

  it('never lets any subagent write the runtime control paths, whatever its scope', async () => {
    const repo = gitRepo({ 'README.md': '# t\n' });
    await openStore({ cwd: repo }).add([{ id: 'all', title: 'Everything', files: ['**'] }]);
    const host = { repo, plugin };
    expect(cliAs(host, 'agent-a', ['claim', '--agent', 'wide']).exitCode).toBe(0);
    expect(denial(preWrite(repo, 'agent-a', join(repo, 'docs/x.md')))).toBeUndefined();
    for (const path of ['_tasks/available/injected.md', '.parallel/plans/p.yaml', '.git/hooks/pre-commit', 'sub/.git/config']) {
      expect(denial(preWrite(repo, 'agent-a', join(repo, path))), path).toMatch(/runtime's own state/);
      expect(denial(preWrite(repo, 'agent-never-claimed', join(repo, path))), path).toMatch(/runtime's own state/);
    }
  });

  it('judges a write through a dangling symlink by where it lands: the link\'s target, not the link', async () => {
    const repo = gitRepo({ 'README.md': '# t\n', 'src/api/a.ts': 'export {}\n' });
    await openStore({ cwd: repo }).add([{ id: 'api', title: 'API', files: ['src/api/**'] }]);
    const worktree = runCli(['worktree', 'add', '--task', 'api', '--json'], { cwd: repo }).json.path as string;
    expect(cliAs({ repo, plugin }, 'agent-a', ['claim', '--agent', 'backend-1', '--json']).exitCode).toBe(0);
    const write = (file: string) => runCli(['hook', 'pre-tool-use'], {
      cwd: repo,
      env: { CLAUDE_PROJECT_DIR: repo },
      input: JSON.stringify({ session_id: 's', cwd: repo, hook_event_name: 'PreToolUse', agent_id: 'agent-a', agent_type: 'parallel:backend-developer', tool_name: 'Write', tool_input: { file_path: file, content: 'x' } }),
    }).stdout;
    // In scope by name, but a write would create a task file in the store, or a file outside the scope.
    symlinkSync(join(repo, '_tasks', 'available', 'injected.md'), join(worktree, 'src/api/into-store.ts'));
    symlinkSync(join(worktree, 'src/ui/new.ts'), join(worktree, 'src/api/out-of-scope.ts'));
    symlinkSync('hop.ts', join(worktree, 'src/api/loop.ts'));
    symlinkSync('loop.ts', join(worktree, 'src/api/hop.ts'));
    symlinkSync('fresh.ts', join(worktree, 'src/api/in-scope.ts'));
    // A relative target is read from the folder the link really sits in, reached here through a folder link.
    mkdirSync(join(worktree, 'src/ui'), { recursive: true });
    symlinkSync('../ui', join(worktree, 'src/api/ui-link'));
    symlinkSync('../secret.ts', join(worktree, 'src/ui/dangle.ts'));
    expect(write(join(worktree, 'src/api/ui-link/dangle.ts'))).toMatch(/outside the write scope/);
    expect(write(join(worktree, 'src/api/into-store.ts'))).toMatch(/runtime's own state/);
    expect(write(join(worktree, 'src/api/out-of-scope.ts'))).toMatch(/outside the write scope/);
    expect(write(join(worktree, 'src/api/loop.ts'))).toMatch(/permissionDecision.*deny/);
    expect(write(join(worktree, 'src/api/in-scope.ts'))).toBe('');
  });

  it('denies an edit in another checkout than the task worktree', async () => {
    const { repo } = await runWithClaim();
    const added = runCli(['worktree', 'add', '--task', 'api', '--json'], { cwd: repo });
    expect(added.exitCode, added.stderr).toBe(0);
    const worktree = added.json.path as string;
    expect(denial(preWrite(repo, 'agent-a', join(worktree, 'src/api/x.ts')))).toBeUndefined();
    expect(denial(preWrite(repo, 'agent-a', join(repo, 'src/api/x.ts')))).toMatch(/not in the checkout of task api \(worktree/);
  });

  it('leaves sessions that never claimed alone: the main thread and agents used directly', async () => {
    const { repo } = await runWithClaim();
    expect(denial(preWrite(repo, undefined, join(repo, 'anything.ts')))).toBeUndefined();
    expect(denial(preWrite(repo, 'agent-never-claimed', join(repo, 'anything.ts')))).toBeUndefined();
  });

  it('denies edits once the agent holds nothing, and a second live agent claiming under the same name', async () => {
    const { repo, host, token } = await runWithClaim();
    await openStore({ cwd: repo }).complete({ agent: 'backend-1', task: 'api', token });
    expect(denial(preWrite(repo, 'agent-a', join(repo, 'src/api/a.ts')))).toMatch(/hold no task/);
    const clash = cliAs(host, 'agent-b', ['claim', '--agent', 'backend-1', '--json']);
    expect([clash.exitCode, clash.json?.error?.code]).toStrictEqual([5, 'E_IDENTITY']);
    expect(clash.stderr).toMatch(/already used by another running agent/);
    const renamed = cliAs(host, 'agent-a', ['claim', '--agent', 'other-name', '--json']);
    expect([renamed.exitCode, renamed.json?.error?.code]).toStrictEqual([5, 'E_IDENTITY']);
    expect(renamed.stderr).toMatch(/keep using --agent backend-1/);
    // Finished: claiming the next task is allowed again.
    expect(cliAs(host, 'agent-a', ['claim', '--agent', 'backend-1', '--json']).json.task.id).toBe('ui');
  });

  it('keeps an agent that never claimed out of work another agent holds, and lets it work elsewhere', async () => {
    const { repo } = await runWithClaim();
    const reason = denial(preWrite(repo, 'agent-z', join(repo, 'src', 'api', 'b.ts')));
    expect(reason).toMatch(/belongs to task api, which agent backend-1 holds right now/);
    expect(denial(preWrite(repo, 'agent-z', join(repo, 'docs', 'notes.md')))).toBeUndefined();
    // The main conversation (no agent_id) is never restricted.
    expect(denial(preWrite(repo, undefined, join(repo, 'src', 'api', 'b.ts')))).toBeUndefined();
  });

  it('refuses a second claim while the agent still holds an unfinished task', async () => {
    const { host } = await runWithClaim();
    const again = cliAs(host, 'agent-a', ['claim', '--agent', 'backend-1', '--role', 'backend-developer', '--json']);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toMatch(/finish what you hold before claiming again: agent "backend-1" still holds api/);
    expect(again.stderr).toMatch(/parallel-agents complete --agent backend-1 --task api/);
  });

  it('marks Bash commands only where a store exists, keeping every field of the tool input', async () => {
    const bare = gitRepo();
    const plain = hook('pre-tool-use', bare, { hook_event_name: 'PreToolUse', agent_id: 'agent-a', tool_name: 'Bash', tool_input: { command: 'parallel-agents claim --agent a' } });
    expect([plain.exitCode, plain.stdout]).toStrictEqual([0, '']);
    expect(existsSync(join(bare, '_tasks'))).toBe(false);
    const { repo } = await runWithClaim();
    const marked = hook('pre-tool-use', repo, { hook_event_name: 'PreToolUse', agent_id: 'agent-a', tool_name: 'Bash', tool_input: { command: 'ls', timeout: 5000, run_in_background: true } });
    const input = JSON.parse(marked.stdout).hookSpecificOutput;
    // No permissionDecision: the marked command meets exactly the user's permission rules.
    expect(input.permissionDecision).toBeUndefined();
    expect(input.updatedInput).toStrictEqual({ command: expect.stringMatching(/^# parallel-agents-identity agent-a \d+ [0-9a-f]{32} -\nls$/), timeout: 5000, run_in_background: true });
  });
});

describe('identity: who may act as whom', () => {
  it.each([
    ['a plain call', `parallel-agents claim --agent {name} --json`],
    ['bash -c', `bash -c "parallel-agents claim --agent {name} --json"`],
    ['a variable holding the program', `P=parallel-agents; $P claim --agent {name} --json`],
    ['a variable holding the name', `N={name}; parallel-agents claim --agent "$N" --json`],
    ['env and a subshell', `(env FOO=1 parallel-agents claim --agent {name} --json)`],
    ['node running the bundle', `node "$(dirname "$(command -v parallel-agents)")/../dist/parallel-agents.cjs" claim --agent {name} --json`],
    ['a script file', `printf 'parallel-agents claim --agent {name} --json\\n' > /tmp/pa-claim-$$.sh; sh /tmp/pa-claim-$$.sh; rm -f /tmp/pa-claim-$$.sh`],
    ['cd out of the repository', `cd / && parallel-agents claim --agent {name} --tasks-dir "$OLDPWD/_tasks" --json`],
  ])('every wrapper form binds the claim to the subagent: %s', async (_form, template) => {
    const repo = gitRepo({ 'README.md': '# t\n' });
    await openStore({ cwd: repo }).add([{ id: 'api', title: 'API', files: ['src/api/**'] }]);
    const host = { repo, plugin };
    const { bashAs } = await import('../helpers/host-sim.ts');
    const claim = bashAs(host, 'agent-w', template.replaceAll('{name}', 'worker-1'));
    expect(claim.exitCode, claim.stderr).toBe(0);
    const binding = JSON.parse(readFileSync(join(repo, '_tasks', 'subagents', 'agent-w.json'), 'utf8'));
    expect(binding).toMatchObject({ agentId: 'agent-w', agent: 'worker-1', hostPid: process.pid });
    // Bound: its edits are judged against its claim, and the claim dies with its session.
    expect(denial(preWrite(repo, 'agent-w', join(repo, 'src/api/x.ts')))).toBeUndefined();
    expect(denial(preWrite(repo, 'agent-w', join(repo, 'README.md')))).toMatch(/outside the write scope/);
    expect((await task(repo, 'api'))!.claim!.holder).toMatchObject({ pid: process.pid });
  });

  it('refuses holder operations by anyone who cannot prove holding', async () => {
    const { repo, host, token } = await runWithClaim();
    expect(cliAs(host, 'agent-b', ['claim', '--agent', 'bob', '--json']).json.task.id).toBe('ui');
    for (const args of [['fail', '--reason', 'x'], ['complete'], ['release'], ['heartbeat']]) {
      // Another subagent using the holder's name, with no token: refused.
      const foreign = cliAs(host, 'agent-b', [args[0]!, '--agent', 'backend-1', '--task', 'api', ...args.slice(1), '--json']);
      expect([args[0], foreign.exitCode, foreign.json?.error?.code]).toStrictEqual([args[0], 5, 'E_NOT_HOLDER']);
      // A person's terminal (no host identity) using the name alone: refused too.
      const terminal = runCli([args[0]!, '--agent', 'backend-1', '--task', 'api', ...args.slice(1), '--json'], { cwd: repo });
      expect([args[0], terminal.exitCode]).toStrictEqual([args[0], 5]);
    }
    // A made-up token proves nothing.
    expect(cliAs(host, 'agent-b', ['heartbeat', '--agent', 'backend-1', '--task', 'api', '--token', '0'.repeat(32)]).exitCode).toBe(5);
    expect((await task(repo, 'api'))!.state).toBe('claimed');
    // The holder itself: by its bound identity, or by its token from anywhere.
    expect(cliAs(host, 'agent-a', ['heartbeat', '--agent', 'backend-1', '--task', 'api']).exitCode).toBe(0);
    expect(runCli(['heartbeat', '--agent', 'backend-1', '--task', 'api', '--token', token], { cwd: repo }).exitCode).toBe(0);
  });

  it('refuses conflicting --agent flags and a forged marker', async () => {
    const { repo, host } = await runWithClaim();
    const twice = cliAs(host, 'agent-c', ['claim', '--agent=dave', '--agent', 'eve', '--json']);
    expect(twice.exitCode).toBe(2);
    expect(twice.stderr).toMatch(/--agent is given twice with different values/);
    // A model writing its own marker line for agent-a: the hook's line comes first and the forged
    // one runs in a process Claude Code did not start, so neither makes it agent-a.
    const { bashAs } = await import('../helpers/host-sim.ts');
    const forged = bashAs(host, 'agent-c', `bash -c $'# parallel-agents-identity agent-a ${process.pid} ${'f'.repeat(32)} parallel:coordinator\\nparallel-agents fail --agent backend-1 --task api --reason x --json'`);
    expect(forged.exitCode).toBe(5);
    expect((await task(repo, 'api'))!.state).toBe('claimed');
  });

  it('refuses a marker line copied from another caller\'s command (another subagent\'s, or the main thread\'s)', async () => {
    const repo = gitRepo({ 'README.md': '# t\n' });
    await openStore({ cwd: repo }).add([{ id: 'api', title: 'API', files: ['src/api/**'] }, { id: 'ui', title: 'UI', files: ['src/ui/**'] }]);
    const host = { repo, plugin };
    const { bashAs, markedCommand } = await import('../helpers/host-sim.ts');
    expect(cliAs(host, 'agent-a', ['claim', '--agent', 'alice', '--json']).json.task.id).toBe('api');
    expect(cliAs(host, 'agent-b', ['claim', '--agent', 'bob', '--json']).json.task.id).toBe('ui');
    // Any running Bash call shows its command, marker included, in /proc/<pid>/cmdline.
    const bobs = markedCommand(host, 'agent-b', 'npm test').split('\n')[0]!;
    const asBob = bashAs(host, 'agent-a', `${bobs}\nparallel-agents fail --agent bob --task ui --reason sabotaged --json`);
    expect(asBob.exitCode, asBob.stdout + asBob.stderr).toBe(5);
    expect((await task(repo, 'ui'))!.state).toBe('claimed');
    const mains = markedCommand(host, undefined, 'parallel-agents status').split('\n')[0]!;
    const asMain = bashAs(host, 'agent-a', `${mains}\nparallel-agents add --id extra --title X --files '**' --json`);
    expect((asMain.json as { error?: { code: string } } | undefined)?.error?.code, asMain.stdout + asMain.stderr).toBe('E_IDENTITY');
  });

  it('keeps orchestration to the orchestrator: an implementer cannot add tasks, publish, verify, run or take claims', async () => {
    const { repo, host } = await runWithClaim();
    const { writeFileSync, existsSync: exists } = await import('node:fs');
    writeFileSync(join(repo, 'plan.yaml'), 'name: more\ntasks:\n  - {id: extra, title: Extra, files: [x/**], prompt: x}\n');
    const pwned = join(repo, 'pwned');
    const attempts: string[][] = [
      ['add', '--id', 'extra', '--title', 'Extra', '--files', '**'],
      ['plan', 'publish', 'plan.yaml'],
      ['verify', '--test', `touch ${pwned}`],
      ['run', 'plan.yaml', '--agent-cmd', `touch ${pwned}`],
      ['setup', '--write'],
      ['recover', '--task', 'api', '--force'],
      ['worktree', 'remove', '--task', 'api', '--force'],
    ];
    for (const args of attempts) {
      const refused = cliAs(host, 'agent-a', [...args, '--json']);
      expect([args.join(' '), refused.exitCode, refused.json?.error?.code]).toStrictEqual([args.join(' '), 5, 'E_IDENTITY']);
      expect(refused.json.error.message).toMatch(/is the orchestrator's: subagent agent-a \(parallel:backend-developer\)/);
    }
    // The same through the runner: its agent processes carry PARALLEL_ATTEMPT.
    const runnerAgent = runCli(['verify', '--test', `touch ${pwned}`, '--json'], { cwd: repo, env: { PARALLEL_ATTEMPT: '1', PARALLEL_TASK_ID: 'api' } });
    expect([runnerAgent.exitCode, runnerAgent.json?.error?.code]).toStrictEqual([5, 'E_IDENTITY']);
    expect(exists(pwned)).toBe(false);
    expect(existsSync(join(repo, '_tasks', 'available', 'extra.md'))).toBe(false);
    // The coordinator agent and the main conversation orchestrate.
    const coordinator = cliAs({ ...host, agentType: 'parallel:coordinator' }, 'agent-k', ['add', '--id', 'extra', '--title', 'Extra', '--files', 'x/**', '--json']);
    expect(coordinator.exitCode, coordinator.stderr).toBe(0);
    expect(cliAs(host, undefined, ['verify', '--dry-run', '--json']).exitCode).toBe(0);
  });

  it('refuses recover --force inside a subagent, and lets the person at the terminal use it', async () => {
    const { repo, host } = await runWithClaim();
    const agent = cliAs(host, 'agent-b', ['recover', '--task', 'api', '--force', '--json']);
    expect([agent.exitCode, agent.json?.error?.code]).toStrictEqual([5, 'E_IDENTITY']);
    const person = runCli(['recover', '--task', 'api', '--force', '--json'], { cwd: repo });
    expect(person.json.recovered).toMatchObject([{ id: 'api', agent: 'backend-1', to: 'failed' }]);
  });

  it('a claim made in a Claude Code session dies with it: recover takes it back at once, status says dead', async () => {
    const { repo } = await runWithClaim();
    // The session is this test process; a claim held by a session that is gone looks like this:
    const store = openStore({ cwd: repo });
    const { spawn } = await import('node:child_process');
    const session = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const { describeProcess } = await import('../../src/process/liveness.ts');
    const held = await store.claim({ agent: 'frontend-1', task: 'ui', holder: describeProcess(session.pid!) });
    expect(held.task.id).toBe('ui');
    const exited = new Promise((resolve) => session.once('exit', resolve));
    session.kill('SIGKILL');
    await exited;
    const status = runCli(['status', '--json'], { cwd: repo }).json;
    expect(status.flags).toContainEqual({ id: 'ui', flag: `dead: holder process ${session.pid} is gone` });
    const recovered = runCli(['recover', '--json'], { cwd: repo }).json.recovered;
    expect(recovered).toMatchObject([{ id: 'ui', to: 'failed', reason: expect.stringContaining('is gone') }]);
  });
});

describe('hook subagent-stop', () => {
  it('sends a subagent that stops holding a claim back once, then fails the claim with a reason naming it', async () => {
    const { repo } = await runWithClaim();
    const stop = { hook_event_name: 'SubagentStop', agent_id: 'agent-a', agent_type: 'parallel:backend-developer', last_assistant_message: 'I give up' };
    const first = hook('subagent-stop', repo, stop);
    expect(first.exitCode).toBe(0);
    const decision = JSON.parse(first.stdout);
    expect(decision.decision).toBe('block');
    expect(decision.reason).toMatch(/you still hold api\. Finish each claim before you stop.*parallel-agents complete --agent backend-1 --task api/);
    expect((await task(repo, 'api'))!.state).toBe('claimed');

    const second = hook('subagent-stop', repo, { ...stop, stop_hook_active: true });
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toBe('');
    const failed = (await task(repo, 'api'))!;
    expect(failed.state).toBe('failed');
    expect(failed.attempts).toBe(1);
    expect(failed.last_error).toMatch(/agent backend-1 \(parallel:backend-developer agent-a\) stopped while still holding this task, without complete or fail, even after a reminder.*I give up/);
    expect(existsSync(join(repo, '_tasks', 'subagents', 'agent-a.json'))).toBe(false);
    const events = readFileSync(join(repo, '_tasks', 'events.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(events.filter((event) => event.event === 'fail').map((event) => event.task)).toEqual(['api']);
  });

  it('finds the store from the project, not from the cwd the payload reports', async () => {
    const { repo } = await runWithClaim();
    const stop = { hook_event_name: 'SubagentStop', agent_id: 'agent-a', cwd: '/' };
    expect(JSON.parse(hook('subagent-stop', repo, stop).stdout).decision).toBe('block');
    expect(hook('subagent-stop', repo, stop).stdout).toBe('');
    expect((await task(repo, 'api'))!.state).toBe('failed');
  });

  it('never reminds twice, even when the host does not report stop_hook_active', async () => {
    const { repo } = await runWithClaim();
    const stop = { hook_event_name: 'SubagentStop', agent_id: 'agent-a' };
    expect(JSON.parse(hook('subagent-stop', repo, stop).stdout).decision).toBe('block');
    expect(hook('subagent-stop', repo, stop).stdout).toBe('');
    expect((await task(repo, 'api'))!.state).toBe('failed');
  });

  it('reminds again about a task claimed after an earlier reminder', async () => {
    const { repo, host, token } = await runWithClaim();
    const stop = { hook_event_name: 'SubagentStop', agent_id: 'agent-a' };
    expect(JSON.parse(hook('subagent-stop', repo, stop).stdout).reason).toMatch(/you still hold api\./);
    await openStore({ cwd: repo }).complete({ agent: 'backend-1', task: 'api', token });
    expect(cliAs(host, 'agent-a', ['claim', '--agent', 'backend-1', '--task', 'ui']).exitCode).toBe(0);
    const again = JSON.parse(hook('subagent-stop', repo, stop).stdout);
    expect(again.decision).toBe('block');
    expect(again.reason).toMatch(/you still hold ui\..*--commit-worktree/);
    expect((await task(repo, 'ui'))!.state).toBe('claimed');
  });

  it('leaves a subagent that finished its claim alone', async () => {
    const { repo, token } = await runWithClaim();
    await openStore({ cwd: repo }).complete({ agent: 'backend-1', task: 'api', token });
    expect(hook('subagent-stop', repo, { hook_event_name: 'SubagentStop', agent_id: 'agent-a' }).exitCode).toBe(0);
    expect(git(repo, 'status', '--porcelain')).toBe('');
    expect((await task(repo, 'api'))!.state).toBe('completed');
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
  function entry(root: string, event: string, payload: Record<string, unknown>, env: Record<string, string> = {}) {
    const result = spawnSync(process.execPath, [join(root, 'hooks', 'run-hook.cjs'), event], { input: JSON.stringify(payload), encoding: 'utf8', env: { ...process.env, ...env } });
    return { exitCode: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  it('skips loading the CLI when there is nothing to check, and fails open when the CLI is missing', () => {
    const broken = buildTestPlugin();
    rmSync(join(broken, 'dist'), { recursive: true });
    const repo = gitRepo();
    const mainThread = entry(broken, 'pre-tool-use', { cwd: repo, tool_name: 'Write', tool_input: { file_path: join(repo, 'x') } });
    expect(mainThread).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    for (const payload of [
      { cwd: repo, agent_id: 'a1', tool_name: 'Bash', tool_input: { command: 'git status' } },
      { cwd: repo, agent_id: 'a1', tool_name: 'Write', tool_input: { file_path: join(repo, 'x') } },
    ]) {
      const run = entry(broken, 'pre-tool-use', payload);
      expect(run.exitCode).toBe(0);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/cannot run.*fail open/);
    }
  });

  it('marks Bash through its small bundle and hands everything else to the CLI', async () => {
    const { repo } = await runWithClaim();
    const bash = entry(plugin, 'pre-tool-use', { session_id: 'sess-1', cwd: repo, agent_id: 'agent-a', tool_name: 'Bash', tool_input: { command: 'ls' } }, { CLAUDE_PROJECT_DIR: repo });
    expect(JSON.parse(bash.stdout).hookSpecificOutput.updatedInput.command).toMatch(/^# parallel-agents-identity agent-a /);
    const run = entry(plugin, 'pre-tool-use', { session_id: 'sess-1', cwd: repo, agent_id: 'agent-a', tool_name: 'Write', tool_input: { file_path: join(repo, 'src/ui/x.ts') } }, { CLAUDE_PROJECT_DIR: repo });
    expect(run.exitCode).toBe(0);
    expect(denial(run)).toMatch(/outside the write scope of the task you hold \(api: src\/api\/\*\*\)/);
    const stop = entry(plugin, 'subagent-stop', { session_id: 'sess-1', cwd: repo, agent_id: 'agent-a', stop_hook_active: true }, { CLAUDE_PROJECT_DIR: repo });
    expect(stop.exitCode).toBe(0);
    expect((await task(repo, 'api'))!.state).toBe('failed');
  });
});
