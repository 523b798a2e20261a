// Fan-out within the host's concurrent subagent cap, in the real Claude Code (the versions that have
// one: 2.1.217 and later). With CLAUDE_CODE_MAX_CONCURRENT_SUBAGENTS=2 the host refuses a third
// running subagent with an error instead of queueing it. The scripted orchestrator launches exactly
// as many agents as the `launch_limit` of the status JSON it got, so if the CLI reported the wrong
// number the host would refuse a launch (too many) or the two first agents would never overlap
// (too few): two run, the third task's agent starts after one finished, all three complete.
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLAUDE_CODE_VERSIONS, ensureClaudeCode } from '../../scripts/install-claude-code.mjs';
import { openRepoContext } from '../../src/git/repo-context.ts';
import { addWorktree } from '../../src/git/worktree.ts';
import { hostSubagentCap } from '../../src/plan/launch-limit.ts';
import { openStore } from '../../src/store/open-store.ts';
import { buildTestPlugin, runPrompt } from '../helpers/claude-code.ts';
import { gitRepo } from '../helpers/git-repo.ts';
import { bash, startMockModel, text, tool, type MockModel, type MockRequest, type ReplyBlock } from '../helpers/mock-model.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const CAPPED_VERSIONS = CLAUDE_CODE_VERSIONS.filter((version) => hostSubagentCap({ AI_AGENT: `claude-code_${version.replaceAll('.', '-')}_agent` }) !== undefined);
const TASKS = ['t1', 't2', 't3'];
const REFUSED = /Concurrent subagent limit reached/;

let mock: MockModel | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

const isMain = (request: MockRequest) => !request.fromSubagent;
const agentOf = (request: MockRequest) => /Agent name: (w-\d+)/.exec(request.firstUserText)?.[1];

/** Agents this conversation launched that have not reported back (in a <task-notification>) yet. */
function runningAgents(request: MockRequest): number {
  const messages = request.body.messages as Array<{ content: unknown }>;
  const blocks = messages.flatMap((message) => (Array.isArray(message.content) ? message.content : []));
  const launched = blocks.filter((block) => block.type === 'tool_use' && block.name === 'Agent').length;
  const refused = blocks.filter((block) => block.type === 'tool_result' && REFUSED.test(JSON.stringify(block.content))).length;
  const reported = new Set([...JSON.stringify(messages).matchAll(/<task-id>(.*?)<\/task-id>/g)].map((match) => match[1])).size;
  return launched - refused - reported;
}

/**
 * Whether an agent reported since the orchestrator last spoke. 2.1.332 delivers a notification that
 * arrives during a tool call as a system message after the tool result, not in a user message.
 */
function notified(request: MockRequest): boolean {
  const messages = request.body.messages as Array<{ role: string }>;
  const lastAssistant = messages.map((message) => message.role).lastIndexOf('assistant');
  return JSON.stringify(messages.slice(lastAssistant + 1)).includes('<task-notification>');
}

/** The status document a tool result holds, if it is one. */
function statusOf(content: string): any {
  try {
    const parsed = JSON.parse(content);
    return parsed && typeof parsed === 'object' && 'launch_limit' in parsed ? parsed : undefined;
  } catch {
    return undefined;
  }
}

describe.each(CAPPED_VERSIONS)('fan-out within the subagent cap of Claude Code %s', (version) => {
  beforeAll(() => {
    ensureClaudeCode(version);
  }, 300_000);

  it('launches as many agents as launch_limit says, and the next as one finishes: two run, the third starts after, all three complete', async () => {
    const plugin = buildTestPlugin();
    const repo = gitRepo({ 'README.md': '# app\n' });
    const home = tempDir('pa-home-');
    const store = openStore({ cwd: repo });
    await store.init();
    const context = openRepoContext({ cwd: repo, env: {} });
    const worktrees: Record<string, string> = {};
    for (const id of TASKS) {
      await store.add([{ id, title: `unit ${id}`, role: 'backend-developer', files: [`src/${id}/**`] }]);
      worktrees[id] = (await addWorktree(context, { taskId: id })).path;
    }

    // The first two agents hold their claims at the same moment: neither goes past its claim until
    // both have claimed (the guard turns a launch limit of 1 into a failed assertion, not a hang).
    const claimed = new Map<string, string>();
    let bothClaimed: () => void = () => {};
    const barrier = new Promise<void>((resolve) => (bothClaimed = resolve));
    const guard = new Promise<void>((resolve) => setTimeout(resolve, 20_000).unref());
    let launched = 0;
    const batches: number[] = [];
    const launch = (count: number): ReplyBlock[] => {
      batches.push(count);
      return Array.from({ length: count }, () => {
        const name = `w-${++launched}`;
        return tool('Agent', {
          description: `unit agent ${name}`,
          subagent_type: 'parallel:backend-developer',
          prompt: `Agent name: ${name}\nRole to claim with: backend-developer\nRun goal: units\nFollow your protocol.`,
          run_in_background: true,
        });
      });
    };
    mock = await startMockModel([
      {
        name: 'agent claims',
        when: (r) => r.fromSubagent && agentOf(r) !== undefined && r.toolResultCount === 0,
        reply: (r) => [bash(`parallel-agents claim --agent ${agentOf(r)} --role backend-developer --json`)],
      },
      {
        name: 'agent writes in its task',
        when: (r) => r.fromSubagent && agentOf(r) !== undefined && r.toolResultCount === 1,
        waitFor: (r) => {
          claimed.set(agentOf(r)!, JSON.parse(r.lastToolResults[0]!.content).task.id);
          if (claimed.has('w-1') && claimed.has('w-2')) bothClaimed();
          return ['w-1', 'w-2'].includes(agentOf(r)!) ? Promise.race([barrier, guard]) : Promise.resolve();
        },
        reply: (r) => {
          const id = claimed.get(agentOf(r)!)!;
          return [tool('Write', { file_path: join(worktrees[id]!, 'src', id, 'done.js'), content: `// ${id}\n` })];
        },
      },
      {
        name: 'agent completes',
        when: (r) => r.fromSubagent && agentOf(r) !== undefined && r.toolResultCount === 2,
        reply: (r) => [bash(`parallel-agents complete --agent ${agentOf(r)} --task ${claimed.get(agentOf(r)!)} --commit-worktree --summary done --json`)],
      },
      { name: 'agent reports', when: (r) => r.fromSubagent && r.toolResultCount === 3, reply: (r) => [text(`Status: DONE\nTasks: ${claimed.get(agentOf(r)!)} completed`)] },
      // As the skill says: each time agents report, the status with the number still running. A
      // notification can arrive with a status result: that status is already old.
      {
        name: 'orchestrator checks on a notification',
        when: (r) => isMain(r) && notified(r),
        reply: (r) => [bash(`parallel-agents status --running ${runningAgents(r)} --json`)],
      },
      {
        name: 'orchestrator launches what launch_limit allows',
        when: (r) => isMain(r) && statusOf(r.lastToolResults[0]?.content ?? '') !== undefined,
        reply: (r) => {
          const snapshot = statusOf(r.lastToolResults[0]!.content);
          if (snapshot.counts.completed === TASKS.length) return [text('ALL-DONE')];
          const count = Math.min(snapshot.launch_limit, snapshot.claimable);
          return count > 0 ? [text('Launching.'), ...launch(count)] : [text('WAITING')];
        },
      },
      { name: 'orchestrator starts with the status', when: (r) => isMain(r) && r.toolResultCount === 0, reply: [bash('parallel-agents status --json')] },
      { name: 'orchestrator waits for its agents', when: (r) => isMain(r), reply: [text('LAUNCHED')] },
    ]);

    const allowedTools = ['Bash(parallel-agents:*)', 'Write', 'Edit', 'Read', 'Agent'];
    const run = await runPrompt(plugin, '/parallel build the units (plan approved, published, worktrees made)', {
      version,
      cwd: repo,
      home,
      modelUrl: mock.url,
      allowedTools,
      env: { CLAUDE_CODE_MAX_CONCURRENT_SUBAGENTS: '2' },
      timeoutMs: 120_000,
    });
    expect(run.exitCode, run.stderr).toBe(0);
    const trail = JSON.stringify(mock.answeredBy);

    // The CLI read the cap from the host's environment, and the orchestrator followed it.
    const statuses = mock.requests.filter(isMain).map((r) => statusOf(r.lastToolResults[0]?.content ?? '')).filter(Boolean);
    expect(statuses[0], trail).toMatchObject({ claimable: 3, launch_limit: 2, host_subagent_cap: 2 });
    expect(batches, trail).toEqual([2, 1]);
    expect(mock.requests.flatMap((r) => r.lastToolResults).filter((result) => REFUSED.test(result.content)), trail).toEqual([]);

    // Two ran at once; the third started only after one had finished; never more than two.
    const requestsOf = (name: string) => mock!.requests.filter((r) => r.fromSubagent && agentOf(r) === name);
    const span = (name: string) => ({ start: requestsOf(name)[0]!.receivedAt, end: requestsOf(name).at(-1)!.receivedAt });
    const [w1, w2, w3] = ['w-1', 'w-2', 'w-3'].map(span) as [ReturnType<typeof span>, ReturnType<typeof span>, ReturnType<typeof span>];
    expect(Math.max(w1.start, w2.start)).toBeLessThan(Math.min(w1.end, w2.end));
    const firstNotice = mock.requests.find((r) => isMain(r) && notified(r))!;
    expect(firstNotice, trail).toBeDefined();
    expect(w3.start).toBeGreaterThan(firstNotice.receivedAt);
    expect(w3.start).toBeGreaterThan(Math.min(w1.end, w2.end));

    // All three completed, each by its own agent.
    for (const id of TASKS) expect((await store.get(id))!.state, id).toBe('completed');
    expect(new Set(claimed.values())).toEqual(new Set(TASKS));
    expect(run.result.result, trail).toContain('ALL-DONE');
  });
});
