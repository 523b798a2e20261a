// The plugin inside the real Claude Code CLI (each version in CLAUDE_CODE_VERSIONS: the oldest
// supported and the newest checked, installed into .cache/claude-code/<version>/), fully offline: a
// scripted model on loopback plays the orchestrator and the subagents, and everything else is real (plugin loading, skills, commands, the Agent tool running
// subagents concurrently, Bash through the plugin's bin/, hooks, git, the task store).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLAUDE_CODE_VERSIONS, ensureClaudeCode } from '../../scripts/install-claude-code.mjs';
import { buildTestPlugin, runClaude, runPrompt } from '../helpers/claude-code.ts';
import { git, gitRepo } from '../helpers/git-repo.ts';
import { bash, startMockModel, text, tool, type MockModel, type MockRequest, type MockRule } from '../helpers/mock-model.ts';
import { REPO_ROOT } from '../helpers/paths.ts';
import { openStore } from '../../src/store/open-store.ts';
import { openRepoContext } from '../../src/git/repo-context.ts';
import { addWorktree } from '../../src/git/worktree.ts';
import { tempDir } from '../helpers/temp-dir.ts';

// The project's own test: every file an agent wrote carries its task's marker. verify runs it after
// each merge, so it must hold for any prefix of the merge order.
const CHECK_JS = `const fs = require('fs');
for (const [file, id] of [['src/api/health.js', 'api'], ['src/ui/health.js', 'ui'], ['tests/health.test.js', 'tests']]) {
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') !== '// ' + id + '\\n') { console.error('bad ' + file); process.exit(1); }
}
`;

const HEALTH_PLAN = `name: health
tasks:
  - id: api
    title: Health endpoint
    role: backend-developer
    files: [src/api/**]
    estimate: 20m
    prompt: Add GET /health returning 200.
  - id: ui
    title: Health badge
    role: frontend-designer
    files: [src/ui/**]
    estimate: 10m
    prompt: Show the health in the header.
  - id: tests
    title: Health tests
    role: qa-engineer
    files: [tests/**]
    depends_on: [api]
    estimate: 10m
    prompt: Test GET /health.
`;

const AGENTS = ['backend-developer', 'frontend-designer', 'product-manager', 'qa-engineer', 'coordinator'];
/** Skills with `user-invocable: false`: guidance the model loads, not commands for the user. */
const INTERNAL_SKILLS = ['orchestrating-parallel-agents', 'using-git-worktrees', 'decomposing-tasks'];

let mock: MockModel | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

/** What each host runs at once with CLAUDE_CODE_MAX_CONCURRENT_SUBAGENTS unset: no cap before 2.1.217. */
const HOST_SUBAGENT_CAP: Record<string, number | null> = { '2.1.197': null, '2.1.332': 20 };

const isMain = (request: MockRequest) => !request.fromSubagent;
const invoked = (request: MockRequest, command: string) => request.lastUserText.includes(`<command-name>/${command}</command-name>`) || request.firstUserText.includes(`<command-name>/${command}</command-name>`);

/** A scripted subagent: step N answers the request that already holds N tool results. */
function subagentScript(marker: string, steps: Array<MockRule['reply']>): MockRule[] {
  return steps.map((reply, step) => ({
    name: `${marker} step ${step}`,
    when: (request) => request.fromSubagent && request.firstUserText.includes(marker) && request.toolResultCount === step,
    reply,
  }));
}

describe.each(CLAUDE_CODE_VERSIONS)('plugin inside Claude Code %s', (version) => {
  beforeAll(() => {
    ensureClaudeCode(version);
  }, 300_000);

  it('passes the host validator with no warning: the repository as its marketplace, the plugin/ it installs, the test plugin', async () => {
    const home = tempDir('pa-home-');
    for (const target of [REPO_ROOT, join(REPO_ROOT, 'plugin'), buildTestPlugin()]) {
      const run = await runClaude(['plugin', 'validate', '--strict', target], { version, cwd: home, home });
      expect(run.exitCode, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(/Validation passed/);
      expect(run.stdout + run.stderr).not.toMatch(/warning|⚠/i);
    }
  });

  it('installs from the repository as its own marketplace and loads without --plugin-dir', async () => {
    const plugin = buildTestPlugin();
    const home = tempDir('pa-home-');
    const add = await runClaude(['plugin', 'marketplace', 'add', plugin], { version, cwd: home, home });
    expect(add.exitCode, add.stdout + add.stderr).toBe(0);
    expect(add.stdout).toMatch(/Successfully added marketplace: parallel-agents/);
    const install = await runClaude(['plugin', 'install', 'parallel@parallel-agents'], { version, cwd: home, home });
    expect(install.exitCode, install.stdout + install.stderr).toBe(0);
    expect(install.stdout).toMatch(/Successfully installed plugin: parallel@parallel-agents/);
    mock = await startMockModel([{ name: 'answer', when: () => true, reply: [text('HELLO')] }]);
    const run = await runClaude(['-p', 'hello', '--output-format', 'stream-json', '--verbose'], { version, cwd: gitRepo(), home, modelUrl: mock.url });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.init.plugins.map((p: any) => p.name)).toContain('parallel');
    expect(run.init.agents).toContain('parallel:backend-developer');
  });

  it('loads, answers /parallel typed bare with the flow, and walks step 1 (plan, check, stop) on the skill\'s own allowed-tools', async () => {
    const plugin = buildTestPlugin();
    const repo = gitRepo({ 'README.md': '# app\n' });
    const home = tempDir('pa-home-');
    const planPath = join(repo, '.parallel', 'plans', 'health.yaml');
    mock = await startMockModel([
      { name: 'orchestrator writes the plan', when: (r) => isMain(r) && r.toolResultCount === 0, reply: [text('Planning.'), tool('Write', { file_path: planPath, content: HEALTH_PLAN })] },
      { name: 'orchestrator checks it', when: (r) => isMain(r) && r.toolResultCount === 1, reply: [bash('parallel-agents plan check .parallel/plans/health.yaml --json')] },
      { name: 'orchestrator stops for the user', when: (r) => isMain(r) && r.toolResultCount === 2, reply: [text('PLAN-SHOWN: launch 2 agents with A, B or C?')] },
    ]);
    // No --allowedTools: the skill's allowed-tools must be enough for its own steps.
    const run = await runPrompt(plugin, '/parallel add a health endpoint', { version, cwd: repo, home, modelUrl: mock.url });
    expect(run.exitCode, run.stderr).toBe(0);

    const init = run.init;
    expect(init.plugins.map((p: any) => p.name)).toContain('parallel');
    for (const agent of AGENTS) expect(init.agents).toContain(`parallel:${agent}`);
    for (const command of ['batch', 'status', 'merge', 'resume']) expect(init.slash_commands).toContain(`parallel:${command}`);
    expect(init.skills).toContain('parallel:parallel');
    const first = mock.requests[0]!;
    // The internal skills are the model's alone: listed to it, absent from the user's slash menu.
    for (const skill of INTERNAL_SKILLS) {
      expect(first.systemText, skill).toContain(`\n- parallel:${skill}: Use when `);
      expect([...init.skills, ...init.slash_commands], skill).not.toContain(`parallel:${skill}`);
    }

    expect(first.lastUserText).toContain('<command-name>/parallel:parallel</command-name>');
    expect(first.lastUserText).toContain('Goal: add a health endpoint');
    expect(first.lastUserText).toContain('Never launch agents before the user has said yes');
    // The `!` status line ran before the model call and its JSON reached the model.
    // No run yet: the pre-executed status says so (exit 1, tolerated by the `|| true`), in JSON.
    expect(first.lastUserText).toContain('"code":"E_NOT_FOUND","message":"no task store at');

    expect(mock.requests[1]!.lastToolResults[0]!.is_error, mock.requests[1]!.lastToolResults[0]!.content).toBe(false);
    const checked = mock.requests[2]!.lastToolResults[0]!;
    expect(checked.is_error, checked.content).toBe(false);
    const report = JSON.parse(checked.content);
    expect(report.waves).toEqual([['api', 'ui'], ['tests']]);
    expect(report.agents.recommended).toBe(2);
    // The CLI knows the host it runs in (AI_AGENT) and so its concurrent subagent cap.
    expect(report.host_subagent_cap, `no cap recorded for Claude Code ${version}`).toBe(HOST_SUBAGENT_CAP[version]);
    expect(report.launch_limit).toBe(2);
    expect(run.result.result).toContain('PLAN-SHOWN');
    // Step 1 ends the turn: nothing published, no store yet.
    expect(existsSync(join(repo, '_tasks', 'available'))).toBe(false);
  });

  it('the internal skills load for the model through the Skill tool, and typed by the user reach no model', async () => {
    const plugin = buildTestPlugin();
    const home = tempDir('pa-home-');
    mock = await startMockModel([
      { name: 'model loads a skill', when: (r) => isMain(r) && r.toolResultCount === 0 && r.firstUserText.includes('PLEASE-PLAN'), reply: [tool('Skill', { skill: 'parallel:decomposing-tasks' })] },
      { name: 'model answers', when: (r) => isMain(r) && r.toolResultCount === 1, reply: [text('SKILL-READ')] },
      { name: 'anything else', when: () => true, reply: [text('UNEXPECTED')] },
    ]);
    const loaded = await runPrompt(plugin, 'PLEASE-PLAN a goal', { version, cwd: gitRepo(), home, modelUrl: mock.url });
    expect(loaded.exitCode, loaded.stderr).toBe(0);
    expect(loaded.result.result).toContain('SKILL-READ');
    const after = mock.requests.find((r) => r.toolResultCount === 1)!;
    expect(after.lastToolResults[0]!.is_error, after.lastToolResults[0]!.content).toBe(false);
    // The skill's body reached the model.
    expect(after.body.messages.map((message: any) => JSON.stringify(message.content)).join('\n')).toContain('A good task: one agent, one write scope');

    const asked = mock.requests.length;
    const typed = await runPrompt(plugin, '/parallel:decomposing-tasks split the work', { version, cwd: gitRepo(), home, modelUrl: mock.url });
    expect(mock.requests.slice(asked).filter((r) => r.firstUserText.includes('A good task: one agent')), JSON.stringify(typed.result)).toEqual([]);
  });

  it('runs three specialists at once in the background, each claiming, editing, committing and completing; hooks deny out-of-scope edits and release a quitter; /parallel:merge verifies and merges', async () => {
    const plugin = buildTestPlugin();
    const repo = gitRepo({
      'README.md': '# app\n',
      'check.js': CHECK_JS,
    });
    const home = tempDir('pa-home-');
    // Set-up in-process (the CLI itself is exercised by the agents inside Claude Code below).
    const store = openStore({ cwd: repo });
    await store.init();
    const context = openRepoContext({ cwd: repo, env: {} });
    const tasks = [
      { id: 'api', role: 'backend-developer', files: 'src/api/**', agent: 'backend-1', file: 'src/api/health.js' },
      { id: 'ui', role: 'frontend-designer', files: 'src/ui/**', agent: 'frontend-1', file: 'src/ui/health.js' },
      { id: 'tests', role: 'qa-engineer', files: 'tests/**', agent: 'qa-1', file: 'tests/health.test.js' },
      { id: 'reqs', role: 'product-manager', files: 'docs/**', agent: 'pm-1', file: 'docs/REQUIREMENTS.md' },
    ];
    const worktrees: Record<string, string> = {};
    for (const task of tasks) {
      await store.add([{ id: task.id, title: `health ${task.id}`, role: task.role, files: [task.files] }]);
      worktrees[task.id] = (await addWorktree(context, { taskId: task.id })).path;
    }
    // The UI agent claims from another folder: identity comes from the host, not from the command text or the cwd.
    const claimCall = (task: (typeof tasks)[number]) => task.id === 'ui'
      ? `cd .parallel && parallel-agents claim --agent ${task.agent} --role ${task.role} --json`
      : `parallel-agents claim --agent ${task.agent} --role ${task.role} --json`;
    const worker = (task: (typeof tasks)[number], extra: Array<MockRule['reply']> = []) =>
      subagentScript(`Agent name: ${task.agent}`, [
        [bash(claimCall(task))],
        ...extra,
        [tool('Write', { file_path: join(worktrees[task.id]!, task.file), content: `// ${task.id}\n` })],
        [bash(`parallel-agents complete --agent ${task.agent} --task ${task.id} --commit-worktree --summary "health ${task.id}" --json`)],
        [text(`Status: DONE\nTasks: ${task.id} completed`)],
      ]);
    const [api, ui, qa, pm] = tasks as [(typeof tasks)[number], (typeof tasks)[number], (typeof tasks)[number], (typeof tasks)[number]];
    const launch = (task: (typeof tasks)[number]) =>
      tool('Agent', {
        description: `health ${task.id}`,
        subagent_type: `parallel:${task.role}`,
        prompt: `Agent name: ${task.agent}\nRole to claim with: ${task.role}\nRun goal: health endpoint\nFollow your protocol.`,
        run_in_background: true,
      });
    mock = await startMockModel([
      ...worker(api),
      ...worker(ui),
      // QA first tries to write into the API's files: the scope hook must refuse it.
      ...worker(qa, [[tool('Write', { file_path: join(worktrees.tests!, 'src/api/health.js'), content: 'stolen\n' })]]),
      // The product manager claims, then stops without finishing: SubagentStop must release it.
      ...subagentScript(`Agent name: ${pm.agent}`, [[bash(`parallel-agents claim --agent ${pm.agent} --role ${pm.role} --json`)], [text('Status: BLOCKED\nNotes: stopping early')]]),
      { name: 'orchestrator launches all agents in one message', when: (r) => isMain(r) && invoked(r, 'parallel:parallel') && r.toolResultCount === 0, reply: [text('Launching.'), launch(api), launch(ui), launch(qa), launch(pm)] },
      // Background agents: the launch returns at once, then each finished agent arrives as a
      // <task-notification> turn; the orchestrator answers each (the -p run waits for all of them).
      { name: 'orchestrator waits', when: (r) => isMain(r) && invoked(r, 'parallel:parallel') && r.toolResultCount === 4 && !r.lastUserText.includes('<task-notification>'), reply: [text('LAUNCHED')] },
      { name: 'orchestrator reports', when: (r) => isMain(r) && invoked(r, 'parallel:parallel') && r.lastUserText.includes('<task-notification>'), reply: [text('RUN-REPORTED')] },
      { name: 'status reports', when: (r) => isMain(r) && invoked(r, 'parallel:status'), reply: [text('STATUS-REPORTED')] },
      { name: 'resume reports', when: (r) => isMain(r) && invoked(r, 'parallel:resume'), reply: [text('RESUME-REPORTED')] },
      { name: 'merge runs verify', when: (r) => isMain(r) && invoked(r, 'parallel:merge') && r.toolResultCount === 0, reply: [bash('parallel-agents verify --test "node check.js" --json')] },
      { name: 'merge reports', when: (r) => isMain(r) && invoked(r, 'parallel:merge') && r.toolResultCount === 1, reply: [text('MERGE-REPORTED')] },
    ]);
    // Background agents outlive the skill's turn, and with it the skill's allowed-tools, so `-p`
    // grants the same narrow set for the whole session: no blanket Bash. The agents claim, edit,
    // commit (through `complete --commit-worktree`) and complete with the CLI alone.
    const allowedTools = ['Bash(parallel-agents:*)', 'Write', 'Edit', 'Read', 'Agent'];
    const run = await runPrompt(plugin, '/parallel add a health endpoint (plan approved)', { version, cwd: repo, home, modelUrl: mock.url, allowedTools, timeoutMs: 90_000 });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.result.result, JSON.stringify(mock.answeredBy)).toContain('RUN-REPORTED');

    // Launched in the background: the launch returned at once, the results came as notifications.
    const launched = mock.requests.find((r) => isMain(r) && r.toolResultCount === 4)!;
    expect(launched.lastToolResults.map((result) => result.content)).toEqual(Array(4).fill(expect.stringContaining('Async agent launched')));
    expect(mock.requests.some((r) => isMain(r) && r.lastUserText.includes('<task-notification>'))).toBe(true);

    // All four subagents started together, from one message.
    const starts = tasks.map((task) => mock!.requests.find((r) => r.fromSubagent && r.firstUserText.includes(`Agent name: ${task.agent}`))!);
    for (const start of starts) expect(start).toBeDefined();
    const spread = Math.max(...starts.map((r) => r.receivedAt)) - Math.min(...starts.map((r) => r.receivedAt));
    expect(spread).toBeLessThan(5_000);
    const overlapping = starts.filter((r) => r.receivedAt < Math.min(...mock!.requests.filter((x) => x.fromSubagent && x.toolResultCount === 2).map((x) => x.receivedAt)));
    expect(overlapping.length).toBe(4);

    // Each subagent ran as the plugin's agent: its body as system prompt, only its tools.
    const backend = starts[0]!;
    expect(backend.systemText).toContain('# Backend developer');
    expect(backend.toolNames).toContain('Write');
    expect(backend.toolNames).not.toContain('Agent');

    // Three completed with their commit as evidence, on their own branches.
    for (const task of [api, ui, qa]) {
      const view = (await store.get(task.id))!;
      expect(view.state, task.id).toBe('completed');
      expect(view.commit).toBe(git(worktrees[task.id]!, 'rev-parse', 'HEAD'));
      expect(git(worktrees[task.id]!, 'show', '--name-only', '--format=', 'HEAD')).toBe(task.file);
    }
    // Every claim was bound through the host: its lease names the Claude Code process (one for the
    // whole session, not this test), and the agents completed without passing their token.
    const { readEvents } = await import('../../src/store/local/journal.ts');
    const { NODE_FS } = await import('../../src/fs/fs-port.ts');
    const { parseLease } = await import('../../src/store/local/names.ts');
    const claims = readEvents(NODE_FS, join(repo, '_tasks', 'events.jsonl')).filter((event) => event.event === 'claim');
    expect(claims.map((event) => event.agent).sort()).toEqual(['backend-1', 'frontend-1', 'pm-1', 'qa-1']);
    const holders = new Set(claims.map((event) => parseLease(String(event.lease))?.holder?.pid));
    expect(holders.size).toBe(1);
    expect([...holders][0]).toEqual(expect.any(Number));
    expect([...holders][0]).not.toBe(process.pid);
    // The scope hook refused QA's write into the API's files, with a message it can act on.
    const denied = mock.requests.flatMap((r) => r.lastToolResults).find((result) => result.is_error && /outside the write scope/.test(result.content));
    expect(denied?.content).toMatch(/src\/api\/health\.js is outside the write scope of the task you hold \(tests: tests\/\*\*\)/);
    expect(existsSync(join(worktrees.tests!, 'src/api/health.js'))).toBe(false);
    // The quitter was sent back once to finish its claim, stopped again, and its claim was
    // released as failed, with the reason.
    expect(mock.requests.some((r) => r.fromSubagent && r.firstUserText.includes('Agent name: pm-1') && /Stop hook feedback:[\s\S]*you still hold reqs/.test(r.lastUserText))).toBe(true);
    const reqsView = (await store.get('reqs'))!;
    expect(reqsView.state).toBe('failed');
    expect(reqsView.last_error).toMatch(/agent pm-1 \(parallel:product-manager \S+\) stopped while still holding this task, without complete or fail, even after a reminder/);

    const before = git(repo, 'rev-parse', 'main');
    const merge = await runPrompt(plugin, '/parallel:merge node check.js', { version, cwd: repo, home, modelUrl: mock.url, allowedTools: ['Bash(parallel-agents:*)'] });
    expect(merge.exitCode, merge.stderr).toBe(0);
    expect(merge.result.result, JSON.stringify(mock.answeredBy)).toContain('MERGE-REPORTED');
    const verifyResult = mock.requests.filter((r) => invoked(r, 'parallel:merge') && r.toolResultCount === 1).at(-1)!.lastToolResults[0]!;
    expect(verifyResult.is_error, verifyResult.content).toBe(false);
    const after = git(repo, 'rev-parse', 'main');
    expect(after).not.toBe(before);
    for (const task of [api, ui, qa]) expect(git(repo, 'show', `main:${task.file}`)).toBe(`// ${task.id}`);
    // The Bash result holds verify's stdout (the report, one document) and its stderr (progress, a JSON event a line).
    const lines = verifyResult.content.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.filter((line) => line.event === undefined)).toEqual([expect.objectContaining({ status: 'merged' })]);
    expect(lines.filter((line) => line.event === 'merged').map((line) => line.task).sort()).toEqual([api, ui, qa].map((task) => task.id).sort());

    // status and resume read the run from the store through their pre-executed CLI lines alone.
    const [status, resume] = await Promise.all(
      ['/parallel:status', '/parallel:resume'].map((prompt) => runPrompt(plugin, prompt, { version, cwd: repo, home, modelUrl: mock!.url })),
    );
    expect(status!.result.result).toContain('STATUS-REPORTED');
    expect(resume!.result.result).toContain('RESUME-REPORTED');
    const seen = (command: string) => mock!.requests.find((r) => invoked(r, command))!.lastUserText;
    expect(seen('parallel:status')).toContain('"summary":"3 completed / 4 total (0 in progress, 1 failed, 0 blocked)"');
    expect(seen('parallel:resume')).toContain('"summary":"3 completed / 4 total');
    // The merged tasks' worktrees went with the merge; the failed task's stays for its retry.
    expect(seen('parallel:resume')).toMatch(/"worktrees":\[\{"task":"reqs"/);
  });
});
