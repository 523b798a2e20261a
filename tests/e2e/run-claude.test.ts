// `parallel-agents run PLAN --claude` against the real Claude Code CLIs (CLAUDE_CODE_VERSIONS), fully
// offline: the runner spawns one real `claude -p --agent parallel:<role>` per task in the task's
// worktree, and a scripted model on loopback answers each session with a Bash call that writes the
// task's file, then a final text. Everything between (permissions, the agent's system prompt, the
// JSON result the runner parses, the CLI's own 429 handling) is the real CLI.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { CLAUDE_CODE_VERSIONS, ensureClaudeCode } from '../../scripts/install-claude-code.mjs';
import { buildTestPlugin, offlineEnv } from '../helpers/claude-code.ts';
import { git, gitRepo } from '../helpers/git-repo.ts';
import { bash, startMockModel, text, type MockModel, type MockRequest, type MockRule, type ReplyBlock } from '../helpers/mock-model.ts';
import { progressEvents, runCliAsync } from '../helpers/run-cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { events, isAlive, startCli, statesOf, waitFor } from '../runner/fixtures.ts';

// The project's own test, run by verify after the merge: every task's file holds its marker.
const CHECK_JS = `const fs = require('fs');
for (const [file, id] of [['src/api/health.js', 'api'], ['src/ui/badge.js', 'ui'], ['tests/health.test.js', 'qa']]) {
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== '// ' + id + '\\n') { console.error('bad ' + file); process.exit(1); }
}
`;

// Shell syntax in task text: it must reach the model as text, never run.
const HOSTILE = 'Keep this text literal: $(touch pwned) `touch pwned` "double" \'single\' ; | & > pwned';

const TASKS = [
  { id: 'api', role: 'backend-developer', file: 'src/api/health.js', heading: '# Backend developer' },
  { id: 'ui', role: 'frontend-designer', file: 'src/ui/badge.js', heading: '# Frontend designer' },
  { id: 'qa', role: 'qa-engineer', file: 'tests/health.test.js', heading: '# QA engineer' },
] as const;

// JSON is YAML: no escaping of the hostile text to get wrong.
const PLAN = {
  name: 'health',
  tasks: TASKS.map((task) => ({
    id: task.id,
    title: `Health ${task.id}`,
    role: task.role,
    files: [task.file],
    ...(task.id === 'qa' ? { depends_on: ['api', 'ui'] } : {}),
    prompt: `Write ${task.file}.\n${HOSTILE}`,
  })),
};

let mock: MockModel | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

/**
 * What each host charges per token for the `sonnet` alias the agents ask for: 2.1.197 maps it to
 * claude-sonnet-5 ($3 in / $15 out per million), 2.1.332 to claude-sonnet-5-5 ($2 / $10).
 */
const SONNET_PRICE: Record<string, { input: number; output: number }> = {
  '2.1.197': { input: 3e-6, output: 15e-6 },
  '2.1.332': { input: 2e-6, output: 10e-6 },
};

/** The task a session works on, from the prompt the runner sent on stdin. */
function taskOf(request: MockRequest): string | undefined {
  return /^# Task ([a-z0-9._-]+):/m.exec(request.firstUserText)?.[1];
}

/** The agent's answer, derived from the prompt alone: write the file of its write scope. */
function writeScopeFile(request: MockRequest): ReplyBlock[] {
  const id = taskOf(request)!;
  const file = /write scope: (\S+)\.$/m.exec(request.firstUserText)![1]!;
  const js = `const fs=require('fs'),path=require('path');fs.mkdirSync(path.dirname('${file}'),{recursive:true});fs.writeFileSync('${file}','// ${id}\\n');console.log('CWD='+process.cwd())`;
  // The QA agent commits its own work (as the agents' protocol says); the others leave it to the
  // runner. Both must pass the runner's default --allowedTools in the real CLI.
  const commit = id === 'qa' ? ` && git add -A && git commit -qm "qa: tests by the agent"` : '';
  return [text(`Writing ${file}.`), bash(`node -e "${js}"${commit}`, `Write ${file}`)];
}

function agentRules(extra: MockRule[] = []): MockRule[] {
  return [
    ...extra,
    { name: 'agent writes its file', when: (r) => taskOf(r) !== undefined && r.toolResultCount === 0, reply: writeScopeFile },
    { name: 'agent finishes', when: (r) => taskOf(r) !== undefined && r.toolResultCount === 1, reply: (r) => [text(`Status: DONE\nTasks: ${taskOf(r)} written`)] },
  ];
}

function project(): { repo: string; plan: string; home: string; plugin: string } {
  const repo = gitRepo({ 'README.md': '# app\n', 'check.js': CHECK_JS });
  // The plan lives outside the repo, so the main checkout stays clean for verify.
  const scratch = tempDir('pa-scratch-');
  const plan = join(scratch, 'plan.yaml');
  writeFileSync(plan, JSON.stringify(PLAN, null, 2));
  const home = tempDir('pa-home-');
  mkdirSync(join(home, 't'), { recursive: true });
  return { repo, plan, home, plugin: buildTestPlugin() };
}

/** The runner's environment: the real claude first on PATH, the mock as the API, nothing online. */
function runnerEnv(version: string, home: string, modelUrl: string, extra: Record<string, string> = {}): Record<string, string | undefined> {
  const env = offlineEnv({ cwd: home, home, modelUrl, env: extra });
  return { ...env, PATH: `${dirname(ensureClaudeCode(version))}:${env.PATH}` };
}

function sessions(model: MockModel): Map<string, MockRequest[]> {
  const bySession = new Map<string, MockRequest[]>();
  for (const request of model.requests) {
    const list = bySession.get(request.sessionId) ?? [];
    list.push(request);
    bySession.set(request.sessionId, list);
  }
  return bySession;
}

/** run --json: stdout is the report document alone (progress goes to stderr). */
function finalDocument(stdout: string): any {
  return JSON.parse(stdout);
}

describe.each(CLAUDE_CODE_VERSIONS)('run --claude with Claude Code %s', (version) => {
  beforeAll(() => {
    ensureClaudeCode(version);
  }, 300_000);
  const price = SONNET_PRICE[version];

  it('runs each task as its plugin agent in its worktree, two at once, then merges behind the tests and reports usage from the CLI', async () => {
    const { repo, plan, home, plugin } = project();
    // Barrier: neither independent session gets its first answer before the other has asked, so
    // their requests interleave whenever the runner really runs them at once (and the test fails
    // on the interleaving assertion, not on a hang, when it does not).
    const arrived = new Set<string>();
    let bothArrived: () => void = () => {};
    const barrier = new Promise<void>((resolve) => (bothArrived = resolve));
    const guard = new Promise<void>((resolve) => setTimeout(resolve, 20_000).unref());
    mock = await startMockModel(agentRules([
      {
        name: 'independent agent waits for its peer',
        when: (r) => (taskOf(r) === 'api' || taskOf(r) === 'ui') && r.toolResultCount === 0,
        waitFor: (r) => {
          arrived.add(taskOf(r)!);
          if (arrived.size === 2) bothArrived();
          return Promise.race([barrier, guard]);
        },
        reply: writeScopeFile,
      },
    ]));

    // --keep-worktrees: the checks below look inside each task's worktree after the merge.
    const result = await runCliAsync(['run', plan, '--claude', '--plugin-dir', plugin, '--agents', '2', '--test', 'node check.js', '--keep-worktrees', '--json'], {
      cwd: repo,
      env: runnerEnv(version, home, mock.url),
    });
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);
    expect(mock.answeredBy).not.toContain('(none)');
    const final = finalDocument(result.stdout);
    const report = JSON.parse(readFileSync(join(repo, '_tasks', 'run-report.json'), 'utf8'));
    expect(final.report).toEqual(report);
    expect(report.adapter).toBe('claude');
    expect(report.counts).toMatchObject({ total: 3, completed: 3 });

    // One session per task, each run as the task's plugin agent (its body is the system prompt).
    const bySession = sessions(mock);
    expect(bySession.size).toBe(3);
    const sessionOf = new Map<string, MockRequest[]>();
    for (const requests of bySession.values()) sessionOf.set(taskOf(requests[0]!)!, requests);
    for (const task of TASKS) {
      const requests = sessionOf.get(task.id)!;
      expect(requests.map((r) => r.toolResultCount)).toEqual([0, 1]);
      for (const other of TASKS) expect(requests[0]!.systemText.includes(other.heading), `${task.id} system prompt has ${other.heading}`).toBe(other === task);

      // The prompt reached claude verbatim on stdin, shell syntax and all.
      const promptFile = readFileSync(join(repo, '_tasks', 'runner', `${task.id}.attempt-1.prompt.md`), 'utf8');
      expect(requests[0]!.firstUserText).toContain(promptFile.trim());
      expect(requests[0]!.firstUserText).toContain(HOSTILE);

      // The Bash call ran (allowed by the runner's default tool list) in the task's worktree.
      const worktree = /git worktree at (\S+) on branch/.exec(promptFile)![1]!;
      const toolResult = requests[1]!.lastToolResults[0]!;
      expect(toolResult.is_error, toolResult.content).toBe(false);
      expect(toolResult.content.trim()).toBe(`CWD=${worktree}`);
      expect(existsSync(join(worktree, 'pwned'))).toBe(false);

      // Completed with the branch's commit as evidence, holding exactly the task's file.
      const line = report.tasks.find((entry: any) => entry.id === task.id);
      expect(line).toMatchObject({ state: 'completed', attempts: 1, turns: 2 });
      expect(line.commit).toBe(git(worktree, 'rev-parse', 'HEAD'));
      expect(git(worktree, 'show', '--name-only', '--format=', 'HEAD')).toBe(task.file);
      expect(git(worktree, 'log', '-1', '--format=%s')).toBe(task.id === 'qa' ? 'qa: tests by the agent' : `${task.id}: Health ${task.id}`);
      // Tokens and cost come from claude's JSON result: the mock charged 10 in / 5 out per reply,
      // and the CLI priced them as the agent's model (the host's own price for its `sonnet`).
      expect(line.input_tokens).toBe(20);
      expect(line.output_tokens).toBe(10);
      expect(requests[0]!.model).toMatch(/sonnet/);
      expect(price, `no sonnet price recorded for Claude Code ${version}`).toBeDefined();
      expect(line.cost_usd).toBeCloseTo(20 * price!.input + 10 * price!.output, 9);
    }
    expect(statesOf(repo)).toEqual({ api: 'completed', ui: 'completed', qa: 'completed' });
    expect(report.cost_usd).toBeCloseTo(3 * (20 * price!.input + 10 * price!.output), 9);
    expect(existsSync(join(repo, 'pwned'))).toBe(false);

    // The independent sessions overlapped: each asked its first question before the other's last.
    const [api, ui, qa] = [sessionOf.get('api')!, sessionOf.get('ui')!, sessionOf.get('qa')!];
    expect(api[0]!.index).toBeLessThan(ui.at(-1)!.index);
    expect(ui[0]!.index).toBeLessThan(api.at(-1)!.index);
    // The dependent one started after both had finished, from their commits.
    expect(qa[0]!.index).toBeGreaterThan(Math.max(api.at(-1)!.index, ui.at(-1)!.index));

    // verify merged all three into main behind the test command.
    expect(report.verify.status).toBe('merged');
    expect(report.verify.test).toMatchObject({ command: 'node check.js', exit_code: 0 });
    for (const task of TASKS) expect(git(repo, 'show', `main:${task.file}`)).toBe(`// ${task.id}`);
  });

  it('fails a task whose agent reports BLOCKED although claude exits 0, and leaves the target alone', async () => {
    const { repo, plan, home, plugin } = project();
    mock = await startMockModel(agentRules([
      { name: 'api gives up', when: (r) => taskOf(r) === 'api' && r.toolResultCount === 1, reply: [text('I wrote a stub only.\nStatus: BLOCKED\nNotes: the health contract is not specified')] },
    ]));
    const mainBefore = git(repo, 'rev-parse', 'main');
    const result = await runCliAsync(['run', plan, '--claude', '--plugin-dir', plugin, '--agents', '2', '--max-attempts', '1', '--test', 'node check.js', '--json'], {
      cwd: repo,
      env: runnerEnv(version, home, mock.url),
    });
    expect(result.exitCode, result.stderr + result.stdout).toBe(1);
    // The runner asked for the report block, and the real CLI handed the agent's words back.
    const api = mock.requests.find((r) => taskOf(r) === 'api')!;
    expect(api.firstUserText).toContain('"Status: BLOCKED" or "Status: NEEDS_CONTEXT"');
    expect(api.firstUserText).toContain('do not run parallel-agents claim, complete or fail');
    expect(statesOf(repo)).toEqual({ api: 'blocked', ui: 'completed', qa: 'available' });
    const report = JSON.parse(readFileSync(join(repo, '_tasks', 'run-report.json'), 'utf8'));
    expect(report.tasks.find((entry: any) => entry.id === 'api').last_error).toBe('agent reported BLOCKED: the health contract is not specified');
    // The dependent task never ran on the stub, and nothing was merged.
    expect(mock.requests.some((r) => taskOf(r) === 'qa')).toBe(false);
    expect(git(repo, 'rev-parse', 'main')).toBe(mainBefore);
  });

  it('on SIGINT ends the real claude sessions and the commands they were running, and releases the claims', async () => {
    const { repo, plan, home, plugin } = project();
    const marks = tempDir('pa-marks-');
    // Each independent agent starts a command that never ends on its own (a watcher, a server).
    mock = await startMockModel(agentRules([
      {
        name: 'agent starts an endless command',
        when: (r) => r.toolResultCount === 0,
        reply: (r) => [bash(`node -e "require('fs').writeFileSync('${marks}/${taskOf(r)}', String(process.pid)); setInterval(() => {}, 1000)"`)],
      },
    ]));
    const env = runnerEnv(version, home, mock.url);
    const run = startCli(['run', plan, '--claude', '--plugin-dir', plugin, '--agents', '2', '--json'], repo, env as Record<string, string>);
    const running = () => ['api', 'ui'].every((id) => existsSync(join(marks, id)) && readFileSync(join(marks, id), 'utf8') !== '');
    await waitFor(running, 'both agents to run their command');
    const claudePids = ['api', 'ui'].map((id) => JSON.parse(readFileSync(join(repo, '_tasks', 'runner', `${id}.agent.json`), 'utf8')).pid as number);
    const commandPids = ['api', 'ui'].map((id) => Number(readFileSync(join(marks, id), 'utf8')));
    // Should the assertion below fail, do not leave them running on the machine.
    onTestFinished(() => {
      for (const pid of commandPids) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    });
    run.child.kill('SIGINT');
    const exit = await run.done;
    expect(exit.code, exit.stderr).toBe(1);
    expect(statesOf(repo)).toEqual({ api: 'available', ui: 'available', qa: 'available' });
    expect(events(repo).filter((event) => event.event === 'release').map((event) => event.task).sort()).toEqual(['api', 'ui']);
    // The Bash tool runs commands in sessions of their own, out of reach of the group signal: the
    // runner ends them too, or they would keep running in the worktrees after the run.
    await waitFor(() => [...claudePids, ...commandPids].every((pid) => !isAlive(pid)), 'the sessions and their commands to end', 10_000);
  });

  it('treats a 429 from the API as a rate limit: no attempt counted, backs off, and still finishes', async () => {
    const { repo, plan, home, plugin } = project();
    const LIMITED = 2;
    mock = await startMockModel(agentRules([
      { name: 'ui is rate limited', when: (r) => taskOf(r) === 'ui', times: LIMITED * 2, status: 429, reply: [] },
    ]));
    const result = await runCliAsync(['run', plan, '--claude', '--plugin-dir', plugin, '--agents', '2', '--backoff', '50ms', '--test', 'node check.js', '--json'], {
      cwd: repo,
      env: runnerEnv(version, home, mock.url, { CLAUDE_CODE_MAX_RETRIES: '1' }),
    });
    expect(result.exitCode, result.stderr + result.stdout).toBe(0);

    // Each throttled attempt was its own claude session that retried once on its own (the bound
    // set above), then gave up with api_error_status 429.
    const limited = mock.requests.filter((_, index) => mock!.answeredBy[index] === 'ui is rate limited');
    const limitedSessions = new Map<string, number>();
    for (const request of limited) limitedSessions.set(request.sessionId, (limitedSessions.get(request.sessionId) ?? 0) + 1);
    expect([...limitedSessions.values()]).toEqual(Array(LIMITED).fill(2));
    const progress = progressEvents(result.stderr);
    expect(progress.filter((line) => line.event === 'rate-limited').map((line) => line.task)).toEqual(Array(LIMITED).fill('ui'));

    const report = JSON.parse(readFileSync(join(repo, '_tasks', 'run-report.json'), 'utf8'));
    expect(report.rate_limit.hits).toBe(LIMITED);
    expect(report.rate_limit.lowest_concurrency).toBe(1);
    expect(report.counts).toMatchObject({ total: 3, completed: 3 });
    expect(report.verify.status).toBe('merged');
    expect(statesOf(repo)).toEqual({ api: 'completed', ui: 'completed', qa: 'completed' });
    // Released, never failed: the store counted no attempt against ui for the rate limits.
    expect(events(repo).filter((event) => event.event === 'fail' || event.event === 'block')).toEqual([]);
    expect(events(repo).filter((event) => event.event === 'release' && event.task === 'ui')).toHaveLength(LIMITED);
    expect(events(repo).filter((event) => event.event === 'claim' && event.task === 'ui').map((event) => event.attempt)).toEqual(Array(LIMITED + 1).fill(1));
  });
});
