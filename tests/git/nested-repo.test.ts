import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { git, gitRepo, writeFiles } from '../helpers/git-repo.ts';
import { runCli } from '../helpers/run-cli.ts';

// A git repository inside a task's worktree (a clone, a scaffolder's `git init`) is stored by
// `git add` as a bare gitlink to a commit only its own .git has: neither committed nor backed up.

function project(): { repo: string; path: string; token: string; cli: (args: string[]) => ReturnType<typeof runCli> } {
  const repo = gitRepo({ 'src/api/index.ts': 'export const api = 1;\n' });
  const cli = (args: string[]): ReturnType<typeof runCli> => runCli(args, { cwd: repo });
  cli(['init']);
  cli(['add', '--id', 'api', '--title', 'API', '--files', 'src/api/**']);
  const token = cli(['claim', '--agent', 'a', '--json']).json.token as string;
  const path = cli(['worktree', 'add', '--task', 'api', '--json']).json.path as string;
  return { repo, path, token, cli };
}

function nestedRepo(dir: string, files: Record<string, string>): void {
  writeFiles(dir, files);
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, '-c', 'user.name=T', '-c', 'user.email=t@e', 'commit', '-qm', 'nested');
}

describe('a nested git repository in a worktree', () => {
  test('complete --commit-worktree refuses it (staged or untracked) and commits nothing; without its .git the files are committed', () => {
    const { repo, path, token, cli } = project();
    const base = git(path, 'rev-parse', 'HEAD');
    nestedRepo(join(path, 'src/api/plugin'), { 'plugin.ts': 'export const plugin = 1;\n' });
    const complete = (): ReturnType<typeof runCli> => cli(['complete', '--agent', 'a', '--task', 'api', '--token', token, '--commit-worktree', '--json']);
    // Staged by the agent itself: a gitlink in the index.
    git(path, 'add', 'src/api/plugin');
    for (const way of ['staged', 'untracked']) {
      const refused = complete();
      expect(refused.exitCode, way).toBe(1);
      expect(refused.json.error, way).toMatchObject({ code: 'E_EVIDENCE', nested_repositories: ['src/api/plugin'] });
      expect(refused.json.error.message).toContain('remove its .git folder');
      expect(git(path, 'rev-parse', 'HEAD')).toBe(base);
      // The refusal unstaged the gitlink, leaving the folder untracked as before.
      expect(git(path, 'status', '--porcelain')).toBe('?? src/api/plugin/');
    }
    rmSync(join(path, 'src/api/plugin/.git'), { recursive: true, force: true });
    expect(complete().exitCode).toBe(0);
    expect(cli(['verify', '--json']).json.status).toBe('merged');
    expect(git(repo, 'ls-tree', 'main', 'src/api/plugin/plugin.ts')).toMatch(/^100644 blob /);
  });

  test('complete --commit refuses a commit that records it as a gitlink', () => {
    const { path, token, cli } = project();
    nestedRepo(join(path, 'src/api/plugin'), { 'plugin.ts': 'export const plugin = 1;\n' });
    git(path, 'add', 'src/api/plugin');
    git(path, 'commit', '-qm', 'vendored plugin');
    const refused = cli(['complete', '--agent', 'a', '--task', 'api', '--token', token, '--commit', 'HEAD', '--json']);
    expect(refused.exitCode).toBe(1);
    expect(refused.json.error).toMatchObject({ code: 'E_EVIDENCE', nested_repositories: ['src/api/plugin'] });
  });

  test('cleanup after verify, and worktree remove --force, keep the worktree and say why', () => {
    const { repo, path, token, cli } = project();
    writeFiles(path, { 'src/api/index.ts': 'export const api = 2;\n' });
    expect(cli(['complete', '--agent', 'a', '--task', 'api', '--token', token, '--commit-worktree']).exitCode).toBe(0);
    nestedRepo(join(path, 'src/api/plugin'), { 'plugin.ts': 'export const plugin = "precious";\n' });
    writeFiles(join(path, 'src/api/plugin'), { 'draft.ts': 'uncommitted\n' });
    const verify = cli(['verify', '--json']);
    expect(verify.exitCode, verify.stderr).toBe(0);
    expect(verify.json.status).toBe('merged');
    expect(readFileSync(join(repo, 'src/api/index.ts'), 'utf8')).toBe('export const api = 2;\n');
    expect(verify.json.removed).toEqual([]);
    expect(verify.json.cleanup).toMatchObject([{ task: 'api' }]);
    expect(verify.json.cleanup[0].reason).toContain('src/api/plugin is a git repository of its own');
    const forced = cli(['worktree', 'remove', '--task', 'api', '--force', '--json']);
    expect(forced.exitCode).toBe(1);
    expect(forced.json.error).toMatchObject({ code: 'E_REFUSED', nested_repositories: ['src/api/plugin'] });
    expect(readFileSync(join(path, 'src/api/plugin/draft.ts'), 'utf8')).toBe('uncommitted\n');
    expect(existsSync(join(path, 'src/api/plugin/.git'))).toBe(true);
  });

  test('complete --commit in a shared checkout (no worktree) refuses a commit recording it as a gitlink', () => {
    const repo = gitRepo({ 'src/api/index.ts': 'export const api = 1;\n' });
    const cli = (args: string[]): ReturnType<typeof runCli> => runCli(args, { cwd: repo });
    cli(['add', '--id', 'api', '--title', 'API', '--files', 'src/api/**']);
    const token = cli(['claim', '--agent', 'a', '--json']).json.token as string;
    const nested = join(repo, 'src/api/plugin');
    writeFiles(nested, { 'plugin.ts': 'export const plugin = 1;\n' });
    git(nested, 'init', '-q', '-b', 'main');
    git(nested, 'add', '-A');
    git(nested, '-c', 'user.name=T', '-c', 'user.email=t@e', 'commit', '-qm', 'nested');
    git(repo, 'add', 'src/api/plugin');
    git(repo, 'commit', '-qm', 'vendored plugin');
    expect(git(repo, 'ls-tree', 'HEAD', 'src/api/plugin')).toMatch(/^160000 commit /);
    const done = cli(['complete', '--agent', 'a', '--task', 'api', '--token', token, '--commit', 'HEAD', '--json']);
    expect(done.exitCode).toBe(1);
    expect(done.json.error).toMatchObject({ code: 'E_EVIDENCE', nested_repositories: ['src/api/plugin'] });
  });
});
