import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitRepo } from '../helpers/git-repo.ts';
import { runCli, runCliAsync, type CliRun } from '../helpers/run-cli.ts';
import { scopeEntryMessage, scopeEntryProblem, splitScopeList } from '../../src/scope/scope-entry.ts';

// One validation for every way a scope entry comes in. The table words each refusal; the doors
// test feeds every bad entry through `add --files`, a plan file (`plan check`, `plan publish`)
// and a hand-written task file (`status`, `claim`) and expects the same words from each.

const BAD: Array<[string, string]> = [
  ['', 'is empty: name a file, folder or glob relative to the repository root'],
  ['/etc/passwd', 'is absolute: write it relative to the repository root'],
  [' /etc', 'is absolute: write it relative to the repository root'],
  ['C:/work', 'is absolute: write it relative to the repository root'],
  ['../x', 'contains "..": a scope stays inside the repository; name the path from its root'],
  [' ../x', 'contains "..": a scope stays inside the repository; name the path from its root'],
  ['a\\..\\b', 'contains "..": a scope stays inside the repository; name the path from its root'],
  ['a\\b', 'uses "\\": separate folders with "/"'],
  ['.', 'names no path: write ** for the whole repository'],
  ['./', 'names no path: write ** for the whole repository'],
  ['!src/**', 'is negated ("!…"), which scopes do not support: list what the task writes'],
  ['a/./b', 'has a "." segment: leave it out (a/b, not a/./b)'],
  ['src/[a', 'has a "[" without its "]": close the character class'],
  ['src/a]', 'has a "]" without its "[": remove it, or open the character class with "["'],
  ['src/[].ts', 'has an empty character class "[]": list at least one character in it'],
  ['src/[!].ts', 'has an empty character class "[]": list at least one character in it'],
  ['src/[z-a].ts', 'has the reversed range "z-a" in a "[...]" class: write it low to high (a-z)'],
  ['src/{a,[,]}', 'has a "[...]" class cut by "," or "}" inside "{...}": keep each class within one alternative'],
  ['src/{a,{b,c}}/x', 'has nested "{" alternatives: write them flat, as in {a,b,c}'],
  ['src/{a,b', 'has a "{" without its "}": close it within the same folder (alternatives cannot span "/")'],
  ['src/{a,b/c}', 'has a "{" without its "}": close it within the same folder (alternatives cannot span "/")'],
  ['src/a}', 'has a "}" without its "{": remove it, or open the alternatives with "{"'],
];

const GOOD = ['src/api/**', 'src/api', './src//api/', 'src/*.{ts,tsx}', 'src/[ab].ts', 'src/[!a-c]*', 'src/{,a}[{]x', '**', 'README', '.github/workflows/*.yml', 'a/..b/c', 'src/ a.ts'];

describe('scopeEntryProblem', () => {
  it.each(BAD)('refuses %j: %s', (entry, problem) => {
    expect(scopeEntryProblem(entry)).toBe(problem);
  });

  it('accepts the entries people write', () => {
    expect(GOOD.map((entry) => [entry, scopeEntryProblem(entry)])).toStrictEqual(GOOD.map((entry) => [entry, undefined]));
  });

  it('splits a --files list at the commas outside "{...}"', () => {
    expect(splitScopeList('src/*.{ts,tsx}, docs/**,,  a.md ,src/{a,b')).toStrictEqual(['src/*.{ts,tsx}', 'docs/**', 'a.md', 'src/{a,b']);
  });
});

// Entries a --files list can carry (no "," outside braces, not blank).
const DOOR_ENTRIES = BAD.map(([entry]) => entry).filter((entry) => splitScopeList(entry).length === 1 && splitScopeList(entry)[0] === entry);

const byFile = (a: { file: string }, b: { file: string }): number => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);

async function runAtMost<T>(limit: number, jobs: Array<() => Promise<T>>): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const at = next++;
      results[at] = await jobs[at]!();
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

describe('every door refuses a bad entry with the same words', () => {
  it('add --files, plan check, plan publish, and a task file read by status and claim', async () => {
    expect(DOOR_ENTRIES.length).toBeGreaterThan(15);
    const repo = gitRepo();
    expect(runCli(['init'], { cwd: repo }).exitCode).toBe(0);
    const expected = (entry: string): string => `files.0: ${scopeEntryMessage(entry)}`;
    const jobs: Array<() => Promise<[string, string, CliRun]>> = [];
    DOOR_ENTRIES.forEach((entry, index) => {
      writeFileSync(join(repo, `plan-${index}.json`), JSON.stringify({ name: `p${index}`, tasks: [{ id: 'a', title: 'A', files: [entry], prompt: 'x' }] }));
      const door = (prefix: string, args: string[]) => (): Promise<[string, string, CliRun]> => runCliAsync(args, { cwd: repo }).then((run) => [entry, prefix, run]);
      jobs.push(
        door(`parallel-agents: task "t${index}": `, ['add', '--id', `t${index}`, '--title', 'T', '--files', entry]),
        door(`parallel-agents: plan-${index}.json: invalid plan: tasks[0] (a).`, ['plan', 'check', `plan-${index}.json`]),
        door(`parallel-agents: plan-${index}.json: invalid plan: tasks[0] (a).`, ['plan', 'publish', `plan-${index}.json`]),
      );
    });
    const results = await runAtMost(3, jobs);
    expect(results.map(([entry, prefix, run]) => [entry, run.exitCode, run.stderr, run.stdout])).toStrictEqual(
      results.map(([entry, prefix]) => [entry, 2, `${prefix}${expected(entry)}\n`, '']),
    );

    // Nothing got in: the store is still empty.
    const empty = runCli(['status', '--json'], { cwd: repo });
    expect([empty.json.total, empty.json.problems]).toStrictEqual([0, []]);

    // Task files written by hand: status names each file and the same words; claim refuses to
    // hand them out and points at status.
    const files = DOOR_ENTRIES.map((entry, index) => {
      const file = join(repo, '_tasks', 'available', `h${index}.md`);
      writeFileSync(file, `---\nid: h${index}\ntitle: Hand-written\nfiles: [${JSON.stringify(entry)}]\n---\nDo it.\n`);
      return file;
    });
    const problems = files.map((file, index) => ({ file, message: `${file}: ${expected(DOOR_ENTRIES[index]!)}` }));
    const status = runCli(['status', '--json'], { cwd: repo });
    expect(status.exitCode).toBe(0);
    expect([...status.json.problems].sort(byFile)).toStrictEqual(problems.sort(byFile));
    const text = runCli(['status'], { cwd: repo });
    expect(text.stdout.split('\n').filter((line) => line.startsWith('problem: ')).sort()).toStrictEqual(problems.map((problem) => `problem: ${problem.message}`).sort());
    const claim = runCli(['claim', '--agent', 'bob', '--json'], { cwd: repo });
    expect(claim.exitCode).toBe(4);
    expect(claim.json.error.message).toContain(`${files.length} task file(s) cannot be read`);
    expect(claim.json.error.message).toContain('run parallel-agents status to see why');
  });

  it('worktree add --sparse refuses the same entries, and globs on top', () => {
    const repo = gitRepo({ 'src/a.ts': 'a\n' });
    const refusals = ['../up', 'src/*', 'a/./b'].map((dir) => runCli(['worktree', 'add', '--task', 'x', '--sparse', dir], { cwd: repo }));
    expect(refusals.map((run) => [run.exitCode, run.stderr])).toStrictEqual([
      [2, `parallel-agents: --sparse "../up" ${scopeEntryProblem('../up')}\n`],
      [2, 'parallel-agents: --sparse "src/*" is a glob: a sparse checkout takes folders; name the folder itself\n'],
      [2, `parallel-agents: --sparse "a/./b" ${scopeEntryProblem('a/./b')}\n`],
    ]);
  });
});
