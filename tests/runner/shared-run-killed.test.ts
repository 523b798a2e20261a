// Many machines, one run, when one machine's runner dies by kill -9 while its agents work: the run
// on the other clone takes its claims back (the holder process is gone on this host), runs those
// tasks itself, and finishes the plan with every task completed once and merged.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { cloneRepo, createBareRepo, gitIn } from '../helpers/git-server.ts';
import { agentScript, startCli, waitFor } from './fixtures.ts';
import { tempDir } from '../helpers/temp-dir.ts';

describe('run --store git:origin on two clones, one runner killed mid-run', () => {
  it('the other run recovers the dead runner\'s claims and finishes the plan: nothing done twice, nothing lost', async () => {
    const base = tempDir('pa-shared-killed-');
    const bare = createBareRepo(base);
    const scratch = join(base, 'scratch');
    const started = join(base, 'started');
    mkdirSync(scratch);
    mkdirSync(started);
    const ids = ['k1', 'k2', 'k3', 'k4'];
    const plan = join(scratch, 'plan.json');
    writeFileSync(plan, JSON.stringify({ name: 'killed', tasks: ids.map((id) => ({ id, title: id, files: [`out/${id}.txt`], prompt: `write out/${id}.txt` })) }));
    // On machine a the agent says it started (its pid), then works for ever; on b it finishes at once.
    const agent = agentScript(scratch, 'agent.sh', [
      'cat > /dev/null',
      `if [ "$MACHINE" = a ]; then echo $$ > "${started}/$PARALLEL_TASK_ID"; exec sleep 600; fi`,
      'mkdir -p out',
      'echo "$PARALLEL_TASK_ID by $MACHINE" > "out/$PARALLEL_TASK_ID.txt"',
    ].join('\n'));
    const [a, b] = [cloneRepo(`file://${bare}`, join(base, 'a')), cloneRepo(`file://${bare}`, join(base, 'b'))];
    const args = ['run', plan, '--store', 'git:origin', '--agents', '2', '--agent-cmd', agent, '--stale-after', '6s', '--timeout', '60s'];
    const runA = startCli(args, a, { MACHINE: 'a' });
    const exitedA = new Promise((resolve) => runA.child.once('exit', resolve));
    onTestFinished(() => {
      for (const name of readdirSync(started)) {
        try { process.kill(Number(readFileSync(join(started, name), 'utf8')), 'SIGKILL'); } catch { /* gone */ }
      }
    });
    await waitFor(() => readdirSync(started).length === 2, 'two agents started on machine a');
    const held = readdirSync(started);
    runA.child.kill('SIGKILL');
    await exitedA;
    const runB = await startCli(args, b, { MACHINE: 'b' }).done;
    expect(runB.code, runB.stdout + runB.stderr).toBe(0);
    for (const id of ids) {
      const subjects = gitIn(bare, 'log', '--first-parent', '--format=%s', `refs/parallel/store/tasks/${id}`).split('\n');
      expect(subjects.filter((subject) => subject.startsWith('complete ')), id).toHaveLength(1);
      if (held.includes(id)) expect(subjects.filter((subject) => subject.startsWith('recover ')), id).toHaveLength(1);
      expect(gitIn(bare, 'show', `main:out/${id}.txt`)).toBe(`${id} by b`);
    }
    const report = JSON.parse(readFileSync(join(b, '_tasks', 'run-report.json'), 'utf8'));
    expect(report.verify.status).toBe('merged');
    expect(gitIn(bare, 'for-each-ref', 'refs/parallel/store/locks/')).toBe('');
  });
});
