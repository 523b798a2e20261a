import { chmodSync, existsSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { git, gitRepo, writeFiles } from '../helpers/git-repo.ts';
import { runCli, runCliAsync } from '../helpers/run-cli.ts';
import { isAlive } from '../helpers/processes.ts';
import { agentScript, planFixture } from '../runner/fixtures.ts';
import { REPO_ROOT } from '../helpers/paths.ts';

// New worktrees are made ready to work in: the ignored files .worktreeinclude names, their own
// ports, the project's set-up command. Everything through the real CLI, real git, real processes.

function config(repo: string, value: unknown): void {
  writeFileSync(join(repo, '.parallel-agents.json'), typeof value === 'string' ? value : JSON.stringify(value));
}

function add(repo: string, task: string) {
  return runCli(['worktree', 'add', '--task', task, '--json'], { cwd: repo });
}

function listen(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ port, exclusive: true }, () => resolve(server));
  });
}

/** A base port whose next `span` ports nobody on this machine listens on right now. */
async function freeRange(span: number): Promise<number> {
  for (;;) {
    const base = 21_000 + Math.floor(Math.random() * 9_000);
    const servers = await Promise.all(Array.from({ length: span }, (_, i) => listen(base + i)));
    await Promise.all(servers.map((server) => server && new Promise((resolve) => server.close(resolve))));
    if (servers.every((server) => server !== undefined)) return base;
  }
}

describe('.worktreeinclude', () => {
  test('copies the ignored files the list names, as Claude Code does, and nothing else', () => {
    const repo = gitRepo({
      '.gitignore': '.env\nsecrets/\nbuild/\nnode_modules/\n*.local.json\n',
      '.worktreeinclude': '# what agents need\n.env\nsecrets/local.json\nconfig/*.local.json\ntracked.txt\n',
      'tracked.txt': 'tracked\n',
    });
    writeFiles(repo, {
      '.env': 'TOKEN=main\n',
      'secrets/local.json': '{"k":1}\n',
      'secrets/other.json': '{}\n',
      'build/out.js': 'x\n',
      'node_modules/pkg/.env': 'not this one\n',
      'config/app.local.json': '{}\n',
      'untracked.txt': 'untracked but not ignored\n',
    });
    chmodSync(join(repo, '.env'), 0o600);
    symlinkSync('../.env', join(repo, 'config', 'linked.local.json'));
    writeFileSync(join(repo, 'tracked.txt'), 'changed in the main checkout\n');

    const result = add(repo, 'api');
    expect(result.exitCode, result.stderr).toBe(0);
    const path = result.json.path as string;
    expect(readFileSync(join(path, '.env'), 'utf8')).toBe('TOKEN=main\n');
    expect(statSync(join(path, '.env')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(path, 'secrets/local.json'), 'utf8')).toBe('{"k":1}\n');
    expect(existsSync(join(path, 'config/app.local.json'))).toBe(true);
    for (const absent of ['secrets/other.json', 'build/out.js', 'node_modules/pkg/.env', 'untracked.txt', 'config/linked.local.json']) {
      expect(existsSync(join(path, absent)), absent).toBe(false);
    }
    // A tracked file is the branch's, never the main checkout's copy.
    expect(readFileSync(join(path, 'tracked.txt'), 'utf8')).toBe('tracked\n');
    expect(git(path, 'status', '--porcelain')).toBe('');
    expect(result.json.prepared).toEqual({ copied: 3, skipped: [{ path: 'config/linked.local.json', reason: 'a symlink' }] });

    const text = runCli(['worktree', 'add', '--task', 'ui'], { cwd: repo });
    expect(text.stdout).toContain('ready:   3 file(s) copied from .worktreeinclude');
    expect(text.stdout).toContain('not copied: config/linked.local.json (a symlink)');
  });
});

describe('set-up command and ports', () => {
  test('runs the set-up in the new worktree with its own ports; a failure leaves no record, and the retry reuses worktree and ports', async () => {
    const base = await freeRange(4);
    const repo = gitRepo({ '.gitignore': '.setup-ran\n', 'README.md': '#\n' });
    const setup = 'printf "%s %s %s %s" "$PARALLEL_PORT" "$PARALLEL_PORT_COUNT" "$PARALLEL_TASK_ID" "$PWD" > .setup-ran';
    config(repo, { setup, ports: { count: 2, from: base, to: base + 3 } });

    const first = add(repo, 'api');
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.json.ports).toEqual({ from: base, count: 2 });
    expect(readFileSync(join(first.json.path, '.setup-ran'), 'utf8')).toBe(`${base} 2 api ${first.json.path}`);
    expect(first.json.prepared).toMatchObject({ copied: 0, setup });
    expect(git(first.json.path, 'status', '--porcelain')).toBe('');

    config(repo, { setup: 'echo preparing; echo "npm ERR! boom" >&2; exit 3', ports: { count: 2, from: base, to: base + 3 } });
    const failed = add(repo, 'ui');
    expect(failed.exitCode).toBe(1);
    expect(failed.json.error.code).toBe('E_SETUP');
    const line = failed.stderr.trim();
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toContain('.parallel-agents.json');
    expect(line).toContain('(exit 3): npm ERR! boom; fix the project or the "setup" field, then run "parallel-agents worktree add --task ui" again');
    expect(existsSync(join(repo, '_tasks', 'worktrees', 'ui.json'))).toBe(false);

    config(repo, { setup, ports: { count: 2, from: base, to: base + 3 } });
    const retried = add(repo, 'ui');
    expect(retried.exitCode, retried.stderr).toBe(0);
    expect(retried.json.ports).toEqual({ from: base + 2, count: 2 });
    expect(readFileSync(join(retried.json.path, '.setup-ran'), 'utf8')).toBe(`${base + 2} 2 ui ${retried.json.path}`);
  });

  test('a set-up that outlives its timeout is killed with everything it started', async () => {
    const repo = gitRepo({ '.gitignore': 'bg.pid\n' });
    config(repo, { setup: 'sleep 300 & echo $! > bg.pid; sleep 300', setup_timeout: '1s' });
    const result = add(repo, 'slow');
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('(timed out after 1s)');
    const pid = Number(readFileSync(join(repo, '.parallel', 'worktrees', 'slow', 'bg.pid'), 'utf8'));
    expect(pid).toBeGreaterThan(0);
    // SIGKILL went to the whole group; the orphan may need a moment to be reaped.
    const deadline = Date.now() + 5_000;
    while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
    expect(isAlive(pid)).toBe(false);
  });

  test('concurrent worktrees get disjoint blocks; a full range is refused; removing a worktree frees its block for the next', async () => {
    const base = await freeRange(12);
    const repo = gitRepo({ 'README.md': '#\n' });
    config(repo, { ports: { count: 2, from: base, to: base + 11 } });
    const ids = ['t0', 't1', 't2', 't3', 't4', 't5'];
    const results = await Promise.all(ids.map((id) => runCliAsync(['worktree', 'add', '--task', id, '--json'], { cwd: repo })));
    for (const result of results) expect(result.exitCode, result.stderr).toBe(0);
    const blocks = results.map((result) => result.json.ports as { from: number; count: number });
    const taken = blocks.flatMap((block) => [block.from, block.from + 1]).sort((a, b) => a - b);
    expect(taken).toEqual(Array.from({ length: 12 }, (_, i) => base + i));

    const full = add(repo, 't6');
    expect(full.exitCode).toBe(1);
    expect(full.stderr).toContain(`no 2 free consecutive port(s) left in ${base}-${base + 11} (6 worktree(s) hold ports`);

    expect(runCli(['worktree', 'remove', '--task', 't3'], { cwd: repo }).exitCode).toBe(0);
    const reused = add(repo, 't6');
    expect(reused.exitCode, reused.stderr).toBe(0);
    expect(reused.json.ports).toEqual(blocks[3]);
  });

  test('skips ports something else on this machine listens on', async () => {
    const base = await freeRange(3);
    const server = await listen(base);
    expect(server).toBeDefined();
    try {
      const repo = gitRepo({ 'README.md': '#\n' });
      config(repo, { ports: { from: base, to: base + 2 } });
      const result = add(repo, 'api');
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.json.ports).toEqual({ from: base + 1, count: 1 });
    } finally {
      await new Promise((resolve) => server!.close(resolve));
    }
  });
});

describe("verify's test worktree", () => {
  test('gets the .worktreeinclude files, the set-up and its own ports; they are free again once verify ends', async () => {
    const base = await freeRange(3);
    const repo = gitRepo({ '.gitignore': '.env\n.setup-ran\n', '.worktreeinclude': '.env\n', 'src/api.js': 'v1\n' });
    writeFiles(repo, { '.env': 'SECRET=1\n' });
    config(repo, { setup: 'echo ready > .setup-ran', ports: { from: base, to: base + 2 } });
    const cli = (args: string[], cwd = repo) => {
      const result = runCli(args, { cwd });
      expect(result.exitCode, `${args.join(' ')}: ${result.stderr}`).toBe(0);
      return result.json;
    };
    cli(['init', '--json']);
    cli(['add', '--id', 'api', '--title', 'API', '--files', 'src/**', '--json']);
    const claimed = cli(['claim', '--agent', 'a1', '--json']);
    const path = cli(['worktree', 'add', '--task', 'api', '--json']).path as string;
    writeFiles(path, { 'src/api.js': 'v2\n' });
    git(path, 'commit', '-qam', 'api v2');
    cli(['complete', '--agent', 'a1', '--task', 'api', '--token', claimed.token, '--commit', 'HEAD', '--json'], path);

    const test = 'echo "port=$PARALLEL_PORT main=$PARALLEL_MAIN_WORKTREE"; test -f .setup-ran && grep -q SECRET=1 .env';
    // The task's worktree stays (and keeps its port): what frees a port here is verify's own test worktree.
    const verify = runCli(['verify', '--test', test, '--keep-worktrees', '--json'], { cwd: repo });
    expect(verify.exitCode, verify.stdout + verify.stderr).toBe(0);
    const report = verify.json;
    expect(report.status).toBe('merged');
    expect(report.test.runs[0].output_tail).toBe(`port=${base + 1} main=${repo}`);

    cli(['add', '--id', 'next', '--title', 'Next', '--files', 'docs/**', '--json']);
    expect(cli(['worktree', 'add', '--task', 'next', '--json']).ports).toEqual({ from: base + 1, count: 1 });
  });
});

describe('runner agents', () => {
  test('run each task with its worktree\'s own ports in the environment', async () => {
    const base = await freeRange(4);
    const { repo, plan, scratch } = planFixture([{ id: 'a' }, { id: 'b' }]);
    config(repo, { ports: { count: 2, from: base, to: base + 3 } });
    git(repo, 'add', '.parallel-agents.json');
    git(repo, 'commit', '-qm', 'declare ports');
    const agent = agentScript(scratch, 'agent.sh', 'cat > /dev/null\nmkdir -p out && echo "$PARALLEL_PORT $PARALLEL_PORT_COUNT" > "out/$PARALLEL_TASK_ID.txt"');
    const result = await runCliAsync(['run', plan, '--agent-cmd', agent, '--agents', '2', '--json'], { cwd: repo });
    expect(result.exitCode, result.stderr).toBe(0);
    const seen = ['a', 'b'].map((id) => readFileSync(join(repo, 'out', `${id}.txt`), 'utf8').trim()).sort();
    expect(seen).toEqual([`${base} 2`, `${base + 2} 2`]);
  });

  test('refuse to start on a malformed .parallel-agents.json instead of failing every task', async () => {
    const { repo, plan, scratch } = planFixture([{ id: 'a' }]);
    config(repo, { ports: { count: 0 } });
    const agent = agentScript(scratch, 'agent.sh', 'cat > /dev/null; exit 0');
    const result = await runCliAsync(['run', plan, '--agent-cmd', agent], { cwd: repo });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`${join(repo, '.parallel-agents.json')}: ports.count: must be at least 1`);
    expect(existsSync(join(repo, '_tasks', 'available', 'a.md'))).toBe(false);
  });
});

describe('the README\'s examples', () => {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const example = (heading: string) => JSON.parse(/```json\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf(heading)))![1]!);

  test('Node: npm ci in each worktree, npm test as the check, two ports', () => {
    // One local dependency: npm ci installs it offline, into this worktree's own node_modules.
    const repo = gitRepo({
      'package.json': JSON.stringify({ name: 'app', version: '1.0.0', private: true, dependencies: { lib: 'file:lib' }, scripts: { test: 'node -e "console.log(process.env.PARALLEL_PORT, process.env.PARALLEL_PORT_COUNT, require.resolve(\'lib\'))"' } }),
      'package-lock.json': JSON.stringify({ name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'app', version: '1.0.0', dependencies: { lib: 'file:lib' } }, lib: { version: '1.0.0' }, 'node_modules/lib': { resolved: 'lib', link: true } } }),
      'lib/package.json': JSON.stringify({ name: 'lib', version: '1.0.0', main: 'index.js' }),
      'lib/index.js': 'module.exports = 1;\n',
      '.gitignore': 'node_modules/\n',
    });
    const node = example('A Node project');
    expect(node).toEqual({ setup: 'npm ci --prefer-offline --no-audit --no-fund', check: 'npm test', ports: { count: 2 } });
    config(repo, { ...node, ports: { ...node.ports, from: 20_000 + Math.floor(Math.random() * 9_000) } });
    const added = add(repo, 'web');
    expect(added.exitCode, added.stderr).toBe(0);
    const check = runCli(['check', '--task', 'web', '--json'], { cwd: repo });
    expect(check.exitCode, check.stderr).toBe(0);
    expect(check.json.output_tail.split('\n').at(-1)).toBe(`${added.json.ports.from} 2 ${join(added.json.path, 'lib', 'index.js')}`);
    expect(existsSync(join(added.json.path, 'node_modules', 'lib'))).toBe(true);
    expect(git(added.json.path, 'status', '--porcelain')).toBe('');
  });

  test.skipIf(spawnSync('python3', ['--version']).status !== 0)('Python: a virtual environment per worktree', () => {
    const python = example('A Python project');
    expect(python.setup).toMatch(/^python3 -m venv \.venv && /);
    expect(python.check).toMatch(/^\.venv\/bin\/python /);
    // The same shape without pip (this test runs offline): the venv is the worktree's own.
    const repo = gitRepo({ '.gitignore': '.venv/\n' });
    config(repo, { setup: 'python3 -m venv --without-pip .venv', check: '.venv/bin/python -c "import os, sys; print(sys.prefix, os.environ[\'PARALLEL_PORT\'])"', ports: python.ports });
    const added = add(repo, 'py');
    expect(added.exitCode, added.stderr).toBe(0);
    const check = runCli(['check', '--task', 'py', '--json'], { cwd: repo });
    expect(check.exitCode, check.stderr).toBe(0);
    expect(check.json.output_tail).toBe(`${join(added.json.path, '.venv')} ${added.json.ports.from}`);
    expect(git(added.json.path, 'status', '--porcelain')).toBe('');
  });
});

describe('.parallel-agents.json errors', () => {
  test.each([
    ['{"setup": "npm ci",}', '(file): not valid JSON'],
    ['["npm ci"]', '(file): must be a JSON object'],
    ['{"chek": "npm test"}', 'chek: unknown field (known: setup, setup_timeout, check, check_timeout, ports)'],
    ['{"setup": "  "}', 'setup: must be a shell command (not empty)'],
    ['{"check": 3}', 'check: '],
    ['{"setup_timeout": "soon"}', 'setup_timeout: must be a duration such as 90s, 10m or 1h'],
    ['{"ports": {"count": 0}}', 'ports.count: must be at least 1'],
    ['{"ports": {"from": 80}}', 'ports.from: must be 1024 or more'],
    ['{"ports": {"count": 5, "from": 30000, "to": 30002}}', 'ports.to: the range 30000-30002 holds fewer than ports.count (5) ports'],
    ['{"ports": {"size": 2}}', 'ports.size: unknown field (known: count, from, to)'],
  ])('%s is refused in one line naming the file and field', (text, expected) => {
    const repo = gitRepo({ 'README.md': '#\n' });
    config(repo, text);
    const result = add(repo, 'api');
    expect(result.exitCode).toBe(2);
    const line = result.stderr.trim();
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toContain(`${join(repo, '.parallel-agents.json')}: ${expected}`);
    expect(line).not.toMatch(/\bat .*\.(ts|js|cjs):\d+/);
  });
});
