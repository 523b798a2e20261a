// Many machines, one remote: 4 clones x 4 processes claim and complete 500 tasks through a real
// git daemon on loopback. Every task is completed exactly once, none is lost, and every task's
// evidence (its branch, and the done commit's second parent) is on the remote.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GitRemoteStore } from '../../src/store/git-remote/git-remote-store.ts';
import { cloneRepo, createBareRepo, gitIn } from '../helpers/git-server.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { countLines, raceRemoteWorkers } from './remote-workers.ts';
import { servedByGitDaemon } from '../helpers/served-daemon.ts';

describe('claim race across machines through git daemon', () => {
  const server = servedByGitDaemon('pa-race-daemon-');

  // CI runs 120 tasks over git daemon (about 30 s on 2 shared cores); `npm run soak` runs 500 over
  // both transports.
  const soak = process.env.SOAK === '1';
  const cases: (readonly [string, number])[] = soak ? [['git daemon', 500], ['file://', 500]] : [['git daemon', 120]];
  it.each(cases)('4 clones x 4 processes over %s complete %i tasks: each exactly once, none lost, evidence on the remote', async (transport, TASKS) => {
    const bare = createBareRepo(server.dir, `race-${transport === 'file://' ? 'file' : 'daemon'}`);
    const base = tempDir('pa-race-');
    const url = transport === 'file://' ? `file://${bare}` : server.daemon.url(`race-daemon`);
    const clones = [0, 1, 2, 3].map((i) => cloneRepo(url, join(base, `clone-${i}`)));
    const seeder = new GitRemoteStore({ cwd: clones[0]!, remote: 'origin', localDir: join(clones[0]!, '_tasks') });
    const ids = Array.from({ length: TASKS }, (_, i) => `t${String(i).padStart(4, '0')}`);
    await seeder.add(ids.map((id) => ({ id, title: `task ${id}` })));

    const jobs = clones.flatMap((clone, c) => [0, 1, 2, 3].map((p) => ({ clone, agent: `m${c}-p${p}`, log: join(base, `m${c}-p${p}.log`) })));
    const raceStart = Date.now();
    const runs = await raceRemoteWorkers(jobs);
    const raceMs = Date.now() - raceStart;
    expect(runs.map((run) => run.code)).toStrictEqual(jobs.map(() => 0));

    const logs = jobs.map((job) => { try { return readFileSync(job.log, 'utf8'); } catch { return ''; } });
    const claims = countLines(logs, 'claim');
    const completes = countLines(logs, 'complete');
    expect([...claims.values()].filter((n) => n !== 1)).toStrictEqual([]);
    expect([...completes.keys()].sort()).toStrictEqual(ids);
    expect([...completes.values()].filter((n) => n !== 1)).toStrictEqual([]);
    // Every machine won work.
    expect(new Set(logs.map((log, i) => (log.includes('complete') ? jobs[i]!.clone : undefined)).filter(Boolean)).size).toBe(4);

    // What the remote itself says, read from a fresh machine.
    const reader = new GitRemoteStore({ cwd: cloneRepo(url, join(base, 'reader')), remote: 'origin', localDir: join(base, 'reader', '_tasks') });
    const { tasks, problems } = await reader.list();
    expect(problems).toStrictEqual([]);
    expect(tasks.filter((task) => task.state === 'completed').map((task) => task.id)).toStrictEqual(ids);
    const evidence = new Map(logs.join('').split('\n').filter((line) => line.startsWith('complete ')).map((line) => [line.split(' ')[1]!, line.split(' ')[2]!]));
    const branches = new Map(gitIn(bare, 'for-each-ref', '--format=%(refname:lstrip=3) %(objectname)', 'refs/heads/parallel/').split('\n').map((line) => line.split(' ') as [string, string]));
    expect(branches.size).toBe(TASKS);
    for (const task of tasks) {
      expect(branches.get(task.id)).toBe(evidence.get(task.id));
      expect(task.commit).toBe(evidence.get(task.id));
    }
    const parents = gitIn(bare, 'log', '--no-walk', '--format=%P', ...ids.slice(0, 50).map((id) => `refs/parallel/store/tasks/${id}`)).split('\n');
    expect(parents.every((line) => line.split(' ').length === 2)).toBe(true);
    const stats = runs.reduce((sum, run) => ({ pushes: sum.pushes + (run.stats?.pushes ?? 0), rejected: sum.rejected + (run.stats?.rejected ?? 0) }), { pushes: 0, rejected: 0 });
    console.log(`race over ${transport}: ${TASKS} tasks in ${raceMs} ms, ${stats.pushes} pushes (${stats.rejected} refused)`);
  }, 600_000);
});
