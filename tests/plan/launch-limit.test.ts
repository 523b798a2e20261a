// The host's concurrent subagent cap and the launch limit the CLI reports from it (status --json,
// plan check --json). The real host's behaviour (refusing a launch beyond the cap) is proven in
// tests/e2e/subagent-cap.test.ts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_HOST_SUBAGENT_CAP, hostSubagentCap, hostVersion, launchLimit, launchNow } from '../../src/plan/launch-limit.ts';
import { gitRepo } from '../helpers/git-repo.ts';
import { runCli } from '../helpers/run-cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';

// Outside any host, whatever the test runner itself runs in.
const NO_HOST = { AI_AGENT: undefined, CLAUDE_CODE_MAX_CONCURRENT_SUBAGENTS: undefined };

describe('the host subagent cap', () => {
  it('reads the version Claude Code gives every command it runs', () => {
    expect(hostVersion({ AI_AGENT: 'claude-code_2-1-332_agent' })).toEqual([2, 1, 332]);
    expect(hostVersion({ AI_AGENT: 'claude-code/2.1.217/agent' })).toEqual([2, 1, 217]);
    expect(hostVersion({})).toBeUndefined();
    expect(hostVersion({ AI_AGENT: 'cursor_1-2-3_agent' })).toBeUndefined();
    expect(hostVersion({ AI_AGENT: 'claude-code_2-1_agent' })).toBeUndefined();
  });

  it('is 20 from 2.1.217 on, none before it or outside Claude Code, and the variable wherever it is set as the host reads it', () => {
    expect(DEFAULT_HOST_SUBAGENT_CAP).toBe(20);
    expect(hostSubagentCap({ AI_AGENT: 'claude-code_2-1-332_agent' })).toBe(20);
    expect(hostSubagentCap({ AI_AGENT: 'claude-code_2-1-217_agent' })).toBe(20);
    expect(hostSubagentCap({ AI_AGENT: 'claude-code_3-0-0_agent' })).toBe(20);
    expect(hostSubagentCap({ AI_AGENT: 'claude-code_2-1-216_agent' })).toBeUndefined();
    expect(hostSubagentCap({ AI_AGENT: 'claude-code_2-1-197_agent' })).toBeUndefined();
    expect(hostSubagentCap({})).toBeUndefined();
    expect(hostSubagentCap({ AI_AGENT: 'claude-code_2-1-332_agent', CLAUDE_CODE_MAX_CONCURRENT_SUBAGENTS: '2' })).toBe(2);
    expect(hostSubagentCap({ AI_AGENT: 'claude-code_2-1-332_agent', CLAUDE_CODE_MAX_CONCURRENT_SUBAGENTS: '40' })).toBe(40);
    expect(hostSubagentCap({ AI_AGENT: 'claude-code_2-1-197_agent', CLAUDE_CODE_MAX_CONCURRENT_SUBAGENTS: '3' })).toBe(3);
    for (const ignored of ['0', '-1', 'two', '2.5', ' 2', '']) {
      expect(hostSubagentCap({ AI_AGENT: 'claude-code_2-1-332_agent', CLAUDE_CODE_MAX_CONCURRENT_SUBAGENTS: ignored }), ignored).toBe(20);
    }
  });

  it('limits a launch to the cap less the agents running, never below 0, and not at all without a cap', () => {
    const capped = { AI_AGENT: 'claude-code_2-1-332_agent', CLAUDE_CODE_MAX_CONCURRENT_SUBAGENTS: '2' };
    expect(launchLimit(3, capped)).toBe(2);
    expect(launchLimit(1, capped)).toBe(1);
    expect(launchLimit(3, capped, 1)).toBe(1);
    expect(launchLimit(3, capped, 5)).toBe(0);
    expect(launchLimit(30, { AI_AGENT: 'claude-code_2-1-332_agent' })).toBe(20);
    expect(launchLimit(30, { AI_AGENT: 'claude-code_2-1-197_agent' }, 25)).toBe(30);
  });

  it('leaves a claimable task to a running agent that has not claimed yet, and counts every running agent against the cap', () => {
    const capped = { CLAUDE_CODE_MAX_CONCURRENT_SUBAGENTS: '2' };
    expect(launchNow(3, 0, capped)).toBe(2);
    expect(launchNow(1, 1, capped)).toBe(1); // one agent at work on its claim, one slot left
    expect(launchNow(1, 0, capped, 1)).toBe(0); // one agent launched, about to take the one task
    expect(launchNow(3, 0, capped, 1)).toBe(1);
    expect(launchNow(3, 2, capped, 2)).toBe(0);
    expect(launchNow(5, 0, {}, 2)).toBe(3); // no cap: only the tasks no running agent will take
    expect(launchNow(2, 3, capped, 1)).toBe(1); // claims held by agents the caller does not run
  });
});

describe('launch_limit in the CLI', () => {
  it('status --json: the claimable tasks the host still has room for', () => {
    const repo = gitRepo();
    const cli = (args: string[], env: Record<string, string | undefined>) => runCli(args, { cwd: repo, env: { ...NO_HOST, ...env } });
    for (const id of ['a', 'b', 'c']) expect(cli(['add', '--id', id, '--title', id], {}).exitCode).toBe(0);
    const host = { AI_AGENT: 'claude-code_2-1-332_agent', CLAUDE_CODE_MAX_CONCURRENT_SUBAGENTS: '2' };
    expect(cli(['status', '--json'], host).json).toMatchObject({ claimable: 3, launch_limit: 2, host_subagent_cap: 2 });
    expect(cli(['status', '--json'], {}).json).toMatchObject({ claimable: 3, launch_limit: 3, host_subagent_cap: null });
    expect(cli(['claim', '--agent', 'one', '--json'], {}).exitCode).toBe(0);
    // One agent runs: one more slot, two claimable tasks.
    expect(cli(['status', '--json'], host).json).toMatchObject({ claimable: 2, launch_limit: 1 });
    expect(cli(['claim', '--agent', 'two', '--json'], {}).exitCode).toBe(0);
    expect(cli(['status', '--json'], host).json).toMatchObject({ claimable: 1, launch_limit: 0 });
    // The caller says one agent runs (the other reported): it has a claim, so one more may start.
    expect(cli(['status', '--running', '1', '--json'], host).json).toMatchObject({ claimable: 1, launch_limit: 1 });
    const bad = cli(['status', '--running', 'two', '--json'], host);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toBe('parallel-agents: --running must be a whole number >= 0 (got "two")\n');
  });

  it('plan check --json: the recommended agents, capped by the host', () => {
    const dir = tempDir('pa-plan-');
    const plan = join(dir, 'plan.yaml');
    const tasks = Array.from({ length: 6 }, (_, i) => `  - id: t${i}\n    title: T${i}\n    files: [src/t${i}/**]\n    estimate: 10m\n    prompt: Do t${i}.\n`).join('');
    writeFileSync(plan, `name: wide\ntasks:\n${tasks}`);
    const check = (env: Record<string, string | undefined>) => runCli(['plan', 'check', plan, '--max-agents', '6', '--json'], { cwd: dir, env: { ...NO_HOST, ...env } }).json;
    expect(check({}).agents.recommended).toBe(6);
    expect(check({})).toMatchObject({ launch_limit: 6, host_subagent_cap: null });
    expect(check({ AI_AGENT: 'claude-code_2-1-332_agent' })).toMatchObject({ launch_limit: 6, host_subagent_cap: 20 });
    expect(check({ AI_AGENT: 'claude-code_2-1-332_agent', CLAUDE_CODE_MAX_CONCURRENT_SUBAGENTS: '4' })).toMatchObject({ launch_limit: 4, host_subagent_cap: 4 });
  });
});
