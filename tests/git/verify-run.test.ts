import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { git, gitRepo, writeFiles } from '../helpers/git-repo.ts';
import { openRepoContext } from '../../src/git/repo-context.ts';
import { runVerify, type VerifyCandidate } from '../../src/git/verify-run.ts';
import { commitOnBranch, lines } from './task-branches.ts';

function candidate(repo: string, task: string, scope: string[], depends_on: string[] = []): VerifyCandidate {
  return { task, title: `task ${task}`, branch: `parallel/${task}`, head: git(repo, 'rev-parse', `parallel/${task}`), scope, depends_on };
}

function setup(): { repo: string; context: ReturnType<typeof openRepoContext> } {
  const repo = gitRepo({ 'src/api.ts': lines(30, 'api'), 'src/ui.ts': lines(30, 'ui'), 'docs/readme.md': lines(10, 'doc') });
  return { repo, context: openRepoContext({ cwd: repo, env: {} }) };
}

describe('runVerify', () => {
  test('clean branches merge in dependency order and the checked-out target follows', async () => {
    const { repo, context } = setup();
    const before = git(repo, 'rev-parse', 'main');
    commitOnBranch(repo, 'parallel/api', { 'src/api.ts': lines(30, 'api v2') });
    commitOnBranch(repo, 'parallel/ui', { 'src/ui.ts': lines(30, 'ui v2') });
    commitOnBranch(repo, 'parallel/aaa-docs', { 'docs/readme.md': lines(10, 'doc v2') });
    const report = await runVerify(context, {
      target: 'main',
      candidates: [candidate(repo, 'api', ['src/api.ts']), candidate(repo, 'ui', ['src/ui.ts'], ['api']), candidate(repo, 'aaa-docs', ['docs/**'], ['ui'])],
      test: { command: 'grep -q "api v2" src/api.ts', mode: 'each', timeoutMs: 30_000 },
    });
    expect(report.status, JSON.stringify(report)).toBe('merged');
    expect(report.order).toEqual(['api', 'ui', 'aaa-docs']);
    expect(report.merged.map((entry) => entry.task)).toEqual(['api', 'ui', 'aaa-docs']);
    expect(report.target.before).toBe(before);
    expect(report.target.after).toBe(git(repo, 'rev-parse', 'main'));
    expect(report.target.updated_worktree).toBe(repo);
    expect(git(repo, 'merge-base', '--is-ancestor', 'parallel/ui', 'main')).toBe('');
    expect(readFileSync(join(repo, 'docs/readme.md'), 'utf8')).toBe(lines(10, 'doc v2'));
    expect(git(repo, 'status', '--porcelain', '--untracked-files=no')).toBe('');
    expect(report.test).toMatchObject({ exit_code: 0, failed_task: null });
    expect(report.test!.runs.map((run) => run.task)).toEqual(['api', 'ui', 'aaa-docs']);
    // No scratch state is left behind.
    expect(git(repo, 'for-each-ref', 'refs/parallel/integration')).toBe('');
    expect(git(repo, 'worktree', 'list', '--porcelain')).not.toContain('.integration-');
  });

  test('two branches editing the same lines: stopped before merging, both tasks and the file named', async () => {
    const { repo, context } = setup();
    const before = git(repo, 'rev-parse', 'main');
    commitOnBranch(repo, 'parallel/one', { 'src/api.ts': lines(30, 'one') });
    commitOnBranch(repo, 'parallel/two', { 'src/api.ts': lines(30, 'two') });
    commitOnBranch(repo, 'parallel/three', { 'src/ui.ts': lines(30, 'three') });
    const objectsBefore = git(repo, 'count-objects');
    const report = await runVerify(context, {
      target: 'main',
      candidates: [candidate(repo, 'one', []), candidate(repo, 'two', []), candidate(repo, 'three', [])],
    });
    expect(report.status).toBe('stopped');
    expect(report.stopped_because).toEqual(['conflicts']);
    expect(report.conflicts).toEqual([{ tasks: ['one', 'two'], against: 'branch', files: ['src/api.ts'], kinds: ['CONFLICT (contents)'] }]);
    // Only the one pair sharing a path was merged: 3 against the target + 1 pair, 2 pairs skipped.
    expect(report.precheck).toMatchObject({ merges_checked: 4, pairs_skipped: 2 });
    expect(git(repo, 'rev-parse', 'main')).toBe(before);
    expect(report.merged).toEqual([]);
    // The pre-check's merge results went to a scratch object store, not into the repository.
    expect(git(repo, 'count-objects')).toBe(objectsBefore);
  });

  test('a branch conflicting with the target is reported against the target', async () => {
    const { repo, context } = setup();
    commitOnBranch(repo, 'parallel/late', { 'src/ui.ts': lines(30, 'late') });
    git(repo, 'checkout', '-q', 'main');
    commitOnBranch(repo, 'tmp', { 'src/ui.ts': lines(30, 'main moved') });
    git(repo, 'merge', '-q', '--ff-only', 'tmp');
    const before = git(repo, 'rev-parse', 'main');
    const report = await runVerify(context, { target: 'main', candidates: [candidate(repo, 'late', ['src/**'])] });
    expect(report.status).toBe('stopped');
    expect(report.conflicts).toMatchObject([{ tasks: ['late'], against: 'target', files: ['src/ui.ts'] }]);
    expect(git(repo, 'rev-parse', 'main')).toBe(before);
  });

  test('a branch editing outside its scope is a violation unless scope drift is allowed', async () => {
    const { repo, context } = setup();
    const before = git(repo, 'rev-parse', 'main');
    commitOnBranch(repo, 'parallel/api', { 'src/api.ts': lines(30, 'api v2'), 'docs/readme.md': lines(10, 'sneaky') });
    const strict = await runVerify(context, { target: 'main', candidates: [candidate(repo, 'api', ['src/api.ts'])] });
    expect(strict.status).toBe('stopped');
    expect(strict.stopped_because).toEqual(['scope-violations']);
    expect(strict.violations).toEqual([{ task: 'api', files: ['docs/readme.md'] }]);
    expect(git(repo, 'rev-parse', 'main')).toBe(before);

    const drift = await runVerify(context, { target: 'main', candidates: [candidate(repo, 'api', ['src/api.ts'])], allowScopeDrift: true });
    expect(drift.status).toBe('merged');
    expect(drift.violations).toEqual([{ task: 'api', files: ['docs/readme.md'] }]);
    expect(git(repo, 'rev-parse', 'main')).toBe(drift.target.after);
  });

  test('a branch that breaks the test command is named, in each mode and by bisect in once mode', async () => {
    for (const mode of ['each', 'once'] as const) {
      const { repo, context } = setup();
      const before = git(repo, 'rev-parse', 'main');
      commitOnBranch(repo, 'parallel/a', { 'src/api.ts': lines(30, 'a') });
      commitOnBranch(repo, 'parallel/b', { 'src/ui.ts': 'BROKEN\n' });
      commitOnBranch(repo, 'parallel/c', { 'docs/readme.md': lines(3, 'c') });
      commitOnBranch(repo, 'parallel/d', { 'docs/other.md': 'd\n' });
      const report = await runVerify(context, {
        target: 'main',
        candidates: ['a', 'b', 'c', 'd'].map((task) => candidate(repo, task, [])),
        test: { command: 'echo "checking $PARALLEL_VERIFY_TASK"; ! grep -q BROKEN src/ui.ts', mode, timeoutMs: 30_000 },
      });
      expect(report.status).toBe('stopped');
      expect(report.stopped_because).toEqual(['test-failure']);
      expect(report.test).toMatchObject({ failed_task: 'b', exit_code: 1, mode });
      expect(report.test!.output_tail).toContain('checking b');
      expect(git(repo, 'rev-parse', 'main')).toBe(before);
      expect(git(repo, 'worktree', 'list', '--porcelain')).not.toContain('.integration-');
    }
  });

  test('a branch stacked on its dependency is judged on its own changes only', async () => {
    const { repo, context } = setup();
    const apiHead = commitOnBranch(repo, 'parallel/api', { 'src/api.ts': lines(30, 'api v2') });
    commitOnBranch(repo, 'parallel/ui', { 'src/ui.ts': lines(30, 'ui v2') }, 'parallel/api');
    const ui = { ...candidate(repo, 'ui', ['src/ui.ts'], ['api']), base: apiHead };
    const unstacked = await runVerify(context, { target: 'main', candidates: [candidate(repo, 'api', ['src/api.ts']), { ...ui, base: undefined }], dryRun: true });
    expect(unstacked.violations).toEqual([{ task: 'ui', files: ['src/api.ts'] }]);
    const report = await runVerify(context, { target: 'main', candidates: [candidate(repo, 'api', ['src/api.ts']), ui] });
    expect(report.violations).toEqual([]);
    expect(report.changes.find((entry) => entry.task === 'ui')).toMatchObject({ changed: 1 });
    expect(report.status).toBe('merged');
    expect(report.merged.map((entry) => [entry.task, entry.how])).toEqual([['api', 'fast-forward'], ['ui', 'fast-forward']]);
  });

  test('--into a branch that is not checked out moves only that ref, by compare-and-swap', async () => {
    const { repo, context } = setup();
    git(repo, 'branch', 'release');
    const mainBefore = git(repo, 'rev-parse', 'main');
    commitOnBranch(repo, 'parallel/a', { 'src/api.ts': lines(30, 'a') }, 'release');
    commitOnBranch(repo, 'parallel/b', { 'src/ui.ts': lines(30, 'b') }, 'release');
    const report = await runVerify(context, { target: 'release', candidates: [candidate(repo, 'a', []), candidate(repo, 'b', [])] });
    expect(report.status).toBe('merged');
    expect(report.target.updated_worktree).toBeNull();
    expect(git(repo, 'rev-parse', 'release')).toBe(report.target.after);
    expect(git(repo, 'rev-parse', 'release^2')).toBe(git(repo, 'rev-parse', 'parallel/b'));
    expect(git(repo, 'rev-parse', 'main')).toBe(mainBefore);
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });

  test('a target that already fails the test is blamed, not the first task', async () => {
    const { repo, context } = setup();
    commitOnBranch(repo, 'parallel/a', { 'src/api.ts': lines(30, 'a') });
    const report = await runVerify(context, { target: 'main', candidates: [candidate(repo, 'a', [])], test: { command: 'exit 3', mode: 'each', timeoutMs: 30_000 } });
    expect(report.test).toMatchObject({ failed_task: '(target)', exit_code: 3 });
  });

  test('a branch that deletes many files merges cleanly; deletions outside the scope are violations', async () => {
    const files = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`legacy/f${i}.txt`, `${i}\n`]));
    const repo = gitRepo({ ...files, 'src/keep.ts': 'keep\n' });
    const context = openRepoContext({ cwd: repo, env: {} });
    const deletions = Object.fromEntries(Object.keys(files).map((path) => [path, null]));
    commitOnBranch(repo, 'parallel/cleanup', deletions);
    commitOnBranch(repo, 'parallel/other', { 'src/keep.ts': 'kept\n' });
    const outOfScope = await runVerify(context, { target: 'main', candidates: [candidate(repo, 'cleanup', ['src/**']), candidate(repo, 'other', ['src/**'])], dryRun: true });
    expect(outOfScope.status).toBe('stopped');
    expect(outOfScope.violations[0]!.files).toHaveLength(60);

    const before = git(repo, 'rev-parse', 'main');
    const dry = await runVerify(context, { target: 'main', candidates: [candidate(repo, 'cleanup', ['legacy/**']), candidate(repo, 'other', ['src/**'])], dryRun: true });
    expect(dry.status).toBe('clean-dry-run');
    expect(git(repo, 'rev-parse', 'main')).toBe(before);

    const report = await runVerify(context, { target: 'main', candidates: [candidate(repo, 'cleanup', ['legacy/**']), candidate(repo, 'other', ['src/**'])] });
    expect(report.status).toBe('merged');
    expect(report.changes.find((entry) => entry.task === 'cleanup')).toMatchObject({ changed: 60, deleted: 60 });
    expect(git(repo, 'ls-files', 'legacy')).toBe('');
    expect(git(repo, 'show', 'main:src/keep.ts')).toBe('kept');
  });

  test('refuses to fast-forward a checked-out target with uncommitted changes, leaving it as it was', async () => {
    const { repo, context } = setup();
    commitOnBranch(repo, 'parallel/a', { 'src/api.ts': lines(30, 'a') });
    const before = git(repo, 'rev-parse', 'main');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(repo, 'docs/readme.md'), 'local edit\n');
    const report = await runVerify(context, { target: 'main', candidates: [candidate(repo, 'a', [])] });
    expect(report.status).toBe('stopped');
    expect(report.stopped_because).toEqual(['target-refused']);
    expect(report.refusal).toContain('uncommitted');
    expect(git(repo, 'rev-parse', 'main')).toBe(before);
    expect(readFileSync(join(repo, 'docs/readme.md'), 'utf8')).toBe('local edit\n');
  });

  test('refuses, naming the file, when an untracked file in the target checkout is in the way of the fast-forward', async () => {
    const { repo, context } = setup();
    commitOnBranch(repo, 'parallel/a', { 'src/new.ts': 'agent\n' });
    const before = git(repo, 'rev-parse', 'main');
    writeFiles(repo, { 'src/new.ts': "the user's draft\n" });
    const report = await runVerify(context, { target: 'main', candidates: [candidate(repo, 'a', ['src/**'])] });
    expect({ status: report.status, stopped: report.stopped_because }).toEqual({ status: 'stopped', stopped: ['target-refused'] });
    expect(report.refusal).toMatch(/untracked file the merge would overwrite \(src\/new\.ts\); move or remove it/);
    expect(git(repo, 'rev-parse', 'main')).toBe(before);
    expect(readFileSync(join(repo, 'src/new.ts'), 'utf8')).toBe("the user's draft\n");
  });
});
