// The git-remote store's push path driven through the real CLI on clones the way users leave them:
// a linked worktree or a subdirectory as the cwd with a relative remote URL, objects gc'd or
// repacked between claim and complete, reflogs that git push would have written.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cloneRepo, createBareRepo, gitIn } from '../helpers/git-server.ts';
import { runCli } from '../helpers/run-cli.ts';
import { processStartTime } from '../../src/process/liveness.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const STORE = { PARALLEL_STORE: 'git:origin' };

function cli(cwd: string, args: string[], env: Record<string, string> = {}): ReturnType<typeof runCli> {
  return runCli(args, { cwd, env: { ...STORE, ...env } });
}

/** The git commands a CLI call ran, from GIT_TRACE. */
function traced(cwd: string, args: string[]): { run: ReturnType<typeof runCli>; git: string } {
  const trace = join(tempDir('pa-trace-'), 'trace');
  const run = cli(cwd, args, { GIT_TRACE: trace });
  return { run, git: existsSync(trace) ? readFileSync(trace, 'utf8') : '' };
}

function setup(): { base: string; bare: string; url: string } {
  const base = tempDir('pa-remote-clones-');
  const bare = createBareRepo(base);
  return { base, bare, url: `file://${bare}` };
}

describe('the git-remote store through the CLI, on clones as users leave them', () => {
  it('a linked worktree\'s subdirectory as cwd, remote URL relative: claims and completes directly, seen by the main checkout', () => {
    const { base, bare } = setup();
    const a = cloneRepo(bare, join(base, 'a'));
    gitIn(a, 'remote', 'set-url', 'origin', '../shared.git');
    expect(cli(a, ['add', '--id', 'one', '--title', 'One', '--files', 'src/one.txt']).exitCode).toBe(0);
    // A sibling of the main checkout: "../shared.git" names the same repository from both.
    gitIn(a, 'worktree', 'add', '-q', '-b', 'side', join(base, 'side'));
    const sub = join(base, 'side', 'deep', 'er');
    mkdirSync(sub, { recursive: true });
    const { run: claim, git } = traced(sub, ['claim', '--agent', 'w1', '--task', 'one', '--json']);
    expect(claim.exitCode, claim.stderr).toBe(0);
    expect(git).toMatch(/receive-pack/);
    expect(git).not.toMatch(/git push|'push'/);
    expect(gitIn(bare, 'for-each-ref', '--format=%(refname)', 'refs/parallel/store/tasks/')).toBe('refs/parallel/store/tasks/one');
    // The push moved the cache of the one repository both checkouts share: status reads it with no fetch needed.
    expect(gitIn(a, 'rev-parse', 'refs/parallel/cache/origin/tasks/one')).toBe(gitIn(bare, 'rev-parse', 'refs/parallel/store/tasks/one'));
    const status = cli(a, ['status', '--json']);
    expect(status.json.tasks.find((task: any) => task.id === 'one'), status.stderr).toMatchObject({ state: 'claimed', claim: { agent: 'w1' } });
    expect(cli(sub, ['worktree', 'add', '--task', 'one']).exitCode).toBe(0);
    const wt = join(a, '.parallel', 'worktrees', 'one');
    mkdirSync(join(wt, 'src'), { recursive: true });
    writeFileSync(join(wt, 'src', 'one.txt'), 'one\n');
    const done = cli(sub, ['complete', '--agent', 'w1', '--task', 'one', '--token', claim.json.token, '--commit-worktree', '--summary', 'did']);
    expect(done.exitCode, done.stderr).toBe(0);
    expect(gitIn(bare, 'show', 'refs/heads/parallel/one:src/one.txt')).toBe('one');
    const b = cloneRepo(bare, join(base, 'b'));
    const verify = cli(b, ['verify', '--into', 'main']);
    expect(verify.exitCode, verify.stdout + verify.stderr).toBe(0);
    expect(gitIn(bare, 'show', 'main:src/one.txt')).toBe('one');
  });

  for (const gc of [['gc', '--aggressive', '--prune=now', '-q'], ['repack', '-adfq']]) {
    it(`git ${gc[0]} in the clone between claim, heartbeat and complete: every push lands, verify merges it`, () => {
      const { base, bare, url } = setup();
      const a = cloneRepo(url, join(base, 'a'));
      expect(cli(a, ['add', '--id', 'g', '--title', 'G', '--files', 'src/g.txt']).exitCode).toBe(0);
      const claim = cli(a, ['claim', '--agent', 'w1', '--task', 'g', '--json']);
      expect(claim.exitCode, claim.stderr).toBe(0);
      expect(cli(a, ['worktree', 'add', '--task', 'g']).exitCode).toBe(0);
      const wt = join(a, '.parallel', 'worktrees', 'g');
      mkdirSync(join(wt, 'src'), { recursive: true });
      writeFileSync(join(wt, 'src', 'g.txt'), 'g\n');
      gitIn(a, ...gc);
      const beat = cli(a, ['heartbeat', '--agent', 'w1', '--task', 'g', '--token', claim.json.token]);
      expect(beat.exitCode, beat.stderr).toBe(0);
      gitIn(wt, 'add', '-A');
      gitIn(wt, 'commit', '-qm', 'g work');
      gitIn(a, ...gc);
      const done = cli(a, ['complete', '--agent', 'w1', '--task', 'g', '--token', claim.json.token, '--commit-worktree', '--summary', 'did']);
      expect(done.exitCode, done.stderr).toBe(0);
      expect(gitIn(bare, 'fsck', '--connectivity-only', '--no-dangling', '--no-progress')).toBe('');
      const b = cloneRepo(url, join(base, 'b'));
      gitIn(b, ...gc);
      const verify = cli(b, ['verify', '--into', 'main']);
      expect(verify.exitCode, verify.stdout + verify.stderr).toBe(0);
      expect(gitIn(bare, 'show', 'main:src/g.txt')).toBe('g');
      gitIn(a, ...gc);
      expect(cli(a, ['verify', '--into', 'main']).stdout).toMatch(/nothing to merge into main/);
    });
  }

  it('git gc --prune=now run by verify\'s own test gate: the merge it pushes (and the lock renewal with it) still lands whole', () => {
    const { base, bare, url } = setup();
    const a = cloneRepo(url, join(base, 'a'));
    for (const id of ['t', 'u']) {
      expect(cli(a, ['add', '--id', id, '--title', id, '--files', `src/${id}.txt`]).exitCode).toBe(0);
      const claim = cli(a, ['claim', '--agent', 'w1', '--task', id, '--json']);
      expect(cli(a, ['worktree', 'add', '--task', id]).exitCode).toBe(0);
      mkdirSync(join(a, '.parallel', 'worktrees', id, 'src'), { recursive: true });
      writeFileSync(join(a, '.parallel', 'worktrees', id, 'src', `${id}.txt`), `${id}\n`);
      expect(cli(a, ['complete', '--agent', 'w1', '--task', id, '--token', claim.json.token, '--commit-worktree']).exitCode).toBe(0);
    }
    const b = cloneRepo(url, join(base, 'b'));
    const verify = cli(b, ['verify', '--into', 'main', '--test', 'git gc -q --aggressive --prune=now']);
    expect(verify.exitCode, verify.stdout + verify.stderr).toBe(0);
    expect(gitIn(bare, 'ls-tree', '-r', '--name-only', 'main')).toBe('src/t.txt\nsrc/u.txt');
    expect(gitIn(bare, 'fsck', '--connectivity-only', '--no-dangling', '--no-progress')).toBe('');
    expect(gitIn(bare, 'for-each-ref', 'refs/parallel/store/locks/')).toBe('');
  });

  it('hooks see a claim the moment its direct push answered: no status or fetch in between', () => {
    const { base, url } = setup();
    const a = cloneRepo(url, join(base, 'a'));
    const b = cloneRepo(url, join(base, 'b'));
    expect(cli(b, ['add', '--id', 'mine', '--title', 'Mine']).exitCode).toBe(0);
    expect(cli(a, ['status']).exitCode).toBe(0);
    // b changes the task after a's last fetch; a's claim is then decided from the server's advertisement.
    const taken = cli(b, ['claim', '--agent', 'other', '--task', 'mine', '--json']);
    expect(cli(b, ['release', '--agent', 'other', '--task', 'mine', '--token', taken.json.token]).exitCode).toBe(0);
    const agent = 'backend-developer-1';
    const { run: claim, git } = traced(a, ['claim', '--agent', agent, '--task', 'mine', '--holder-pid', String(process.pid)]);
    expect(claim.exitCode, claim.stderr).toBe(0);
    expect(git).toMatch(/receive-pack/);
    mkdirSync(join(a, '_tasks', 'subagents'), { recursive: true });
    writeFileSync(join(a, '_tasks', 'subagents', 'sub1.json'), JSON.stringify({ agentId: 'sub1', agent, hostPid: process.pid, hostStart: processStartTime(process.pid), recordedAt: new Date().toISOString() }));
    const payload = JSON.stringify({ session_id: 's', cwd: a, hook_event_name: 'SubagentStop', agent_id: 'sub1', agent_type: 'parallel:backend-developer', stop_hook_active: false, last_assistant_message: 'done' });
    const hook = runCli(['hook', 'subagent-stop'], { cwd: a, env: { ...STORE, CLAUDE_PROJECT_DIR: a }, input: payload });
    expect(hook.stdout).toMatch(/you still hold mine\. /);
  });

  it('core.sharedRepository=group: cache refs a direct push writes are group-writable, as git writes them, so the group\'s other users can fetch', () => {
    const { base, url } = setup();
    const a = cloneRepo(url, join(base, 'a'));
    gitIn(a, 'config', 'core.sharedRepository', 'group');
    expect(cli(a, ['add', '--id', 'r', '--title', 'R']).exitCode).toBe(0);
    expect(cli(a, ['claim', '--agent', 'w1', '--task', 'r']).exitCode).toBe(0);
    const cache = join(a, '.git', 'refs', 'parallel', 'cache', 'origin', 'tasks');
    expect(statSync(cache).mode & 0o2070).toBe(0o2070);
    expect(statSync(join(cache, 'r')).mode & 0o060).toBe(0o060);
  });

  it('core.logAllRefUpdates=always: the cache refs a direct push moves get their reflog entries, as git push writes them', () => {
    const { base, url } = setup();
    const a = cloneRepo(url, join(base, 'a'));
    gitIn(a, 'config', 'core.logAllRefUpdates', 'always');
    expect(cli(a, ['add', '--id', 'r', '--title', 'R']).exitCode).toBe(0);
    const claim = cli(a, ['claim', '--agent', 'w1', '--task', 'r', '--json']);
    expect(claim.exitCode, claim.stderr).toBe(0);
    const log = gitIn(a, 'reflog', 'show', '--format=%H', 'refs/parallel/cache/origin/tasks/r').split('\n');
    expect(log[0]).toBe(gitIn(a, 'rev-parse', 'refs/parallel/cache/origin/tasks/r'));
    expect(log.length).toBeGreaterThanOrEqual(2);
  });

  it('a cache ref that already has a reflog (default logAllRefUpdates) keeps it current, as git push and git fetch do', () => {
    const { base, url } = setup();
    const a = cloneRepo(url, join(base, 'a'));
    // A reflog made before: an earlier session ran with logAllRefUpdates=always.
    const always = { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'core.logAllRefUpdates', GIT_CONFIG_VALUE_0: 'always' };
    expect(cli(a, ['add', '--id', 'r', '--title', 'R'], always).exitCode).toBe(0);
    const ref = 'refs/parallel/cache/origin/tasks/r';
    expect(gitIn(a, 'rev-parse', `${ref}@{0}`)).toBe(gitIn(a, 'rev-parse', ref));
    const claim = cli(a, ['claim', '--agent', 'w1', '--task', 'r', '--json']);
    expect(claim.exitCode, claim.stderr).toBe(0);
    expect(gitIn(a, 'rev-parse', `${ref}@{0}`)).toBe(gitIn(a, 'rev-parse', ref));
  });
});
