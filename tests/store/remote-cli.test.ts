// The CLI on a store shared through a git remote: the same commands and exit codes as on the
// local store, `status` naming the store it reads, a completion publishing its branch, and verify
// merging through the remote: once, under a lock, and never over someone else's push.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { markBash } from '../../src/hooks/mark-bash.ts';
import { processStartTime } from '../../src/process/liveness.ts';
import { GitRemoteStore } from '../../src/store/git-remote/git-remote-store.ts';
import { cloneRepo, createBareRepo, gitIn } from '../helpers/git-server.ts';
import { canRunElsewhere, elsewhereCommand, runCli, runCliElsewhere } from '../helpers/run-cli.ts';
import { TEST_BUNDLE } from '../helpers/paths.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const STORE = { PARALLEL_STORE: 'git:origin' };

function setup(): { bare: string; url: string; machine(name: string): string } {
  const base = tempDir('pa-remote-cli-');
  const bare = createBareRepo(base);
  const url = `file://${bare}`;
  return { bare, url, machine: (name) => cloneRepo(url, join(base, name)) };
}

function cli(cwd: string, ...args: string[]): ReturnType<typeof runCli> {
  return runCli(args, { cwd, env: STORE });
}

/** Machine `cwd` claims `id`, does its work in the task's worktree and completes with --commit-worktree. */
function doTask(cwd: string, agent: string, id: string, file: string, text: string): void {
  const claim = cli(cwd, 'claim', '--agent', agent, '--task', id, '--json');
  expect(claim.exitCode, claim.stderr).toBe(0);
  expect(cli(cwd, 'worktree', 'add', '--task', id).exitCode).toBe(0);
  const worktree = join(cwd, '.parallel', 'worktrees', id);
  mkdirSync(join(worktree, 'src'), { recursive: true });
  writeFileSync(join(worktree, file), text);
  const done = cli(cwd, 'complete', '--agent', agent, '--task', id, '--token', claim.json.token, '--commit-worktree', '--summary', `did ${id}`);
  expect(done.exitCode, done.stderr).toBe(0);
}

describe('the CLI with --store git:<remote>', () => {
  it('names the store it reads, selects it by flag or PARALLEL_STORE, and refuses a store that is not one', async () => {
    const shared = setup();
    const a = shared.machine('a');
    expect(runCli(['init', '--store', 'git:origin'], { cwd: a }).stdout).toContain(`created the store at git:origin (${shared.url})`);
    expect(cli(a, 'add', '--id', 'one', '--title', 'One').exitCode).toBe(0);
    const status = runCli(['status', '--json', '--store', 'git:origin'], { cwd: a });
    expect(status.json).toMatchObject({ store: `git:origin (${shared.url})`, total: 1, counts: { available: 1 } });
    expect(cli(shared.machine('b'), 'status').stdout).toContain(`store: git:origin (${shared.url})`);
    // The local store of the same clone is another store: empty.
    expect(runCli(['status', '--store', 'local'], { cwd: a }).exitCode).toBe(1);
    const bad = runCli(['status', '--store', 'svn:trunk'], { cwd: a });
    expect([bad.exitCode, bad.stderr.trim().split('\n').length]).toStrictEqual([2, 1]);
    // A write that changes nothing pushes nothing (`git push origin` alone would push the current branch).
    gitIn(a, 'checkout', '-q', '-b', 'topic');
    gitIn(a, 'commit', '-q', '--allow-empty', '-m', 'local only');
    const before = gitIn(shared.bare, 'for-each-ref');
    expect(await new GitRemoteStore({ cwd: a, remote: 'origin', localDir: join(a, '_tasks') }).add([])).toStrictEqual([]);
    expect(gitIn(shared.bare, 'for-each-ref')).toBe(before);
    const noRemote = runCli(['status', '--store', 'git:upstream'], { cwd: a });
    expect(noRemote.exitCode).toBe(2);
    expect(noRemote.stderr).toMatch(/git remote "upstream" is not configured in .*; add it \(git remote add upstream <url>\) or use --store local/);
  });

  it('marks agents\' Bash calls for the hooks on a shared store too (no _tasks/available/ there)', () => {
    const a = setup().machine('a');
    expect(cli(a, 'init').exitCode).toBe(0);
    const payload = { toolInput: { command: 'parallel-agents claim --agent x' }, agentId: 'sub-1', cwd: a };
    expect(markBash(payload, { PARALLEL_STORE: 'local' }, process.pid)).toBeUndefined();
    expect(String(markBash(payload, STORE, process.pid)?.command)).toMatch(/\nparallel-agents claim --agent x$/);
  });

  it('keeps the documented exit codes: 0 claimed, 3 nothing claimable now, 5 not the holder, 4 no work left', () => {
    const shared = setup();
    const a = shared.machine('a');
    const b = shared.machine('b');
    cli(a, 'add', '--id', 'solo', '--title', 'Solo');
    const claim = cli(a, 'claim', '--agent', 'alice', '--json');
    expect(claim.exitCode).toBe(0);
    expect(cli(b, 'claim', '--agent', 'bob').exitCode).toBe(3);
    const wrong = cli(b, 'complete', '--agent', 'alice', '--task', 'solo', '--token', '0'.repeat(32));
    expect(wrong.exitCode).toBe(5);
    expect(cli(a, 'complete', '--agent', 'alice', '--task', 'solo', '--token', claim.json.token).exitCode).toBe(0);
    expect(cli(b, 'claim', '--agent', 'bob').exitCode).toBe(4);
    expect(cli(b, 'show', '--task', 'solo', '--json').json.task).toMatchObject({ state: 'completed', completed_by: 'alice', file: 'refs/parallel/store/tasks/solo on origin' });
  });

  it('publishes the work with the completion, and any machine verifies and merges it into the remote target', () => {
    const shared = setup();
    const a = shared.machine('a');
    cli(a, 'add', '--id', 'feat', '--title', 'Feature', '--files', 'src/feat.txt');
    cli(a, 'add', '--id', 'more', '--title', 'More', '--files', 'src/more.txt', '--depends-on', 'feat');
    doTask(a, 'alice', 'feat', 'src/feat.txt', 'feature\n');
    const b = shared.machine('b');
    doTask(b, 'bob', 'more', 'src/more.txt', 'more\n');
    expect(gitIn(shared.bare, 'for-each-ref', '--format=%(refname)', 'refs/heads/parallel/')).toBe('refs/heads/parallel/feat\nrefs/heads/parallel/more');
    const c = shared.machine('c');
    const before = gitIn(shared.bare, 'rev-parse', 'main');
    const verify = cli(c, 'verify', '--into', 'main', '--test', 'test -f src/feat.txt');
    expect(verify.exitCode, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/MERGED 2 task\(s\) into main/);
    expect(verify.stdout).toMatch(/order: feat -> more/);
    expect(verify.stdout).toMatch(new RegExp(`pushed to origin/main: ${before.slice(0, 12)} -> [0-9a-f]{12}; local main: fast-forwarded`));
    const after = gitIn(shared.bare, 'rev-parse', 'main');
    expect(gitIn(c, 'rev-parse', 'main')).toBe(after);
    expect(gitIn(shared.bare, 'show', `${after}:src/more.txt`)).toBe('more');
    expect(gitIn(shared.bare, 'for-each-ref', 'refs/parallel/store/locks/')).toBe('');
    // Verify again from the first machine: nothing left to merge.
    expect(cli(a, 'verify', '--into', 'main').stdout).toMatch(/nothing to merge into main/);
  });

  it('a task finished on another machine is merged from its recorded commit, not from a worktree this machine prepared for it', () => {
    const shared = setup();
    const a = shared.machine('a');
    cli(a, 'add', '--id', 'both', '--title', 'Both', '--files', 'src/both.txt');
    // a prepared a worktree for the task (a runner preparing ahead), then b did the task.
    expect(cli(a, 'worktree', 'add', '--task', 'both').exitCode).toBe(0);
    doTask(shared.machine('b'), 'bob', 'both', 'src/both.txt', 'by b\n');
    const verify = cli(a, 'verify', '--into', 'main');
    expect(verify.exitCode, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/MERGED 1 task\(s\) into main/);
    expect(gitIn(shared.bare, 'show', 'main:src/both.txt')).toBe('by b');
  });

  it('verify racing a push to the target: the target keeps the racer\'s commit, verify exits 1 and says why', () => {
    const shared = setup();
    const a = shared.machine('a');
    cli(a, 'add', '--id', 'raced', '--title', 'Raced', '--files', 'src/raced.txt');
    doTask(a, 'alice', 'raced', 'src/raced.txt', 'raced\n');
    const racer = shared.machine('racer');
    const script = join(racer, '..', 'race.sh');
    writeFileSync(script, `git -C '${racer}' commit -q --allow-empty -m racer && git -C '${racer}' push -q origin HEAD:main\n`);
    const b = shared.machine('b');
    const localBefore = gitIn(b, 'rev-parse', 'main');
    const verify = cli(b, 'verify', '--into', 'main', '--test', `sh '${script}'`);
    expect(verify.exitCode).toBe(1);
    expect(verify.stdout).toMatch(/STOPPED \(target-refused\): main left unchanged/);
    expect(verify.stdout).toMatch(/refused: origin\/main moved while verify ran \(someone pushed to it\): nothing was pushed, and main is unchanged there and here; run verify again/);
    expect(gitIn(shared.bare, 'rev-parse', 'main')).toBe(gitIn(racer, 'rev-parse', 'HEAD'));
    expect(gitIn(b, 'rev-parse', 'main')).toBe(localBefore);
    expect(gitIn(shared.bare, 'for-each-ref', 'refs/parallel/store/locks/')).toBe('');
    expect(cli(b, 'show', '--task', 'raced', '--json').json.task.state).toBe('completed');
  });

  it('a second verify while one is merging is refused (exit 1), not run twice', () => {
    const shared = setup();
    const a = shared.machine('a');
    cli(a, 'add', '--id', 'once', '--title', 'Once', '--files', 'src/once.txt');
    doTask(a, 'alice', 'once', 'src/once.txt', 'once\n');
    const other = shared.machine('other');
    const record = join(other, '..', 'inner.txt');
    const script = join(other, '..', 'inner.sh');
    writeFileSync(script, `cd '${other}' && PARALLEL_STORE=git:origin '${process.execPath}' '${TEST_BUNDLE}' verify --into main > '${record}' 2>&1; echo "exit $?" >> '${record}'\n`);
    const outer = cli(shared.machine('b'), 'verify', '--into', 'main', '--test', `sh '${script}'`);
    expect(outer.exitCode, outer.stdout + outer.stderr).toBe(0);
    expect(existsSync(record)).toBe(true);
    const inner = readFileSync(record, 'utf8');
    expect(inner).toMatch(/another verify is merging through origin \(pid \d+ on host [0-9a-f]+, renewed at .*\): refusing to run a second one/);
    expect(inner).toMatch(/exit 1\n$/);
    expect(gitIn(shared.bare, 'log', '--format=%s', 'main')).toBe('once: Once\ninitial');
  });

  it.skipIf(!canRunElsewhere)('a machine with the same host name (another pid namespace) judges this one\'s claims and verify lock by their lease, not by pid', () => {
    const shared = setup();
    const a = shared.machine('a');
    cli(a, 'add', '--id', 'held', '--title', 'Held');
    cli(a, 'add', '--id', 'once', '--title', 'Once', '--files', 'src/once.txt');
    expect(cli(a, 'claim', '--agent', 'agent-1', '--task', 'held', '--holder-pid', String(process.pid)).exitCode).toBe(0);
    doTask(a, 'agent-1', 'once', 'src/once.txt', 'once\n');
    const b = shared.machine('b');
    const recovered = runCliElsewhere(['recover', '--json'], { cwd: b, env: STORE });
    expect(recovered.json?.recovered, recovered.stderr).toStrictEqual([]);
    // b's verify runs there while a's verify holds the lock here: refused, not merged twice.
    const record = join(b, '..', 'inner.txt');
    const script = join(b, '..', 'inner.sh');
    writeFileSync(script, `cd '${b}' && PARALLEL_STORE=git:origin ${elsewhereCommand()} verify --into main > '${record}' 2>&1; echo "exit $?" >> '${record}'\n`);
    const outer = cli(a, 'verify', '--into', 'main', '--test', `sh '${script}'`);
    expect(outer.exitCode, outer.stdout + outer.stderr).toBe(0);
    const inner = readFileSync(record, 'utf8');
    expect(inner).toMatch(/another verify is merging through origin \(pid \d+ on host [0-9a-f]+, renewed at .*\): refusing to run a second one/);
    expect(inner).toMatch(/exit 1\n$/);
    expect(gitIn(shared.bare, 'log', '--format=%s', 'main')).toBe('once: Once\ninitial');
  });

  it('a SubagentStop hook fails only the claims its own session holds, never a same-named agent\'s on another machine or session', () => {
    const shared = setup();
    const [a, b] = [shared.machine('a'), shared.machine('b')];
    for (const id of ['mine', 'theirs', 'session']) cli(a, 'add', '--id', id, '--title', id);
    const agent = 'backend-developer-1';
    // The hook's subagent runs in this process's session; its claim names it as the holder.
    expect(cli(a, 'claim', '--agent', agent, '--task', 'mine', '--holder-pid', String(process.pid)).exitCode).toBe(0);
    // Machine b's agent of the same name (no holder recorded here), and another session here.
    expect(cli(b, 'claim', '--agent', agent, '--task', 'theirs').exitCode).toBe(0);
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    onTestFinished(() => { other.kill('SIGKILL'); });
    expect(cli(b, 'claim', '--agent', agent, '--task', 'session', '--holder-pid', String(other.pid)).exitCode).toBe(0);
    expect(cli(a, 'status').exitCode).toBe(0); // a's cache (what hooks read) now has b's claims
    mkdirSync(join(a, '_tasks', 'subagents'), { recursive: true });
    writeFileSync(join(a, '_tasks', 'subagents', 'sub1.json'), JSON.stringify({ agentId: 'sub1', agent, hostPid: process.pid, hostStart: processStartTime(process.pid), recordedAt: new Date().toISOString() }));
    const payload = (active: boolean) => JSON.stringify({ session_id: 's', cwd: a, hook_event_name: 'SubagentStop', agent_id: 'sub1', agent_type: 'parallel:backend-developer', stop_hook_active: active, last_assistant_message: 'done' });
    const hook = (active: boolean) => runCli(['hook', 'subagent-stop'], { cwd: a, env: { ...STORE, CLAUDE_PROJECT_DIR: a }, input: payload(active) });
    expect(hook(false).stdout).toMatch(/you still hold mine\. /);
    expect(hook(true).exitCode).toBe(0);
    const state = (id: string) => cli(b, 'show', '--task', id, '--json').json.task;
    expect(state('mine')).toMatchObject({ state: 'failed', last_error: expect.stringMatching(/stopped while still holding this task/) });
    for (const id of ['theirs', 'session']) expect(state(id)).toMatchObject({ state: 'claimed', claim: { agent } });
  });

  it('status ages a claim by this machine\'s clock: a claimer 5 hours behind or ahead shows a moment-old claim, its own stamp beside it', () => {
    const shared = setup();
    const [a, slow, fast] = [shared.machine('a'), shared.machine('slow'), shared.machine('fast')];
    for (const id of ['s', 'f']) expect(cli(a, 'add', '--id', id, '--title', id).exitCode).toBe(0);
    // A machine whose wall clock is off: Date is all node reads the wall time through.
    const skewed = (cwd: string, skewMs: number, id: string): void => {
      const preload = join(cwd, '..', `skew-${id}.cjs`);
      writeFileSync(preload, `const Real = Date;\nglobalThis.Date = class extends Real { constructor(...a) { if (a.length === 0) super(Real.now() + ${skewMs}); else super(...a); } static now() { return Real.now() + ${skewMs}; } };\n`);
      const claim = spawnSync(process.execPath, ['-r', preload, TEST_BUNDLE, 'claim', '--agent', 'agent-1', '--task', id], { cwd, env: { ...process.env, ...STORE }, encoding: 'utf8' });
      expect(claim.status, claim.stderr).toBe(0);
    };
    skewed(slow, -5 * 3_600_000, 's');
    skewed(fast, 5 * 3_600_000, 'f');
    const status = cli(a, 'status', '--json');
    expect(status.exitCode, status.stderr).toBe(0);
    const claims = Object.fromEntries(status.json.tasks.map((task: any) => [task.id, task.claim]));
    for (const id of ['s', 'f']) {
      expect(claims[id].age_ms).toBeGreaterThanOrEqual(0);
      expect(claims[id].age_ms).toBeLessThan(60_000);
      expect(Date.parse(claims[id].heartbeat_at)).toBeLessThanOrEqual(Date.now());
    }
    expect(Date.parse(claims.s.claimer_stamp)).toBeLessThan(Date.now() - 4 * 3_600_000);
    expect(Date.parse(claims.f.claimer_stamp)).toBeGreaterThan(Date.now() + 4 * 3_600_000);
    expect(status.json.flags).toStrictEqual([]);
  });
});
