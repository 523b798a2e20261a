import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DEMO_SCRIPTS } from '../../src/demo/scripted-agent.ts';
import { demoPlan, sampleProjectFiles } from '../../src/demo/sample-project.ts';
import { simulateSchedule } from '../../src/runner/scheduler.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { writeFiles } from '../helpers/git-repo.ts';

function runTests(dir: string): { status: number | null; out: string } {
  const result = spawnSync(process.execPath, ['test/run.js'], { cwd: dir, encoding: 'utf8' });
  return { status: result.status, out: result.stdout + result.stderr };
}

describe('demo sample project', () => {
  it('passes its own tests before and after every scripted edit, applied in plan order', () => {
    const dir = tempDir();
    writeFiles(dir, sampleProjectFiles());
    expect(runTests(dir)).toMatchObject({ status: 0 });
    const plan = demoPlan();
    for (const task of plan.tasks) DEMO_SCRIPTS[task.id]!.edit(dir);
    const after = runTests(dir);
    expect(after.out).toContain('10 passed, 0 failed');
    expect(after.status).toBe(0);
  });

  it('scripts exist for every task, and a dependent edit refuses to run without its dependency', () => {
    const plan = demoPlan();
    expect(plan.tasks).toHaveLength(10);
    expect(Object.keys(DEMO_SCRIPTS).sort()).toEqual(plan.tasks.map((task) => task.id).sort());
    const dir = tempDir();
    writeFiles(dir, sampleProjectFiles());
    expect(() => DEMO_SCRIPTS['slugify-accents']!.edit(dir)).toThrow(/slugify task/);
  });

  it('has one overlapping pair of write scopes and leaves room for parallelism', () => {
    const plan = demoPlan();
    const owners = new Map<string, string[]>();
    for (const task of plan.tasks) for (const file of task.files) owners.set(file, [...(owners.get(file) ?? []), task.id]);
    const shared = [...owners].filter(([, ids]) => ids.length > 1);
    expect(shared).toEqual([['src/slugify.js', ['slugify', 'slugify-accents']]]);
    // With the overlap ordered (slugify before slugify-accents) and 4 agents, the scripted
    // durations give a makespan well under the sum of the work.
    const tasks = plan.tasks.map((task) => ({
      id: task.id,
      dependsOn: task.id === 'slugify-accents' ? ['slugify'] : task.depends_on,
      estimateMs: DEMO_SCRIPTS[task.id]!.thinkMs,
    }));
    const work = tasks.reduce((sum, task) => sum + task.estimateMs, 0);
    const run = simulateSchedule(tasks, 4);
    expect(work / run.makespan).toBeGreaterThan(1.8);
  });
});
