import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/paths.ts';

function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((file) => file.length > 0);
}

describe('repository rules', () => {
  const files = trackedFiles();
  const sources = files.filter((file) => file.startsWith('src/') && file.endsWith('.ts'));

  it('has the layout the user asked for, with the manifest where the host reads it', () => {
    for (const path of ['agents/', 'commands/', 'skills/', 'scripts/', 'src/', 'tests/', 'package.json', 'tsconfig.json', '.claude-plugin/plugin.json', 'bin/parallel-agents', 'plugin/dist/parallel-agents.cjs']) {
      expect(files.some((file) => file === path || file.startsWith(path)), path).toBe(true);
    }
    expect(files).not.toContain('plugin.json');
  });

  it('keeps one concept per module under src/<domain>/, with no dumping-ground folders', () => {
    for (const file of sources) {
      expect(file, 'no utils/ or helpers/ in src').not.toMatch(/\/(utils?|helpers?|misc|common)\//);
    }
  });

  it('imports zod through its tree-shakable mini namespace (full zod costs ~25 ms per CLI start)', () => {
    for (const file of sources) {
      const text = readFileSync(join(REPO_ROOT, file), 'utf8');
      expect(text, file).not.toMatch(/from 'zod'/);
      // `import { z }` pulls every locale into the bundle; `import * as z` lets esbuild drop them.
      expect(text, file).not.toMatch(/import \{[^}]*\bz\b[^}]*\} from 'zod\/mini'/);
    }
  });

  it('never runs task text through a shell', () => {
    for (const file of sources) {
      const text = readFileSync(join(REPO_ROOT, file), 'utf8');
      expect(text, file).not.toMatch(/shell:\s*true/);
      expect(text, file).not.toMatch(/\bexecSync\(/);
    }
  });

  it("the README's exit-code table is the CLI's own", async () => {
    const { EXIT_MEANINGS } = await import('../../src/errors.ts');
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    for (const [code, meaning] of Object.entries(EXIT_MEANINGS)) expect(readme).toContain(`| ${code} | ${meaning} |`);
  });

  it('the GitHub Actions worker template parses and calls the CLI with flags it has', async () => {
    const { parseYaml } = await import('../../src/text/yaml.ts');
    const { COMMANDS } = await import('../../src/cli/command-table.ts');
    const { GLOBAL_OPTIONS } = await import('../../src/cli/args.ts');
    const path = 'templates/github-actions/parallel-agents.yml';
    const workflow = parseYaml(readFileSync(join(REPO_ROOT, path), 'utf8'), path, 'fix the template') as { jobs: Record<string, { steps: { run?: string }[] }> };
    const calls = Object.values(workflow.jobs).flatMap((job) => job.steps.flatMap((step) => (step.run ?? '').split('\n'))).filter((line) => line.startsWith('parallel-agents '));
    expect(calls.some((line) => line.startsWith('parallel-agents run '))).toBe(true);
    for (const line of calls) {
      const words = line.split(' ').slice(1);
      const name = words[0]! in COMMANDS ? words[0]! : `${words[0]} ${words[1]}`;
      const { command } = await COMMANDS[name]!.load();
      const known = new Set([...Object.keys(command.options), ...Object.keys(GLOBAL_OPTIONS)]);
      expect(words.filter((word) => word.startsWith('--')).map((word) => word.slice(2)).filter((flag) => !known.has(flag)), line).toStrictEqual([]);
    }
  });

  it("the README's command table names every command", async () => {
    const { COMMANDS } = await import('../../src/cli/command-table.ts');
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('| Command | Purpose |'), readme.indexOf('\n\n', readme.indexOf('| Command | Purpose |')));
    // The first cell of each row: code spans such as `plan check PLAN` or `heartbeat / complete / ...`.
    const spans = table.split('\n').flatMap((row) => [...(row.split(/(?<!\\)\|/)[1] ?? '').matchAll(/`([^`]+)`/g)].map((match) => match[1]!));
    for (const name of Object.keys(COMMANDS)) {
      const words = name.split(' ').map((word) => `\\b${word}\\b`).join('.*');
      expect(spans.some((span) => new RegExp(words).test(span)), name).toBe(true);
    }
  });

  it('the README documents every environment variable the code reads or sets', () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const names = new Set<string>();
    for (const file of [...sources, 'hooks/run-hook.cjs']) {
      const text = readFileSync(join(REPO_ROOT, file), 'utf8');
      for (const match of text.matchAll(/\benv\.([A-Z][A-Z0-9_]+)|\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]|\b(PARALLEL_[A-Z0-9_]+):/g)) names.add(match[1] ?? match[2] ?? match[3]!);
    }
    // A scratch index for single git calls: an object of our own named env, never read from the environment.
    names.delete('GIT_INDEX_FILE');
    expect(names.size).toBeGreaterThan(15);
    expect([...names].filter((name) => !readme.includes(`\`${name}\``)).sort()).toEqual([]);
  });

  it('contains no path of the machine it was written on', () => {
    for (const file of files.filter((path) => !path.endsWith('package-lock.json') && !path.startsWith('plugin/dist/'))) {
      let text: string;
      try {
        text = readFileSync(join(REPO_ROOT, file), 'utf8');
      } catch {
        continue;
      }
      expect(text, file).not.toMatch(/(^|[^A-Za-z0-9_.])\/(work|root)\/[a-z]/);
    }
  });
});
