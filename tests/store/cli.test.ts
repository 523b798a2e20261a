import { mkdirSync, readdirSync, renameSync, symlinkSync, utimesSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-dir.ts';
import { gitRepo, git, writeFiles } from '../helpers/git-repo.ts';
import { canRunElsewhere, runCli, runCliElsewhere } from '../helpers/run-cli.ts';
import { openStore } from '../../src/store/open-store.ts';
import { bootTimeMs } from '../../src/process/liveness.ts';
import { moveFileName, parseClaimFileName } from '../../src/store/local/names.ts';
import { serializeTask } from '../../src/store/task-file.ts';

function storeIn(cwd: string): (args: string[]) => ReturnType<typeof runCli> {
  return (args) => runCli(args, { cwd });
}

describe('protocol through the CLI', () => {
  it('claims, heartbeats, completes with evidence and reports status', () => {
    const repo = gitRepo();
    const cli = storeIn(repo);
    expect(cli(['init', '--json']).json).toMatchObject({ created: true, exclude_added: true });
    expect(cli(['add', '--id', 'api', '--title', 'API', '--files', 'src/api/**', '--role', 'backend-developer']).exitCode).toBe(0);
    expect(cli(['add', '--id', 'ui', '--title', 'UI', '--depends-on', 'api']).exitCode).toBe(0);
    const ready = cli(['status', '--json']).json;
    expect(ready.claimable).toBe(1);
    expect(ready.tasks.map((task: { id: string; claimable: boolean }) => [task.id, task.claimable])).toStrictEqual([['api', true], ['ui', false]]);

    const wrongRole = cli(['claim', '--agent', 'fe', '--role', 'frontend-designer', '--json']);
    expect(wrongRole.exitCode).toBe(3);
    expect(wrongRole.json.error.code).toBe('E_NOTHING_CLAIMABLE');

    const claim = cli(['claim', '--agent', 'be', '--role', 'backend-developer', '--json']);
    expect(claim.exitCode).toBe(0);
    expect(claim.json.task).toMatchObject({ id: 'api', state: 'claimed', files: ['src/api/**'], claim: { agent: 'be' } });

    // ui waits on api: nothing claimable now, but work remains.
    expect(cli(['claim', '--agent', 'x']).exitCode).toBe(3);
    const token = claim.json.token as string;
    expect(cli(['heartbeat', '--agent', 'be', '--task', 'api', '--token', token]).exitCode).toBe(0);
    // The holder's name alone proves nothing: the token does.
    expect(cli(['heartbeat', '--agent', 'be', '--task', 'api']).exitCode).toBe(5);
    const intruder = cli(['complete', '--agent', 'other', '--task', 'api', '--token', token, '--json']);
    expect(intruder.exitCode).toBe(5);
    expect(intruder.json.error.message).toContain('is held by be');

    // Sharing one checkout (no worktree): the evidence commit must stay inside the task's scope.
    writeFiles(repo, { 'src/api/a.ts': 'a\n', 'src/ui/stray.ts': 'not mine\n' });
    git(repo, 'add', 'src/api/a.ts', 'src/ui/stray.ts');
    git(repo, 'commit', '-qm', 'api and a stray file');
    const stray = cli(['complete', '--agent', 'be', '--task', 'api', '--token', token, '--commit', git(repo, 'rev-parse', 'HEAD'), '--json']);
    expect(stray.exitCode).toBe(1);
    expect(stray.json.error).toMatchObject({ code: 'E_EVIDENCE', files: ['src/ui/stray.ts'] });
    // The same change brought in by a merge commit is judged by what the merge brings (first parent).
    git(repo, 'checkout', '-q', '-b', 'side');
    git(repo, 'checkout', '-q', 'main');
    git(repo, 'reset', '-q', '--hard', 'HEAD~1');
    git(repo, 'merge', '-q', '--no-ff', '-m', 'merge side', 'side');
    const merged = cli(['complete', '--agent', 'be', '--task', 'api', '--token', token, '--commit', git(repo, 'rev-parse', 'HEAD'), '--json']);
    expect(merged.json.error).toMatchObject({ code: 'E_EVIDENCE', files: ['src/ui/stray.ts'] });
    git(repo, 'branch', '-q', '-D', 'side');
    git(repo, 'reset', '-q', '--hard', 'HEAD~1');
    writeFiles(repo, { 'src/api/a.ts': 'a2\n' });
    git(repo, 'add', 'src/api/a.ts');
    git(repo, 'commit', '-qm', 'api only');
    const sha = git(repo, 'rev-parse', 'HEAD');
    const done = cli(['complete', '--agent', 'be', '--task', 'api', '--token', token, '--commit', sha.slice(0, 10), '--summary', 'built', '--json']);
    expect(done.json.task).toMatchObject({ state: 'completed', commit: sha, summary: 'built', completed_by: 'be' });

    const status = cli(['status', '--json']).json;
    expect(status.summary).toBe('1 completed / 2 total (0 in progress, 0 failed, 0 blocked)');
    const ui = cli(['claim', '--agent', 'fe', '--json']).json;
    expect(ui.task.id).toBe('ui');
    expect(cli(['release', '--agent', 'fe', '--task', 'ui', '--token', ui.token]).exitCode).toBe(0);
    expect(cli(['show', '--task', 'ui', '--json']).json.task).toMatchObject({ state: 'available', attempts: 0 });

    const exclude = readFileSync(join(repo, '.git', 'info', 'exclude'), 'utf8');
    expect(exclude.split('\n').filter((line) => line === '/_tasks/')).toHaveLength(1);
    cli(['init']);
    expect(readFileSync(join(repo, '.git', 'info', 'exclude'), 'utf8')).toBe(exclude);
    expect(git(repo, 'status', '--porcelain')).toBe('');
  });

  it('complete --commit-worktree commits what the holder left in its worktree; the bare base is no evidence', () => {
    const repo = gitRepo();
    const cli = storeIn(repo);
    cli(['add', '--id', 'docs', '--title', 'Docs', '--files', 'docs/**']);
    const path = cli(['worktree', 'add', '--task', 'docs', '--json']).json.path as string;
    const token = cli(['claim', '--agent', 'writer', '--json']).json.token as string;
    const base = git(path, 'rev-parse', 'HEAD');
    const nothing = cli(['complete', '--agent', 'writer', '--task', 'docs', '--token', token, '--commit', base, '--json']);
    expect(nothing.exitCode).toBe(1);
    expect(nothing.json.error.message).toContain('nothing was committed');
    expect(cli(['complete', '--agent', 'intruder', '--task', 'docs', '--token', token, '--commit-worktree']).exitCode).toBe(5);
    writeFiles(path, { 'docs/guide.md': '# Guide\n' });
    const done = cli(['complete', '--agent', 'writer', '--task', 'docs', '--token', token, '--commit-worktree', '--json']);
    expect(done.exitCode).toBe(0);
    expect(done.json.task.commit).toBe(git(path, 'rev-parse', 'HEAD'));
    expect(git(path, 'log', '-1', '--format=%s')).toBe('docs: Docs');
    expect(git(path, 'status', '--porcelain')).toBe('');
  });

  it('a complete retried after it landed (its answer lost) is told its completion stands; other work or another claim is not', () => {
    const repo = gitRepo();
    const cli = storeIn(repo);
    cli(['add', '--id', 'docs', '--title', 'Docs', '--files', 'docs/**']);
    cli(['add', '--id', 'more', '--title', 'More']);
    const path = cli(['worktree', 'add', '--task', 'docs', '--json']).json.path as string;
    const token = cli(['claim', '--agent', 'writer', '--task', 'docs', '--json']).json.token as string;
    const otherToken = cli(['claim', '--agent', 'writer', '--task', 'more', '--json']).json.token as string;
    writeFiles(path, { 'docs/guide.md': '# Guide\n' });
    const args = ['complete', '--agent', 'writer', '--task', 'docs', '--token', token, '--commit-worktree', '--json'];
    const done = cli(args);
    expect(done.exitCode).toBe(0);
    const again = cli(args);
    expect(again.exitCode).toBe(0);
    expect(again.json).toMatchObject({ already_completed: true, task: { id: 'docs', state: 'completed', commit: done.json.task.commit } });
    expect(cli(['complete', '--agent', 'writer', '--task', 'docs', '--token', otherToken]).stderr).toMatch(/does not hold task "docs": it is completed; do not merge this work/);
    writeFiles(path, { 'docs/later.md': 'later\n' });
    const later = cli(args);
    expect(later.exitCode).toBe(1);
    expect(later.json.error.message).toMatch(/already completed by your claim at [0-9a-f]{40} .*is not part of it/);
    const journal = readFileSync(join(repo, '_tasks', 'events.jsonl'), 'utf8').split('\n').filter((line) => line.includes('"event":"complete"'));
    expect(journal).toHaveLength(1);
  });

  it('fails twice then blocks, and reports no work left with exit 4', () => {
    const cli = storeIn(gitRepo());
    cli(['add', '--id', 'flaky', '--title', 'Flaky']);
    const first = cli(['claim', '--agent', 'a', '--json']).json.token as string;
    expect(cli(['fail', '--agent', 'a', '--task', 'flaky', '--token', first, '--reason', 'tests red', '--json']).json.task).toMatchObject({ state: 'failed', attempts: 1, last_error: 'tests red' });
    const second = cli(['claim', '--agent', 'b', '--json']).json;
    expect(second.task).toMatchObject({ id: 'flaky', attempts: 1 });
    expect(cli(['fail', '--agent', 'b', '--task', 'flaky', '--token', second.token, '--reason', 'still red', '--json']).json.task).toMatchObject({ state: 'blocked', attempts: 2 });
    const none = cli(['claim', '--agent', 'c', '--json']);
    expect(none.exitCode).toBe(4);
    expect(none.json.error.message).toBe('no work left: 0 completed, 1 blocked');
  });

  it('recovers a claim whose holder process died, and refuses the old holder afterwards', async () => {
    const repo = gitRepo();
    const cli = storeIn(repo);
    cli(['add', '--id', 'job', '--title', 'Job']);
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const claim = cli(['claim', '--agent', 'ghost', '--holder-pid', String(holder.pid), '--json']);
    expect(claim.exitCode).toBe(0);
    expect(cli(['recover', '--json']).json.recovered).toStrictEqual([]);
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    holder.kill('SIGKILL');
    await exited;
    const recovered = cli(['recover', '--json']).json.recovered;
    expect(recovered).toStrictEqual([{ id: 'job', agent: 'ghost', reason: `stale claim by ghost: holder process ${holder.pid} is gone`, to: 'failed', attempts: 1 }]);
    for (const args of [['complete', '--commit', 'abcd'], ['heartbeat'], ['fail', '--reason', 'x'], ['release']]) {
      const result = cli([args[0]!, '--agent', 'ghost', '--task', 'job', '--token', claim.json.token, ...args.slice(1), '--json']);
      expect(result.exitCode).toBe(5);
      expect(result.json.error.code).toBe('E_NOT_HOLDER');
    }
  });

  it.skipIf(!canRunElsewhere)('never judges a holder by a pid recorded in another pid namespace (a machine with the same host name): its lease decides', () => {
    const repo = gitRepo();
    const cli = storeIn(repo);
    cli(['add', '--id', 'job', '--title', 'Job']);
    const claim = cli(['claim', '--agent', 'far', '--holder-pid', String(process.pid), '--json']);
    expect(claim.exitCode).toBe(0);
    // There, this live process's pid names no process, or another one.
    const there = runCliElsewhere(['recover', '--json'], { cwd: repo });
    expect(there.exitCode, there.stderr).toBe(0);
    expect(there.json.recovered).toStrictEqual([]);
    expect(runCliElsewhere(['status', '--json'], { cwd: repo }).json.flags).toStrictEqual([]);
    // Here the same claim is still judged by its pid, and there by its lease.
    expect(cli(['recover', '--json']).json.recovered).toStrictEqual([]);
    const expired = runCliElsewhere(['recover', '--stale-after', '1ms', '--json'], { cwd: repo }).json.recovered;
    expect(expired).toMatchObject([{ id: 'job', agent: 'far', reason: expect.stringMatching(/no heartbeat for/) }]);
  });

  it('finishes a move whose writer ran before this boot (its pid names nothing now), but leaves one from another namespace of this boot to its lease', async () => {
    const repo = gitRepo();
    const cli = storeIn(repo);
    cli(['add', '--id', 'moved', '--title', 'Moved']);
    const claimed = cli(['claim', '--agent', 'ghost', '--json']);
    const dir = join(repo, '_tasks');
    const claimFile = join(dir, 'claimed', readdirSync(join(dir, 'claimed'))[0]!);
    const lease = parseClaimFileName(claimFile.split('/').pop()!)!.lease;
    // A writer tag from another boot of this machine: its host hash is not this boot's.
    const writer = `${process.pid}-0badc0de-0badc0de`;
    const pending = join(dir, 'failed', moveFileName('pending', 'moved', lease, writer));
    const moving = join(dir, 'failed', moveFileName('moving', 'moved', lease, writer));
    writeFileSync(pending, serializeTask({ id: 'moved', title: 'Moved', attempts: 1, max_attempts: 3, last_error: 'died in the crash' }, ''));
    renameSync(claimFile, moving);
    expect(claimed.exitCode).toBe(0);
    // Written in this boot, by a writer this process cannot judge: left alone (its lease decides).
    expect(cli(['recover', '--json']).json.repaired).toStrictEqual([]);
    // Written before this boot: every process of that boot is gone.
    const before = new Date(bootTimeMs()! - 3_600_000);
    for (const file of [pending, moving]) utimesSync(file, before, before);
    expect(cli(['recover', '--json']).json.repaired).toStrictEqual(['failed/moved: finished an interrupted move']);
    expect(cli(['show', '--task', 'moved', '--json']).json.task).toMatchObject({ state: 'failed', attempts: 1, last_error: 'died in the crash' });
  });

  it('recovers a claim whose lease expired (heartbeat older than --stale-after)', async () => {
    const repo = gitRepo();
    runCli(['add', '--id', 'slow', '--title', 'Slow'], { cwd: repo });
    runCli(['claim', '--agent', 'sleepy'], { cwd: repo });
    const store = openStore({ cwd: repo });
    expect((await store.recover({ staleAfterMs: 30 * 60_000 })).recovered).toStrictEqual([]);
    const report = await store.recover({ staleAfterMs: 30 * 60_000, now: Date.now() + 31 * 60_000 });
    expect(report.recovered[0]).toMatchObject({ id: 'slow', agent: 'sleepy', to: 'failed' });
    expect(report.recovered[0]!.reason).toMatch(/no heartbeat for 31m/);
  });

  it('every linked worktree sees the one store at the main worktree root', () => {
    const repo = gitRepo();
    git(repo, 'worktree', 'add', '-q', '-b', 'side', join(repo, '..', `${repo.split('/').pop()}-side`));
    const side = join(repo, '..', `${repo.split('/').pop()}-side`);
    try {
      runCli(['add', '--id', 'shared', '--title', 'Shared'], { cwd: side });
      expect(runCli(['show', '--task', 'shared', '--json'], { cwd: join(repo) }).json.task.file).toBe(join(repo, '_tasks', 'available', 'shared.md'));
    } finally {
      git(repo, 'worktree', 'remove', '--force', side);
    }
  });

  it('honours --tasks-dir and PARALLEL_TASKS_DIR, and uses the current folder outside git', () => {
    const plain = tempDir();
    runCli(['add', '--id', 'here', '--title', 'Here'], { cwd: plain });
    expect(runCli(['show', '--task', 'here', '--json'], { cwd: plain }).json.task.file).toBe(join(plain, '_tasks', 'available', 'here.md'));
    runCli(['add', '--id', 'elsewhere', '--title', 'E', '--tasks-dir', 'custom'], { cwd: plain });
    expect(runCli(['show', '--task', 'elsewhere', '--json'], { cwd: plain, env: { PARALLEL_TASKS_DIR: join(plain, 'custom') } }).json.task.state).toBe('available');
  });
});

describe('bad input: one line naming the file, field and fix, with a documented exit code', () => {
  function brokenStore(): { cwd: string; dir: string } {
    const cwd = gitRepo();
    runCli(['add', '--id', 'good', '--title', 'Good'], { cwd });
    return { cwd, dir: join(cwd, '_tasks') };
  }

  const cases: { name: string; setup?: (dir: string) => void; args: string[]; exit: number; message: RegExp }[] = [
    { name: 'unknown flag', args: ['claim', '--agent', 'a', '--bogus'], exit: 2, message: /unknown option --bogus; usage: parallel-agents claim/ },
    { name: 'missing flag', args: ['claim'], exit: 2, message: /missing --agent; usage/ },
    { name: 'unknown command', args: ['clam'], exit: 2, message: /unknown command "clam"/ },
    { name: 'id with a slash', args: ['add', '--id', 'a/b', '--title', 'x'], exit: 2, message: /task id "a\/b" is invalid/ },
    { name: 'id with ..', args: ['add', '--id', '..', '--title', 'x'], exit: 2, message: /task id "\.\." is invalid/ },
    { name: 'id git cannot name a branch after', args: ['add', '--id', 'a.lock', '--title', 'x'], exit: 2, message: /task id "a\.lock" is invalid: .*not ending in "\." or "\.lock"/ },
    { name: 'task id with .. on claim', args: ['claim', '--agent', 'a', '--task', '../x'], exit: 2, message: /task id "\.\.\/x" is invalid/ },
    { name: 'agent with ~', args: ['claim', '--agent', 'a~b'], exit: 2, message: /--agent "a~b" is invalid/ },
    { name: 'depends_on naming no task', args: ['add', '--id', 'x', '--title', 'x', '--depends-on', 'ghost'], exit: 2, message: /depends_on: "ghost" names no task/ },
    { name: 'duplicate id', args: ['add', '--id', 'good', '--title', 'again'], exit: 2, message: /task "good" already exists/ },
    { name: 'scope escaping the repo', args: ['add', '--id', 'x', '--title', 'x', '--files', '../etc/**'], exit: 2, message: /files\.0: "\.\.\/etc\/\*\*" contains "\.\.": a scope stays inside the repository; name the path from its root\n$/ },
    { name: 'bad duration', args: ['recover', '--stale-after', 'soon'], exit: 2, message: /--stale-after must be a duration/ },
    { name: 'token that names a path', args: ['complete', '--agent', 'a', '--task', 'good', '--token', 'x/../good~b~mwte85rc-8a114b95'], exit: 2, message: /--token "x\/\.\.\/good~b~mwte85rc-8a114b95" is not a claim token/ },
    { name: 'bad commit', args: ['complete', '--agent', 'a', '--task', 'good', '--commit', 'not a sha'], exit: 2, message: /--commit "not a sha" is not a commit id/ },
    { name: 'not the holder', args: ['complete', '--agent', 'a', '--task', 'good'], exit: 5, message: /does not hold task "good": it is available/ },
    {
      name: 'malformed YAML task file',
      setup: (dir) => writeFileSync(join(dir, 'available', 'bad.md'), '---\nid: bad\ntitle: [unclosed\n---\nbody\n'),
      args: ['show', '--task', 'bad'], exit: 2, message: /available\/bad\.md:\d+:\d+: malformed YAML/,
    },
    {
      name: 'schema violation in a task file',
      setup: (dir) => writeFileSync(join(dir, 'available', 'zero.md'), '---\nid: zero\ntitle: Zero\nmax_attempts: 0\n---\n'),
      args: ['show', '--task', 'zero'], exit: 2, message: /zero\.md: max_attempts: must be at least 1/,
    },
  ];

  for (const testCase of cases) {
    it(testCase.name, () => {
      const { cwd, dir } = brokenStore();
      testCase.setup?.(dir);
      const result = runCli([...testCase.args, '--json'], { cwd });
      expect(result.exitCode).toBe(testCase.exit);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(testCase.message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.json.error.exit).toBe(testCase.exit);
    });
  }

  it('status without a store says so instead of reporting 0 of 0 done', () => {
    const result = runCli(['status', '--tasks-dir', 'typo', '--json'], { cwd: gitRepo() });
    expect(result.exitCode).toBe(1);
    expect(result.json.error.message).toMatch(/^no task store at .*typo; run `parallel-agents init`/);
  });

  it('an unreadable task file is named when nothing else is left, not retried forever', async () => {
    const { cwd, dir } = brokenStore();
    const token = runCli(['claim', '--agent', 'a', '--json'], { cwd }).json.token as string;
    runCli(['complete', '--agent', 'a', '--task', 'good', '--token', token], { cwd });
    writeFileSync(join(dir, 'available', 'bad.md'), '---\nid: bad\ntitle: [unclosed\n---\n');
    const claim = runCli(['claim', '--agent', 'b', '--json'], { cwd });
    expect(claim.exitCode).toBe(4);
    expect(claim.json.error.message).toBe('no work left: 1 completed, 0 blocked; 1 task file(s) cannot be read (available/bad.md): run parallel-agents status to see why');
  });

  it('broken files never stop the others from being served, and status names each one', () => {
    const { cwd, dir } = brokenStore();
    writeFileSync(join(dir, 'available', 'bad.md'), '---\nid: bad\ntitle: [unclosed\n---\n');
    writeFileSync(join(dir, 'available', 'noframe.md'), 'just text\n');
    writeFileSync(join(dir, 'available', 'renamed.md'), '---\nid: other\ntitle: T\n---\n');
    const outside = tempDir();
    mkdirSync(join(outside, 'x'));
    writeFileSync(join(outside, 'x', 'evil.md'), '---\nid: evil\ntitle: Evil\n---\n');
    symlinkSync(join(outside, 'x', 'evil.md'), join(dir, 'available', 'evil.md'));

    const status = runCli(['status', '--json'], { cwd }).json;
    const messages = status.problems.map((problem: { message: string }) => problem.message).join('\n');
    expect(messages).toMatch(/bad\.md:\d+:\d+: malformed YAML/);
    expect(messages).toMatch(/noframe\.md: no YAML frontmatter/);
    expect(messages).toMatch(/renamed\.md: id: "other" does not match the file name/);
    expect(messages).toMatch(/evil\.md: symlink leads out of the store/);
    expect(status.total).toBe(1);

    const claim = runCli(['claim', '--agent', 'a', '--json'], { cwd });
    expect(claim.json.task.id).toBe('good');
    expect(runCli(['claim', '--agent', 'b'], { cwd }).exitCode).toBe(3);
    expect(readFileSync(join(outside, 'x', 'evil.md'), 'utf8')).toContain('id: evil');
  });
});

describe('status --watch', () => {
  it('prints progress as JSON lines and returns once no work is left', async () => {
    const { spawn: spawnChild } = await import('node:child_process');
    const { TEST_BUNDLE } = await import('../helpers/paths.ts');
    const repo = gitRepo();
    runCli(['add', '--id', 'only', '--title', 'Only'], { cwd: repo });
    const watcher = spawnChild(process.execPath, [TEST_BUNDLE, 'status', '--watch', '--json'], { cwd: repo });
    let stdout = '';
    const firstLine = new Promise<void>((resolve) => {
      watcher.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        if (stdout.includes('\n')) resolve();
      });
    });
    const exit = new Promise<number | null>((resolve) => watcher.once('exit', resolve));
    await firstLine;
    const token = runCli(['claim', '--agent', 'a', '--json'], { cwd: repo }).json.token as string;
    runCli(['complete', '--agent', 'a', '--task', 'only', '--token', token], { cwd: repo });
    expect(await exit).toBe(0);
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines[0]).toMatchObject({ event: 'status', summary: '0 completed / 1 total (0 in progress, 0 failed, 0 blocked)' });
    expect(lines.at(-1)).toMatchObject({ done: true, summary: '1 completed / 1 total (0 in progress, 0 failed, 0 blocked)' });
  });
});

describe('output', () => {
  it('a reader that closes the pipe early (| head) gets no stack trace', async () => {
    const { spawnSync } = await import('node:child_process');
    const { TEST_BUNDLE } = await import('../helpers/paths.ts');
    const repo = gitRepo();
    const store = openStore({ cwd: repo });
    // Far more output than a pipe buffer holds, so the writer is still writing when head exits.
    await store.add(Array.from({ length: 3000 }, (_, i) => ({ id: `t${i}`, title: `a task with a long enough title number ${i}`, files: [`src/m${i}/**`] })));
    const result = spawnSync('sh', ['-c', `"${process.execPath}" "${TEST_BUNDLE}" status | head -1`], { cwd: repo, encoding: 'utf8' });
    expect(result.stdout).toBe('0 completed / 3000 total (0 in progress, 0 failed, 0 blocked)\n');
    expect(result.stderr).toBe('');
  });

});
