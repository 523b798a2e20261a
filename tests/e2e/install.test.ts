// What `claude plugin marketplace add` + `claude plugin install` put on a user's disk, in the real
// host: from a git URL (this working tree published as a bare repository, served on loopback by
// git http-backend) and from this clone as it is after the Quickstart (node_modules/, .cache/ with
// the Claude Code downloads, .test-build/). The marketplace entry installs the generated plugin/
// folder, which holds no package.json, so neither copies dev tooling nor runs npm.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, lstatSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CLAUDE_CODE_VERSIONS, ensureClaudeCode } from '../../scripts/install-claude-code.mjs';
import { offlineEnv, runClaude, type ClaudeOptions } from '../helpers/claude-code.ts';
import { serveGit, type GitHttpServer } from '../helpers/git-http.ts';
import { git, gitRepo } from '../helpers/git-repo.ts';
import { bash, startMockModel, text, type MockModel } from '../helpers/mock-model.ts';
import { REPO_ROOT } from '../helpers/paths.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const LIMIT_BYTES = 5 * 1024 * 1024;
const VERSION = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version as string;

function bytes(path: string): number {
  const stat = lstatSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, name) => sum + bytes(join(path, name)), 0);
}

/** A bare repository holding this working tree as a push would publish it: tracked and new files, nothing ignored. */
function publishWorkingTree(): string {
  const served = tempDir('pa-git-');
  const work = join(served, 'work');
  const listed = (...args: string[]) => execFileSync('git', ['ls-files', '-z', ...args], { cwd: REPO_ROOT, encoding: 'utf8' }).split('\0').filter(Boolean);
  const tracked = new Set(listed('--cached'));
  // A worktree's node_modules is often a symlink, which `node_modules/` in .gitignore does not match.
  const untracked = listed('--others', '--exclude-standard').filter((file) => !lstatSync(join(REPO_ROOT, file)).isSymbolicLink());
  for (const file of [...tracked, ...untracked]) {
    if (!lstatSync(join(REPO_ROOT, file), { throwIfNoEntry: false })) continue; // deleted, not yet committed
    mkdirSync(dirname(join(work, file)), { recursive: true });
    cpSync(join(REPO_ROOT, file), join(work, file));
  }
  git(work, 'init', '-q', '-b', 'main');
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', 'publish');
  git(served, 'clone', '-q', '--bare', work, 'parallel-agents.git');
  return served;
}

/** A PATH whose `npm` only records that it ran: the host must never call it. */
function npmTrap(home: string): { env: Record<string, string>; ran: () => string } {
  const bin = join(home, 'trap-bin');
  const log = join(home, 'npm-ran.log');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'npm'), `#!/bin/sh\necho "npm $*" >> '${log}'\nexit 1\n`);
  chmodSync(join(bin, 'npm'), 0o755);
  writeFileSync(log, '');
  return { env: { PATH: `${bin}${delimiter}${offlineEnv({ cwd: home, home }).PATH}` }, ran: () => readFileSync(log, 'utf8') };
}

let mock: MockModel | undefined;
let server: GitHttpServer | undefined;
afterEach(async () => {
  await mock?.close();
  await server?.close();
  mock = server = undefined;
});

describe.each(CLAUDE_CODE_VERSIONS)('installing the plugin with Claude Code %s', (version) => {
  beforeAll(() => {
    ensureClaudeCode(version);
  }, 300_000);

  /** marketplace add + install into a fresh HOME, then a session that runs the plugin's bin/. */
  async function installAndRun(source: string): Promise<{ home: string; installPath: string; addedBytes: number; npmRan: string; debug: string }> {
    const home = tempDir('pa-home-');
    const trap = npmTrap(home);
    // offlineEnv points the API at loopback: 2.1.332 otherwise spends ~17 s per command on DNS retries.
    const options: ClaudeOptions = { version, cwd: home, home, env: trap.env };
    const add = await runClaude(['plugin', 'marketplace', 'add', source], options);
    expect(add.exitCode, add.stdout + add.stderr).toBe(0);
    const debugFile = join(home, 'install.debug');
    const install = await runClaude(['--debug-file', debugFile, 'plugin', 'install', 'parallel@parallel-agents'], options);
    expect(install.exitCode, install.stdout + install.stderr).toBe(0);
    expect(install.stdout).toMatch(/Successfully installed plugin: parallel@parallel-agents/);
    const addedBytes = bytes(join(home, '.claude'));
    const installed = JSON.parse(readFileSync(join(home, '.claude', 'plugins', 'installed_plugins.json'), 'utf8'));
    const installPath: string = installed.plugins['parallel@parallel-agents'][0].installPath;

    mock = await startMockModel([
      { name: 'run the helper', when: (r) => r.toolResultCount === 0, reply: [bash('parallel-agents --version')] },
      { name: 'report', when: (r) => r.toolResultCount === 1, reply: (r) => [text(`HELPER:${r.lastToolResults[0]!.content}`)] },
    ]);
    const run = await runClaude(['-p', 'hello', '--output-format', 'stream-json', '--verbose', '--allowedTools', 'Bash(parallel-agents:*)'], { ...options, cwd: gitRepo(), modelUrl: mock.url });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.init.plugins.map((p: any) => p.name)).toContain('parallel');
    expect(run.init.agents).toContain('parallel:backend-developer');
    expect(run.result.result).toContain(`HELPER:${VERSION}`);
    return { home, installPath, addedBytes, npmRan: trap.ran(), debug: readFileSync(debugFile, 'utf8') };
  }

  it('from a git URL: under 5 MB added, no npm run, no dev tooling; the plugin loads and its bin/ runs', async () => {
    server = await serveGit(publishWorkingTree());
    const { installPath, addedBytes, npmRan, debug } = await installAndRun(`${server.url}/parallel-agents.git`);
    expect(server.requests.some((path) => path.endsWith('/info/refs')), 'the host cloned over smart HTTP').toBe(true);
    expect(addedBytes, `${addedBytes} bytes`).toBeLessThan(LIMIT_BYTES);
    expect(npmRan).toBe('');
    expect(debug).not.toMatch(/Installing plugin dependencies/);
    expect(installPath).toContain(join('.claude', 'plugins', 'cache'));
    const installed = readdirSync(installPath);
    for (const name of ['agents', 'bin', 'commands', 'dist', 'hooks', 'skills']) expect(installed).toContain(name);
    for (const name of ['node_modules', 'package.json', 'package-lock.json', 'src', 'tests', '.cache']) expect(installed).not.toContain(name);
  });

  it('from this clone after the Quickstart (node_modules/, .cache/, .test-build/ present): under 5 MB added, no npm run', async () => {
    const { addedBytes, npmRan, debug } = await installAndRun(REPO_ROOT);
    expect(addedBytes, `${addedBytes} bytes`).toBeLessThan(LIMIT_BYTES);
    expect(npmRan).toBe('');
    expect(debug).not.toMatch(/Installing plugin dependencies/);
  });
});
