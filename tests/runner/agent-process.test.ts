import { readFileSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startAgentProcess } from '../../src/runner/agent-process.ts';
import { splitCommandLine } from '../../src/runner/command-line.ts';
import { commandAdapter } from '../../src/runner/adapters/command-adapter.ts';
import { claudeAdapter, claudeArgv, reportedFailure } from '../../src/runner/adapters/claude-adapter.ts';
import type { AgentAttempt } from '../../src/runner/adapters/agent-adapter.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { waitFor } from './fixtures.ts';
import { isAlive as alive } from '../helpers/processes.ts';


function attempt(dir: string, extra: Partial<AgentAttempt> = {}): AgentAttempt {
  return {
    taskId: 'api', title: 'Build the API', role: undefined, prompt: 'do "$(rm -rf /)" `x` it',
    promptFile: join(dir, 'prompt.md'), taskFile: join(dir, 'task.md'), worktree: dir, attempt: 1,
    timeoutMs: 20_000, signal: new AbortController().signal, ...extra,
  };
}

describe('startAgentProcess', () => {
  it('kills the whole process group on timeout, grandchildren included', async () => {
    const dir = tempDir();
    const pidFile = join(dir, 'grandchild.pid');
    // The shell backgrounds a long sleep (a grandchild of the runner) and waits on it.
    const agent = startAgentProcess({
      argv: ['sh', '-c', `sleep 300 & echo $! > "${pidFile}"; wait`],
      cwd: dir, env: {}, stdin: "", timeoutMs: 1000, killGraceMs: 200,
    });
    const exit = await agent.done;
    expect(exit.timedOut).toBe(true);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    expect(grandchild).toBeGreaterThan(0);
    // SIGKILL is sent before done resolves; the kernel ends the processes a moment later.
    await waitFor(() => !alive(exit.pid!) && !alive(grandchild), 'the agent and its grandchild to die', 5000);
  });

  it('on timeout also ends commands the agent started in a session of their own', async () => {
    const dir = tempDir();
    const pidFile = join(dir, 'escaped.pid');
    // setsid puts the sleep outside the agent's process group, as Claude Code's Bash tool does.
    const agent = startAgentProcess({
      argv: ['sh', '-c', `setsid sleep 300 & echo $! > "${pidFile}"; wait`],
      cwd: dir, env: {}, stdin: '', timeoutMs: 1000, killGraceMs: 200,
    });
    const exit = await agent.done;
    expect(exit.timedOut).toBe(true);
    const escaped = Number(readFileSync(pidFile, 'utf8'));
    await waitFor(() => !alive(escaped), 'the escaped command to die', 5000);
  });

  it('ends what a finished agent left running in its group', async () => {
    const dir = tempDir();
    const pidFile = join(dir, 'straggler.pid');
    const agent = startAgentProcess({
      argv: ['sh', '-c', `sleep 300 >/dev/null 2>&1 & echo $! > "${pidFile}"; exit 0`],
      cwd: dir, env: {}, stdin: '', timeoutMs: 20_000,
    });
    const exit = await agent.done;
    expect(exit.exitCode).toBe(0);
    const straggler = Number(readFileSync(pidFile, 'utf8'));
    await waitFor(() => !alive(straggler), 'the straggler to die', 5000);
  });

  it('passes the prompt on stdin verbatim and keeps the stderr tail', async () => {
    const dir = tempDir();
    const agent = startAgentProcess({
      argv: ['sh', '-c', 'cat; echo oops >&2; exit 3'], cwd: dir, env: {}, stdin: 'hello $(whoami)\n', timeoutMs: 20_000,
    });
    const exit = await agent.done;
    expect(exit.stdout).toBe('hello $(whoami)\n');
    expect(exit.exitCode).toBe(3);
    expect(exit.stderrTail).toBe('oops\n');
  });
});

describe('splitCommandLine', () => {
  it('splits like a shell without expanding anything', () => {
    expect(splitCommandLine(`node "my agent.js" --flag='a b' \\$HOME $(x)`)).toEqual(['node', 'my agent.js', '--flag=a b', '$HOME', '$(x)']);
    expect(() => splitCommandLine('node "open')).toThrow(/unterminated/);
    expect(() => splitCommandLine('   ')).toThrow(/empty/);
  });
});

describe('commandAdapter', () => {
  it('gives the agent its task through env, stdin and file, and reports failure with the exit code and stderr', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'prompt.md'), 'from file');
    const script = 'printf "%s|%s|%s|" "$PARALLEL_TASK_ID" "$PARALLEL_WORKTREE" "$(cat "$PARALLEL_PROMPT_FILE")" > seen; cat >> seen; echo broken >&2; exit 4';
    const outcome = await commandAdapter(['sh', '-c', script]).run(attempt(dir));
    expect(readFileSync(join(dir, 'seen'), 'utf8')).toBe(`api|${dir}|from file|do "$(rm -rf /)" \`x\` it`);
    expect(outcome.status).toBe('failed');
    expect(outcome.reason).toBe('agent failed (exit code 4); stderr: broken');
    expect(existsSync('/x')).toBe(false);
  });

  it('reads a 429 on stderr as a rate limit and a cost on the last stdout line', async () => {
    const dir = tempDir();
    const limited = await commandAdapter(['sh', '-c', 'echo "API Error: 429 Too Many Requests" >&2; exit 1']).run(attempt(dir));
    expect(limited.status).toBe('rate-limited');
    const paid = await commandAdapter(['sh', '-c', 'echo working; echo \'{"total_cost_usd":0.25}\'']).run(attempt(dir));
    expect(paid).toMatchObject({ status: 'ok', usage: { costUsd: 0.25 } });
  });
});

describe('claudeAdapter', () => {
  function fakeClaude(dir: string, body: string): string {
    const path = join(dir, 'fake-claude');
    writeFileSync(path, `#!/usr/bin/env node\nconst fs=require('fs');fs.writeFileSync('argv.json',JSON.stringify(process.argv.slice(2)));const input=fs.readFileSync(0,'utf8');${body}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  it('runs the plugin agent headless with the prompt on stdin and reads cost, tokens and turns', async () => {
    const dir = tempDir();
    const program = fakeClaude(dir, `fs.writeFileSync('stdin.txt',input);console.log(JSON.stringify({type:'result',is_error:false,result:'DONE',num_turns:3,total_cost_usd:0.042,usage:{input_tokens:100,cache_read_input_tokens:50,output_tokens:20}}))`);
    const outcome = await claudeAdapter({ program }).run(attempt(dir, { role: 'backend-developer' }));
    expect(outcome).toMatchObject({ status: 'ok', usage: { costUsd: 0.042, inputTokens: 150, outputTokens: 20, turns: 3 } });
    expect(readFileSync(join(dir, 'stdin.txt'), 'utf8')).toBe(attempt(dir).prompt);
    const argv = JSON.parse(readFileSync(join(dir, 'argv.json'), 'utf8')) as string[];
    expect(argv.slice(0, 3)).toEqual(['-p', '--agent', 'parallel:backend-developer']);
    expect(argv).toContain('--output-format');
    expect(argv.join(' ')).not.toContain('rm -rf');
  });

  it('tells a 429/529 from a task failure by api_error_status', async () => {
    const dir = tempDir();
    for (const status of [429, 529]) {
      const program = fakeClaude(dir, `console.log(JSON.stringify({is_error:true,api_error_status:${status},result:'API Error: Request rejected (${status})'}));process.exit(1)`);
      expect((await claudeAdapter({ program }).run(attempt(dir))).status).toBe('rate-limited');
    }
    const failing = fakeClaude(dir, `console.log(JSON.stringify({is_error:true,api_error_status:null,result:'could not finish'}));process.exit(1)`);
    const outcome = await claudeAdapter({ program: failing }).run(attempt(dir));
    expect(outcome).toMatchObject({ status: 'failed', reason: 'claude reported an error: could not finish' });
  });

  it('fails an attempt whose report block says BLOCKED or NEEDS_CONTEXT, though claude exited 0', async () => {
    const dir = tempDir();
    for (const [status, block] of [['BLOCKED', 'Status: BLOCKED\\nNotes: the spec is missing'], ['NEEDS_CONTEXT', '**Status:** NEEDS_CONTEXT']]) {
      const program = fakeClaude(dir, `console.log(JSON.stringify({type:'result',is_error:false,result:'Tried.\\n${block}',num_turns:2}))`);
      const outcome = await claudeAdapter({ program }).run(attempt(dir));
      expect(outcome.status).toBe('failed');
      expect(outcome.reason).toBe(status === 'BLOCKED' ? 'agent reported BLOCKED: the spec is missing' : 'agent reported NEEDS_CONTEXT');
    }
    expect(reportedFailure('Status: DONE_WITH_CONCERNS\nNotes: flaky test')).toBeUndefined();
    expect(reportedFailure('All good, no report block.')).toBeUndefined();
  });

  it('builds its argument vector without a shell', () => {
    expect(claudeArgv({ role: undefined }, { pluginDir: 'plug', permissionMode: 'acceptEdits', allowedTools: 'Read' })).toEqual(
      ['claude', '-p', '--plugin-dir', 'plug', '--permission-mode', 'acceptEdits', '--allowedTools', 'Read', '--output-format', 'json'],
    );
  });
});
