// What reaches a person's terminal: one readable error line, whatever the size of the problem, and
// never a raw control character from a file anyone can edit.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitRepo } from '../helpers/git-repo.ts';
import { runCli } from '../helpers/run-cli.ts';

describe('terminal output', () => {
  it('caps an error listing many problems at one readable line and points at --json for all of them', () => {
    const repo = gitRepo();
    const tasks = Array.from({ length: 200 }, (_, i) => `  - {id: Bad-${i}, title: T, files: [a${i}.ts], prompt: x}`).join('\n');
    writeFileSync(join(repo, 'plan.yaml'), `name: p\ntasks:\n${tasks}\n`);
    const text = runCli(['plan', 'check', 'plan.yaml'], { cwd: repo });
    expect(text.exitCode).toBe(2);
    expect(text.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(text.stderr.length).toBeLessThan(1_200);
    expect(text.stderr).toMatch(/\.\.\. and \d+ more \(run with --json to see them all\)\n$/);
    const json = runCli(['plan', 'check', 'plan.yaml', '--json'], { cwd: repo });
    expect(json.exitCode).toBe(2);
    for (let i = 0; i < 200; i++) expect(json.json.error.message).toContain(`(Bad-${i}).id`);
  });

  it('escapes control characters from task files instead of printing them raw', () => {
    const repo = gitRepo();
    expect(runCli(['init'], { cwd: repo }).exitCode).toBe(0);
    writeFileSync(join(repo, '_tasks', 'available', 'evil.md'), '---\nid: "evil"\ntitle: "\\u001b[2J\\u001b]0;pwned\\u0007 hi"\n---\n');
    const shown = runCli(['show', '--task', 'evil'], { cwd: repo });
    expect(shown.exitCode).toBe(0);
    expect(shown.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(shown.stdout).toContain('\\u001b[2J');
    const status = runCli(['status'], { cwd: repo });
    expect(status.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    // --json keeps the exact text, escaped by JSON itself.
    expect(runCli(['show', '--task', 'evil', '--json'], { cwd: repo }).json.task.title).toBe('\u001b[2J\u001b]0;pwned\u0007 hi');
  });

  it('--version prints the package version', async () => {
    const { version } = await import('../../package.json');
    expect(runCli(['--version'], { cwd: gitRepo() }).stdout).toBe(`${version}\n`);
  });
});

describe('a flag value that starts with "-"', () => {
  for (const [flag, value] of [['--agents', '-1'], ['--timeout', '-5s'], ['--budget-usd', '-1']] as const) {
    it(`run ${flag} ${value} is refused in one line that names the value and how to write it`, () => {
      const repo = gitRepo();
      const result = runCli(['run', 'plan.yaml', '--agent-cmd', 'true', flag, value], { cwd: repo });
      expect(result.exitCode).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain(`${flag} "${value}": a value starting with "-" must be written ${flag}=${value}`);
      // Written that way, the flag's own check says what the value must be.
      const written = runCli(['run', 'plan.yaml', '--agent-cmd', 'true', `${flag}=${value}`], { cwd: repo });
      expect(written.exitCode).toBe(2);
      expect(written.stderr).toMatch(new RegExp(`^parallel-agents: ${flag} must be`));
    });
  }

  it('quotes and shortens a value that is long or holds newlines, so the error stays one line', () => {
    const repo = gitRepo();
    const body = `-x\n---\nid: evil\n${'y'.repeat(100)}`;
    const result = runCli(['add', '--id', 'a', '--title', 'T', '--body', body], { cwd: repo });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.split('\n')).toEqual([expect.any(String), '']);
    expect(result.stderr).toContain(`--body ${JSON.stringify(`${body.slice(0, 60)}…`)}: a value starting with "-" must be written --body=VALUE;`);
  });
});
