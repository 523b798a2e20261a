// Many machines, one run, started the way users start it: from a subdirectory of one clone and
// from a linked worktree of another, the remote given as a relative path (a file:// remote the
// store pushes to directly). Both finish the plan; verify afterwards on each has nothing left.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cloneRepo, createBareRepo, gitIn } from '../helpers/git-server.ts';
import { runCli } from '../helpers/run-cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { agentScript, startCli } from './fixtures.ts';

describe('run --store git:origin from a subdirectory and a linked worktree, remote URL relative', () => {
  it('both runs finish the shared plan, each task done once; verify on each then has nothing to merge', async () => {
    const base = tempDir('pa-shared-clones-');
    const bare = createBareRepo(base);
    const scratch = join(base, 'scratch');
    mkdirSync(scratch);
    const plan = join(scratch, 'plan.json');
    writeFileSync(plan, JSON.stringify({ name: 'clones', tasks: ['x1', 'x2', 'x3', 'x4'].map((id) => ({ id, title: id, files: [`out/${id}.txt`], prompt: `write out/${id}.txt` })) }));
    const agent = agentScript(scratch, 'write.sh', 'cat > /dev/null\nmkdir -p out\necho "$PARALLEL_TASK_ID by $MACHINE" > "out/$PARALLEL_TASK_ID.txt"');
    const a = cloneRepo(bare, join(base, 'a'));
    const b = cloneRepo(bare, join(base, 'b'));
    for (const clone of [a, b]) gitIn(clone, 'remote', 'set-url', 'origin', '../shared.git');
    const aSub = join(a, 'deep', 'sub');
    mkdirSync(aSub, { recursive: true });
    const bSide = join(base, 'b-side');
    gitIn(b, 'worktree', 'add', '-q', '-b', 'side', bSide);
    const args = ['run', plan, '--store', 'git:origin', '--agents', '2', '--agent-cmd', agent, '--stale-after', '20s', '--timeout', '60s'];
    const runs = await Promise.all([startCli(args, aSub, { MACHINE: 'a' }).done, startCli(args, bSide, { MACHINE: 'b' }).done]);
    for (const run of runs) expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const id of ['x1', 'x2', 'x3', 'x4']) {
      const subjects = gitIn(bare, 'log', '--first-parent', '--format=%s', `refs/parallel/store/tasks/${id}`).split('\n');
      expect(subjects.filter((subject) => subject.startsWith('complete ')), id).toHaveLength(1);
      expect(gitIn(bare, 'show', `main:out/${id}.txt`)).toMatch(new RegExp(`^${id} by [ab]$`));
    }
    const reports = [a, b].map((clone) => JSON.parse(readFileSync(join(clone, '_tasks', 'run-report.json'), 'utf8')));
    expect(reports.map((entry) => entry.verify.status).sort()).toStrictEqual(['merged', 'nothing-to-merge']);
    for (const cwd of [aSub, bSide]) {
      const verify = runCli(['verify', '--into', 'main'], { cwd, env: { PARALLEL_STORE: 'git:origin' } });
      expect(verify.exitCode, verify.stdout + verify.stderr).toBe(0);
      expect(verify.stdout).toMatch(/nothing to merge into main/);
    }
    expect(gitIn(bare, 'for-each-ref', 'refs/parallel/store/locks/')).toBe('');
  });
});
