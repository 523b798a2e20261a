import { describe, expect, it } from 'vitest';
import { DependencyScheduler, bottomLevels, simulateSchedule, type SchedulableTask } from '../../src/runner/scheduler.ts';

function dag(rows: [string, number, string[]][]): SchedulableTask[] {
  return rows.map(([id, estimateMs, dependsOn]) => ({ id, estimateMs, dependsOn }));
}

describe('bottomLevels', () => {
  it('adds the longest chain below each task', () => {
    const levels = bottomLevels(dag([
      ['a', 1, []],
      ['b', 5, ['a']],
      ['c', 1, ['a']],
      ['d', 2, ['b', 'c']],
    ]));
    expect(Object.fromEntries(levels)).toEqual({ a: 8, b: 7, c: 3, d: 2 });
  });
});

describe('simulateSchedule', () => {
  it('starts the longest critical path first, not plan order', () => {
    // short is first in plan order, but long heads a chain of 3 + 3.
    const tasks = dag([
      ['short', 1, []],
      ['long', 3, []],
      ['tail', 3, ['long']],
    ]);
    const run = simulateSchedule(tasks, 1);
    expect(run.order).toEqual(['long', 'tail', 'short']);
    const two = simulateSchedule(tasks, 2);
    expect(two.makespan).toBe(6);
    expect(two.starts.get('tail')).toEqual({ at: 3, worker: 0 });
  });

  it('has no wave barrier: a dependent starts as soon as its own dependency is done', () => {
    // Waves would run {a, slow} then {b}: b waits for slow (10) and the makespan is 11.
    const run = simulateSchedule(dag([
      ['a', 1, []],
      ['slow', 10, []],
      ['b', 1, ['a']],
    ]), 2);
    expect(run.starts.get('b')!.at).toBe(1);
    expect(run.makespan).toBe(10);
  });

  it('reaches the lower bound on a diamond with 2 workers', () => {
    const tasks = dag([
      ['root', 2, []],
      ['left', 4, ['root']],
      ['right', 4, ['root']],
      ['join', 1, ['left', 'right']],
    ]);
    expect(simulateSchedule(tasks, 2).makespan).toBe(7);
    expect(simulateSchedule(tasks, 1).makespan).toBe(11);
  });

  it('uses real durations when they differ from the estimates', () => {
    const tasks = dag([
      ['x', 1, []],
      ['y', 1, []],
      ['z', 1, ['x']],
    ]);
    const durations: Record<string, number> = { x: 5, y: 1, z: 1 };
    const run = simulateSchedule(tasks, 2, (id) => durations[id]!);
    expect(run.makespan).toBe(6);
  });

  it('16 independent equal tasks on 4 workers take 4 rounds', () => {
    const tasks = dag(Array.from({ length: 16 }, (_, index) => [`t${index}`, 1, []] as [string, number, string[]]));
    expect(simulateSchedule(tasks, 4).makespan).toBe(4);
  });
});

describe('DependencyScheduler', () => {
  it('requeues a retried task and blocks its dependents when it is blocked', () => {
    const scheduler = new DependencyScheduler(dag([
      ['a', 1, []],
      ['b', 1, ['a']],
      ['c', 1, []],
    ]));
    expect(scheduler.ready()).toEqual(['a', 'c']);
    scheduler.start('a');
    scheduler.requeue('a');
    expect(scheduler.stateOf('a')).toBe('ready');
    scheduler.start('a');
    scheduler.block('a');
    scheduler.start('c');
    scheduler.complete('c');
    expect(scheduler.finished()).toBe(true);
    expect(scheduler.unreachable()).toEqual(['b']);
  });

  it('follows the store for tasks it is not running: done elsewhere frees dependents, held ones keep the run open', () => {
    const scheduler = new DependencyScheduler(dag([
      ['a', 1, []],
      ['b', 1, []],
      ['c', 1, ['a', 'b']],
    ]));
    scheduler.start('a');
    scheduler.follow('b', 'held');
    // A task running here is this runner's to settle, whatever a re-list said a moment ago.
    scheduler.follow('a', 'held');
    expect([scheduler.stateOf('a'), scheduler.stateOf('b'), scheduler.stateOf('c')]).toEqual(['running', 'held', 'waiting']);
    scheduler.complete('a');
    expect(scheduler.finished()).toBe(false);
    // Released by the other machine (open again), then finished there.
    scheduler.follow('b', 'open');
    expect(scheduler.ready()).toEqual(['b']);
    scheduler.follow('b', 'done');
    expect(scheduler.ready()).toEqual(['c']);
    // A done task stays done; a lost claim waits for the store's word.
    scheduler.follow('b', 'open');
    expect(scheduler.stateOf('b')).toBe('done');
    scheduler.start('c');
    scheduler.hold('c');
    expect(scheduler.finished()).toBe(false);
    scheduler.follow('c', 'blocked');
    expect(scheduler.finished()).toBe(true);
  });

  it('treats already completed tasks as done (resume)', () => {
    const scheduler = new DependencyScheduler(dag([
      ['a', 1, []],
      ['b', 1, ['a']],
    ]), ['a']);
    expect(scheduler.ready()).toEqual(['b']);
  });

  it('refuses an impossible transition', () => {
    const scheduler = new DependencyScheduler(dag([['a', 1, []], ['b', 1, ['a']]]));
    expect(() => scheduler.start('b')).toThrow(/waiting, expected ready/);
  });
});
