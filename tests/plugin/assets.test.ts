// Lint of the plugin's Markdown and JSON as a unit test: the host's validator checks syntax, this
// checks the contract (every agent the issue names exists with least-privilege tools and a model,
// implementation agents share one protocol, and every CLI call written in prose is a real
// subcommand with real flags, so the prose cannot drift from the CLI).
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import matter from 'gray-matter';
import { describe, expect, it } from 'vitest';
import { GLOBAL_OPTIONS } from '../../src/cli/args.ts';
import { COMMANDS, COMMAND_GROUPS } from '../../src/cli/command-table.ts';
import { iconPng } from '../../scripts/make-icon.mjs';
import { REPO_ROOT } from '../helpers/paths.ts';

interface Asset {
  file: string;
  data: Record<string, any>;
  body: string;
  text: string;
}

function readAsset(file: string): Asset {
  const text = readFileSync(join(REPO_ROOT, file), 'utf8');
  // Options object: gray-matter caches by content otherwise and hides a malformed block (STYLE §9).
  const parsed = matter(text, {});
  return { file, data: parsed.data, body: parsed.content, text };
}

const agents = readdirSync(join(REPO_ROOT, 'agents')).filter((name) => name.endsWith('.md')).map((name) => readAsset(`agents/${name}`));
const commands = readdirSync(join(REPO_ROOT, 'commands')).filter((name) => name.endsWith('.md')).map((name) => readAsset(`commands/${name}`));
const skills = readdirSync(join(REPO_ROOT, 'skills')).map((dir) => readAsset(`skills/${dir}/SKILL.md`));
const markdown = [...agents, ...commands, ...skills];

const REQUIRED_AGENTS = ['backend-developer', 'frontend-designer', 'product-manager', 'qa-engineer', 'coordinator'];
const MODELS = new Set(['haiku', 'sonnet', 'opus', 'inherit']);
const WRITE_TOOLS = ['Edit', 'Write', 'MultiEdit', 'NotebookEdit'];
const STATUSES = 'DONE | DONE_WITH_CONCERNS | BLOCKED | NEEDS_CONTEXT';

function toolList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return String(value ?? '').split(',').map((tool) => tool.trim()).filter(Boolean);
}

function section(body: string, heading: string): string {
  const start = body.indexOf(`## ${heading}`);
  if (start < 0) return '';
  const next = body.indexOf('\n## ', start + 3);
  return body.slice(start, next < 0 ? undefined : next);
}

/** Every `parallel-agents <sub> ...` written in the Markdown, cut at shell operators and backticks. */
export function cliInvocations(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/parallel-agents((?: [^`\n|;&]*)?)/g)) {
    const rest = (match[1] ?? '').replace(/\s2>&1.*$/, '').trim();
    if (rest === '' || !/^[a-z]/.test(rest)) continue;
    found.push(rest);
  }
  return found;
}

describe('manifest and marketplace', () => {
  it('plugin.json has the fields the issue and the host require', () => {
    const manifest = JSON.parse(readFileSync(join(REPO_ROOT, '.claude-plugin/plugin.json'), 'utf8'));
    expect(manifest.name).toBe('parallel');
    expect(manifest.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(typeof manifest.description).toBe('string');
    expect(typeof manifest.author?.name).toBe('string');
    expect(typeof manifest.repository).toBe('string');
    expect(typeof manifest.license).toBe('string');
    expect(Array.isArray(manifest.keywords)).toBe(true);
    // The manifest must not name hooks/hooks.json: the host loads it anyway and then reports a duplicate.
    expect(manifest.hooks).toBeUndefined();
    // Claude Code 2.1.197's `plugin validate --strict` rejects both as unknown fields; the icon is found by its path.
    expect(manifest.icon).toBeUndefined();
    expect(manifest.network).toBeUndefined();
  });

  it('the repository is its own marketplace serving the generated plugin/ folder, which holds only what the plugin runs', () => {
    const marketplace = JSON.parse(readFileSync(join(REPO_ROOT, '.claude-plugin/marketplace.json'), 'utf8'));
    expect(typeof marketplace.owner?.name).toBe('string');
    expect(marketplace.plugins).toEqual([expect.objectContaining({ name: 'parallel', source: './plugin' })]);
    expect(readdirSync(join(REPO_ROOT, 'plugin')).sort()).toEqual(['.claude-plugin', 'agents', 'bin', 'commands', 'dist', 'hooks', 'skills']);
    expect(readdirSync(join(REPO_ROOT, 'plugin', '.claude-plugin')).sort()).toEqual(['icon.png', 'plugin.json']);
    // package.json plus a lockfile there would make `claude plugin install` run `npm ci`, dev dependencies included.
    for (const name of ['package.json', 'package-lock.json', 'npm-shrinkwrap.json', 'bun.lock', 'bun.lockb', 'node_modules']) {
      expect(existsSync(join(REPO_ROOT, 'plugin', name)), name).toBe(false);
    }
  });

  it('the icon is the one scripts/make-icon.mjs draws: a square PNG of 512 to 2048 px, under 2 MB', () => {
    const png = readFileSync(join(REPO_ROOT, '.claude-plugin', 'icon.png'));
    expect(png.equals(iconPng())).toBe(true);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
    const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
    expect(width).toBe(height);
    expect(width).toBeGreaterThanOrEqual(512);
    expect(width).toBeLessThanOrEqual(2048);
    expect(png.length).toBeLessThan(2 * 1024 * 1024);
  });
});

describe('agents', () => {
  it.each(REQUIRED_AGENTS)('%s exists', (name) => {
    expect(agents.map((agent) => agent.data.name)).toContain(name);
  });

  it.each(agents.map((agent) => [agent.file, agent] as const))('%s: name, description, least-privilege tools, model with a reason', (file, agent) => {
    expect(`agents/${agent.data.name}.md`).toBe(file);
    expect(String(agent.data.description ?? '').length).toBeGreaterThan(40);
    const tools = toolList(agent.data.tools);
    expect(tools.length).toBeGreaterThan(0);
    expect(tools).not.toContain('*');
    expect(MODELS.has(agent.data.model)).toBe(true);
    expect(agent.body).toMatch(new RegExp(`\\*\\*Model: ${agent.data.model}\\.\\*\\* \\S`));
    expect(agent.body).toContain(STATUSES);
  });

  it('implementation agents share one claim protocol, word for word', () => {
    const writers = agents.filter((agent) => toolList(agent.data.tools).some((tool) => WRITE_TOOLS.includes(tool)));
    expect(writers.map((agent) => agent.data.name).sort()).toEqual(['backend-developer', 'frontend-designer', 'product-manager', 'qa-engineer']);
    const protocol = section(writers[0]!.body, 'Protocol in a parallel run');
    for (const step of ['claim --agent', 'worktree', 'heartbeat', 'check --task', 'complete --agent', '--commit', 'fail --agent', '--reason', 'Exit 3', 'Exit 4', 'Exit 5']) {
      expect(protocol).toContain(step);
    }
    for (const agent of writers) {
      expect(section(agent.body, 'Protocol in a parallel run'), agent.file).toBe(protocol);
      expect(section(agent.body, 'Report'), agent.file).toBe(section(writers[0]!.body, 'Report'));
    }
  });

  it('read-only agents never claim and cannot edit', () => {
    const readers = agents.filter((agent) => !toolList(agent.data.tools).some((tool) => WRITE_TOOLS.includes(tool)));
    expect(readers.length).toBeGreaterThanOrEqual(2);
    for (const agent of readers) {
      expect(agent.body, agent.file).not.toMatch(/parallel-agents claim/);
    }
  });
});

describe('skills and commands', () => {
  it.each(skills.map((skill) => [skill.file, skill] as const))('%s: named after its folder, description says only when to use it', (file, skill) => {
    expect(file).toBe(`skills/${skill.data.name}/SKILL.md`);
    expect(String(skill.data.description)).toMatch(/^Use when /);
  });

  it('/parallel is a skill (bare name works only for skills) and no command shadows a skill', () => {
    expect(existsSync(join(REPO_ROOT, 'skills/parallel/SKILL.md'))).toBe(true);
    const commandNames = commands.map((command) => command.file.replace(/^commands\/|\.md$/g, ''));
    expect(commandNames.sort()).toEqual(['batch', 'merge', 'resume', 'setup', 'status']);
    for (const skill of skills) expect(commandNames).not.toContain(skill.data.name);
  });

  it.each(commands.map((command) => [command.file, command] as const))('%s: description and allowed-tools narrowed to the CLI', (file, command) => {
    expect(String(command.data.description ?? '').length).toBeGreaterThan(20);
    const allowed = toolList(command.data['allowed-tools']);
    expect(allowed).toContain('Bash(parallel-agents:*)');
    expect(allowed.filter((tool) => tool.startsWith('Bash(') && !tool.startsWith('Bash(parallel-agents'))).toEqual([]);
    expect(allowed).not.toContain('Bash');
  });

  it('every pre-executed line tolerates a failing CLI (a failed `!` line silently aborts the whole command in -p)', () => {
    for (const asset of [...commands, ...skills]) {
      for (const line of asset.body.split('\n')) {
        if (/(^|\s)!`/.test(line)) expect(line, asset.file).toMatch(/!`parallel-agents [^`]* 2>&1 \|\| true`/);
      }
    }
  });
});

describe('CLI calls written in the Markdown', () => {
  const calls = markdown.flatMap((asset) => cliInvocations(asset.text).map((call) => [asset.file, call] as const));

  it('finds the calls', () => {
    expect(calls.length).toBeGreaterThan(30);
  });

  it.each(calls)('%s: parallel-agents %s', async (_file, call) => {
    const words = call.split(/\s+/);
    const name = COMMAND_GROUPS.has(words[0]!) ? `${words[0]} ${words[1]}` : words[0]!;
    const entry = COMMANDS[name];
    expect(entry, `unknown subcommand "${name}"`).toBeDefined();
    const { command } = await entry!.load();
    const known = new Set([...Object.keys(command.options), ...Object.keys(GLOBAL_OPTIONS)]);
    for (const word of words) {
      const flag = /^--([a-z][a-z-]*)/.exec(word)?.[1];
      if (flag) expect(known.has(flag), `--${flag} is not an option of "${name}"`).toBe(true);
    }
  });
});

describe('hooks.json', () => {
  const hooks = JSON.parse(readFileSync(join(REPO_ROOT, 'hooks/hooks.json'), 'utf8')).hooks as Record<string, Array<{ hooks: any[] }>>;
  const handlers = Object.entries(hooks).flatMap(([event, groups]) => groups.flatMap((group) => group.hooks.map((handler) => [event, handler] as const)));

  it('guards every file-editing tool and subagent stops', () => {
    const matchers = hooks.PreToolUse!.map((group: any) => String(group.matcher)).join('|').split('|');
    for (const tool of ['Bash', ...WRITE_TOOLS]) expect(matchers).toContain(tool);
    expect(hooks.SubagentStop).toBeDefined();
  });

  it.each(handlers)('%s runs the hook entry in exec form with a timeout', (_event, handler) => {
    expect(handler.type).toBe('command');
    expect(handler.command).toBe('node');
    expect(handler.args[0]).toBe('${CLAUDE_PLUGIN_ROOT}/hooks/run-hook.cjs');
    expect(['pre-tool-use', 'subagent-stop']).toContain(handler.args[1]);
    expect(handler.timeout).toBeGreaterThan(0);
    expect(handler.timeout).toBeLessThanOrEqual(30);
  });
});
