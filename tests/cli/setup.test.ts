import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { git, gitRepo } from '../helpers/git-repo.ts';
import { runCli } from '../helpers/run-cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';

// `parallel-agents setup` shows and writes the Claude Code settings an unattended run needs,
// merging into what is there and refusing what it cannot read. HOME is a temp folder: --trust
// writes the user's Claude Code state file.

const RULES = ['Bash(parallel-agents:*)', 'Edit(/**)'];

function setup(repo: string, args: string[], home = tempDir('pa-home-'), env: Record<string, string> = {}) {
  return runCli(['setup', ...args, '--json'], { cwd: repo, env: { HOME: home, CLAUDE_CONFIG_DIR: undefined, ...env } });
}

const local = (repo: string) => join(repo, '.claude', 'settings.local.json');

describe('parallel-agents setup', () => {
  test('shows what it would write and writes nothing without --write; --write adds the rules once and hides the file from git', () => {
    const repo = gitRepo();
    const shown = setup(repo, []);
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.json).toMatchObject({ file: local(repo), scope: 'local', missing: RULES, write: false, written: false });
    expect(existsSync(join(repo, '.claude'))).toBe(false);
    const text = runCli(['setup'], { cwd: repo, env: { HOME: tempDir('pa-home-') } }).stdout;
    expect(text).toContain('+ Bash(parallel-agents:*)');
    expect(text).toContain('dry run, nothing written: "parallel-agents setup --write" (or /parallel:setup write) adds the 2 rule(s) marked +');

    const written = setup(repo, ['--write']);
    expect(written.json).toMatchObject({ written: true, excluded_from_git: true });
    expect(JSON.parse(readFileSync(local(repo), 'utf8'))).toEqual({ permissions: { allow: RULES } });
    expect(git(repo, 'status', '--porcelain', '--untracked-files=all')).toBe('');

    const before = readFileSync(local(repo), 'utf8');
    const again = setup(repo, ['--write']);
    expect(again.json).toMatchObject({ missing: [], written: false, excluded_from_git: false });
    expect(readFileSync(local(repo), 'utf8')).toBe(before);
  });

  test('merges into an existing file: other keys, rules and the file mode stay', () => {
    const repo = gitRepo();
    mkdirSync(join(repo, '.claude'));
    const existing = { env: { FOO: '1' }, permissions: { allow: ['Bash(npm test:*)', 'Edit(/**)'], deny: ['Read(./.env)'], defaultMode: 'default' }, hooks: { Stop: [] } };
    writeFileSync(local(repo), JSON.stringify(existing));
    chmodSync(local(repo), 0o600);
    const result = setup(repo, ['--write']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.json.missing).toEqual(['Bash(parallel-agents:*)']);
    expect(JSON.parse(readFileSync(local(repo), 'utf8'))).toEqual({ ...existing, permissions: { ...existing.permissions, allow: ['Bash(npm test:*)', 'Edit(/**)', 'Bash(parallel-agents:*)'] } });
    expect(statSync(local(repo)).mode & 0o777).toBe(0o600);
  });

  test.each([
    ['{"permissions": {"allow": [', 'is not valid JSON'],
    ['[1, 2]', 'must hold a JSON object'],
    ['{"permissions": []}', ': permissions must be a JSON object'],
    ['{"permissions": {"allow": "Edit"}}', ': permissions.allow must be a list of rules'],
  ])('refuses %s in one line naming the file, and leaves it as it was', (text, message) => {
    const repo = gitRepo();
    mkdirSync(join(repo, '.claude'));
    writeFileSync(local(repo), text);
    const result = runCli(['setup', '--write'], { cwd: repo, env: { HOME: tempDir('pa-home-') } });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(result.stderr).toContain(`parallel-agents: ${local(repo)}`);
    expect(result.stderr).toContain(message);
    expect(readFileSync(local(repo), 'utf8')).toBe(text);
  });

  test('--shared writes the team file and says claude -p ignores it until trusted; --trust records the trust, keeping the rest of the user file', () => {
    const repo = gitRepo();
    const home = tempDir('pa-home-');
    const userFile = join(home, '.claude.json');
    const other = { numStartups: 3, projects: { '/elsewhere': { hasTrustDialogAccepted: true, allowedTools: [] } }, oauthAccount: { id: 'x' } };
    writeFileSync(userFile, JSON.stringify(other));
    chmodSync(userFile, 0o600);

    const shared = setup(repo, ['--shared', '--write'], home);
    expect(shared.json).toMatchObject({ scope: 'shared', written: true, trust: { trusted: false, written: false } });
    expect(shared.json.notes[0]).toMatch(/^claude -p ignores \.claude\/settings\.json until this workspace is trusted/);
    expect(JSON.parse(readFileSync(join(repo, '.claude', 'settings.json'), 'utf8')).permissions.allow).toEqual(RULES);
    expect(readFileSync(userFile, 'utf8')).toBe(JSON.stringify(other));

    const dry = runCli(['setup', '--shared', '--trust'], { cwd: repo, env: { HOME: home } });
    expect(dry.stdout).toContain(`--trust --write would record projects["${realpathSync(repo)}"].hasTrustDialogAccepted = true in ${userFile}`);
    expect(readFileSync(userFile, 'utf8')).toBe(JSON.stringify(other));

    const trusted = runCli(['setup', '--shared', '--trust', '--write'], { cwd: repo, env: { HOME: home } });
    expect(trusted.stdout).toContain(`TRUSTED: recorded projects["${realpathSync(repo)}"].hasTrustDialogAccepted = true in ${userFile}, on your behalf.`);
    expect(JSON.parse(readFileSync(userFile, 'utf8'))).toEqual({ ...other, projects: { ...other.projects, [realpathSync(repo)]: { hasTrustDialogAccepted: true } } });
    expect(statSync(userFile).mode & 0o777).toBe(0o600);
    expect(setup(repo, ['--shared'], home).json.trust).toMatchObject({ trusted: true, written: false });
  });

  test('--trust honours CLAUDE_CONFIG_DIR, creates a private file, and refuses a malformed one before writing anything', () => {
    const repo = gitRepo();
    const configDir = tempDir('pa-claude-');
    const created = setup(repo, ['--trust', '--write'], tempDir('pa-home-'), { CLAUDE_CONFIG_DIR: configDir });
    expect(created.exitCode, created.stderr).toBe(0);
    const file = join(configDir, '.claude.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ projects: { [realpathSync(repo)]: { hasTrustDialogAccepted: true } } });
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const other = gitRepo();
    writeFileSync(file, '{"projects": ');
    const refused = runCli(['setup', '--trust', '--write'], { cwd: other, env: { CLAUDE_CONFIG_DIR: configDir } });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(new RegExp(`^parallel-agents: ${file} is not valid JSON .*nothing was written\\n$`));
    expect(existsSync(local(other))).toBe(false);
  });

  test('adds Edit and Read for worktrees that live outside the project, and shows the project\'s worktree set-up', () => {
    const repo = gitRepo({ '.parallel-agents.json': '{"setup": "npm ci", "check": "npm test", "ports": {"count": 2}}', '.worktreeinclude': '# env\n.env\n' });
    const outside = tempDir('pa-wt-');
    const result = runCli(['setup'], { cwd: repo, env: { HOME: tempDir('pa-home-'), PARALLEL_WORKTREES_DIR: outside } });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(`+ Edit(/${outside}/**)`);
    expect(result.stdout).toContain(`+ Read(/${outside}/**)`);
    expect(result.stdout).toContain('project: set-up "npm ci", check "npm test", 2 port(s) per worktree in 20000-20999; .worktreeinclude: 1 pattern(s)');
  });
});
