// Runs the real, pinned Claude Code CLIs (scripts/install-claude-code.mjs) offline against the mock model. The plugin under test is a
// copy of this repository's plugin assets with the freshly built test bundle as its dist/, because
// the committed dist/ is rebuilt only on main and would test yesterday's CLI.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { ensureClaudeCode } from '../../scripts/install-claude-code.mjs';
import { REPO_ROOT, TEST_BUNDLE } from './paths.ts';
import { tempDir } from './temp-dir.ts';

export const PLUGIN_ASSETS = ['.claude-plugin', 'agents', 'commands', 'skills', 'hooks', 'bin'];

/** A plugin folder holding the assets and the test bundle; returns its path. */
export function buildTestPlugin(): string {
  const root = join(tempDir('pa-plugin-'), 'parallel');
  for (const asset of PLUGIN_ASSETS) {
    if (existsSync(join(REPO_ROOT, asset))) cpSync(join(REPO_ROOT, asset), join(root, asset), { recursive: true });
  }
  mkdirSync(join(root, 'dist'), { recursive: true });
  cpSync(TEST_BUNDLE, join(root, 'dist', 'parallel-agents.cjs'));
  cpSync(join(dirname(TEST_BUNDLE), 'cli.cjs'), join(root, 'dist', 'cli.cjs'));
  cpSync(join(dirname(TEST_BUNDLE), 'hook-bash.cjs'), join(root, 'dist', 'hook-bash.cjs'));
  cpSync(join(dirname(TEST_BUNDLE), 'vendor'), join(root, 'dist', 'vendor'), { recursive: true });
  // The repository's marketplace entry installs ./plugin, its generated copy of these files; this
  // folder is that copy already, so its own entry points at itself.
  const marketplace = join(root, '.claude-plugin', 'marketplace.json');
  const manifest = JSON.parse(readFileSync(marketplace, 'utf8'));
  for (const plugin of manifest.plugins) plugin.source = './';
  writeFileSync(marketplace, JSON.stringify(manifest, null, 2) + '\n');
  return root;
}

export interface ClaudeRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** stream-json events, one per stdout line. */
  events: any[];
  init: any;
  result: any;
}

export interface ClaudeOptions {
  cwd: string;
  home: string;
  /** Which installed host runs (default: the oldest supported). */
  version?: string;
  modelUrl?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * The API when a test runs no mock: a loopback port nothing listens on. Without any
 * ANTHROPIC_BASE_URL, 2.1.332 resolves api.anthropic.com even for `plugin marketplace add` and
 * `plugin install`, and retries DNS for ~17 s per command on an offline machine.
 */
const NO_MODEL_URL = 'http://127.0.0.1:9';

/** Environment for an offline run (reference §9.4): no network, no user config leaking in. */
export function offlineEnv(options: ClaudeOptions): NodeJS.ProcessEnv {
  // PATH keeps node and git but never a globally installed parallel-agents: tests must prove the
  // plugin's bin/ is what the model's Bash calls reach.
  const path = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '' && !existsSync(join(dir, 'parallel-agents')))
    .join(delimiter);
  return {
    PATH: path,
    HOME: options.home,
    ANTHROPIC_API_KEY: 'sk-test',
    ANTHROPIC_BASE_URL: options.modelUrl ?? NO_MODEL_URL,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    CLAUDE_CODE_MAX_RETRIES: '0',
    CLAUDE_CODE_TMPDIR: join(options.home, 't'),
    GIT_AUTHOR_NAME: 'Test',
    GIT_AUTHOR_EMAIL: 'test@example.com',
    GIT_COMMITTER_NAME: 'Test',
    GIT_COMMITTER_EMAIL: 'test@example.com',
    ...options.env,
  };
}

export function runClaude(args: string[], options: ClaudeOptions): Promise<ClaudeRun> {
  const binary = ensureClaudeCode(options.version);
  mkdirSync(join(options.home, 't'), { recursive: true });
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { cwd: options.cwd, env: offlineEnv(options), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const events = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => {
          try {
            return JSON.parse(line);
          } catch {
            return { unparsed: line };
          }
        });
      resolve({
        exitCode: code ?? -1,
        stdout,
        stderr,
        events,
        init: events.find((event) => event.type === 'system' && event.subtype === 'init'),
        result: [...events].reverse().find((event) => event.type === 'result'),
      });
    });
  });
}

/** `claude -p PROMPT` with the plugin loaded, streaming JSON events. */
export function runPrompt(plugin: string, prompt: string, options: ClaudeOptions & { allowedTools?: string[] }): Promise<ClaudeRun> {
  const args = ['--plugin-dir', plugin, '-p', prompt, '--output-format', 'stream-json', '--verbose'];
  if (options.allowedTools) args.push('--allowedTools', options.allowedTools.join(','));
  return runClaude(args, options);
}
