// An unattended run with only the permissions `parallel-agents setup` writes, in the real Claude
// Code, offline against the scripted model: /parallel:setup writes .claude/settings.local.json
// (the workspace is never trusted), then a background subagent claims a task, edits in its
// worktree, runs the task's check there through `parallel-agents check` and completes. The same
// check as `cd <worktree> && npm test` is refused by the host: that is why the subcommand exists.
// Self-contained so it can run once per host version (one entry in HOSTS each).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLAUDE_CODE_VERSION, ensureClaudeCode } from '../../scripts/install-claude-code.mjs';
import { buildTestPlugin, runPrompt } from '../helpers/claude-code.ts';
import { git, gitRepo } from '../helpers/git-repo.ts';
import { bash, startMockModel, text, tool, type MockModel, type MockRequest, type MockRule } from '../helpers/mock-model.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { openStore } from '../../src/store/open-store.ts';
import { openRepoContext } from '../../src/git/repo-context.ts';
import { addWorktree } from '../../src/git/worktree.ts';

const HOSTS = [CLAUDE_CODE_VERSION];

// The project's test: the agent's file is there, .env came through .worktreeinclude, and it says
// where it ran and with which port. Every run is logged, so a refused run can be told from one
// that ran and failed.
const CHECK_JS = `const fs = require('fs');
fs.appendFileSync(process.env.CHECK_LOG, process.cwd() + '\\n');
const token = (fs.readFileSync('.env', 'utf8').match(/HEALTH_TOKEN=(\\S+)/) || [])[1];
if (fs.readFileSync('src/api/health.js', 'utf8') !== 'module.exports = 200;\\n') { console.error('bad health.js'); process.exit(1); }
console.log('CHECK-OK port=' + process.env.PARALLEL_PORT + ' token=' + token + ' cwd=' + process.cwd());
`;

let mock: MockModel | undefined;
afterEach(async () => {
  await mock?.close();
  mock = undefined;
});

const isMain = (request: MockRequest) => !request.fromSubagent;
const invoked = (request: MockRequest, command: string) => request.firstUserText.includes(`<command-name>/${command}</command-name>`);

describe.each(HOSTS)('checks in a task worktree inside Claude Code %s, with only the permissions setup writes', () => {
  beforeAll(() => {
    ensureClaudeCode();
  }, 300_000);

  it('/parallel:setup writes the rules; an agent runs its check through the CLI, and the same check via cd && npm test is refused', async () => {
    const plugin = buildTestPlugin();
    const home = tempDir('pa-home-');
    const checkLog = join(tempDir('pa-log-'), 'check-runs.log');
    writeFileSync(checkLog, '');
    const repo = gitRepo({
      'package.json': JSON.stringify({ name: 'app', private: true, scripts: { test: 'node check.js' } }),
      'check.js': CHECK_JS,
      '.gitignore': '.env\n',
      '.worktreeinclude': '.env\n',
      '.parallel-agents.json': JSON.stringify({ check: 'npm test', ports: { count: 1, from: 23_000 + Math.floor(Math.random() * 5_000) } }),
    });
    writeFileSync(join(repo, '.env'), 'HEALTH_TOKEN=from-main\n');
    const store = openStore({ cwd: repo });
    await store.init();
    await store.add([{ id: 'api', title: 'Health endpoint', role: 'backend-developer', files: ['src/api/**'] }]);
    const worktree = await addWorktree(openRepoContext({ cwd: repo, env: {} }), { taskId: 'api' });
    expect(worktree.ports?.count).toBe(1);

    const worker: MockRule[] = [
      [bash('parallel-agents claim --agent backend-1 --role backend-developer --json')],
      [tool('Write', { file_path: join(worktree.path, 'src/api/health.js'), content: 'module.exports = 200;\n' })],
      [bash(`cd ${worktree.path} && npm test`)],
      [bash('parallel-agents check --task api --json')],
      [bash('parallel-agents complete --agent backend-1 --task api --commit-worktree --summary "health endpoint" --json')],
      [text('Status: DONE\nTasks: api completed\nChecks: parallel-agents check --task api -> exit 0')],
    ].map((reply, step) => ({ name: `worker step ${step}`, when: (r: MockRequest) => r.fromSubagent && r.firstUserText.includes('Agent name: backend-1') && r.toolResultCount === step, reply }));
    mock = await startMockModel([
      ...worker,
      { name: 'setup writes', when: (r) => isMain(r) && invoked(r, 'parallel:setup') && r.toolResultCount === 0, reply: [bash('parallel-agents setup --write --json')] },
      { name: 'setup reports', when: (r) => isMain(r) && invoked(r, 'parallel:setup'), reply: [text('SETUP-DONE')] },
      {
        name: 'main launches',
        when: (r) => isMain(r) && r.firstUserText.includes('RUN-GOAL') && r.toolResultCount === 0,
        reply: [tool('Agent', { description: 'health api', subagent_type: 'parallel:backend-developer', prompt: 'Agent name: backend-1\nRole to claim with: backend-developer\nFollow your protocol.', run_in_background: true })],
      },
      { name: 'main reports', when: (r) => isMain(r) && r.lastUserText.includes('<task-notification>'), reply: [text('RUN-REPORTED')] },
      { name: 'main waits', when: (r) => isMain(r) && r.firstUserText.includes('RUN-GOAL'), reply: [text('LAUNCHED')] },
    ]);

    // 1. The slash command's own turn: its allowed-tools let it run the CLI; the user said "write".
    const setup = await runPrompt(plugin, '/parallel:setup write', { cwd: repo, home, modelUrl: mock.url });
    expect(setup.exitCode, setup.stderr).toBe(0);
    expect(setup.result.result).toContain('SETUP-DONE');
    const shown = mock.requests.find((r) => invoked(r, 'parallel:setup'))!;
    expect(shown.lastUserText).toContain('"missing":["Bash(parallel-agents:*)","Edit(/**)"]');
    const wrote = mock.requests.find((r) => invoked(r, 'parallel:setup') && r.toolResultCount === 1)!.lastToolResults[0]!;
    expect(wrote.is_error, wrote.content).toBe(false);
    expect(JSON.parse(wrote.content)).toMatchObject({ written: true, scope: 'local' });
    const settings = JSON.parse(readFileSync(join(repo, '.claude', 'settings.local.json'), 'utf8'));
    expect(settings).toEqual({ permissions: { allow: ['Bash(parallel-agents:*)', 'Edit(/**)'] } });
    // The workspace stays untrusted: the local settings file needs no trust.
    const userState = existsSync(join(home, '.claude.json')) ? JSON.parse(readFileSync(join(home, '.claude.json'), 'utf8')) : {};
    expect(userState.projects?.[repo]?.hasTrustDialogAccepted).not.toBe(true);

    // 2. A later session, no --allowedTools: only the rules in that file.
    const run = await runPrompt(plugin, 'RUN-GOAL: add a health endpoint', { cwd: repo, home, modelUrl: mock.url, env: { CHECK_LOG: checkLog }, timeoutMs: 90_000 });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/Ignoring .* permissions/);
    expect(run.result.result, JSON.stringify(mock.answeredBy)).toContain('RUN-REPORTED');
    const step = (n: number) => mock!.requests.find((r) => r.fromSubagent && r.firstUserText.includes('Agent name: backend-1') && r.toolResultCount === n)!.lastToolResults[0]!;

    expect(step(1).is_error, step(1).content).toBe(false);
    expect(step(2).is_error, step(2).content).toBe(false);
    // The host refuses the project's tool run from the worktree: no rule allows npm.
    const refused = step(3);
    expect(refused.is_error, refused.content).toBe(true);
    expect(refused.content).toMatch(/^Permission to use Bash has been denied/);
    // The CLI runs the same check there: in the worktree, with its port and the copied .env.
    const checked = step(4);
    expect(checked.is_error, checked.content).toBe(false);
    const report = JSON.parse(checked.content);
    expect(report).toMatchObject({ task: 'api', worktree: worktree.path, command: 'npm test', source: 'project', passed: true, exit_code: 0 });
    expect(report.output_tail).toContain(`CHECK-OK port=${worktree.ports!.from} token=from-main cwd=${worktree.path}`);
    expect(readFileSync(checkLog, 'utf8')).toBe(`${worktree.path}\n`);
    expect(step(5).is_error, step(5).content).toBe(false);

    const task = (await store.get('api'))!;
    expect(task.state).toBe('completed');
    expect(git(worktree.path, 'show', '--name-only', '--format=', task.commit!)).toBe('src/api/health.js');
  });
});
