import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/errors.ts';
import { checkPlan } from '../../src/plan/check-plan.ts';
import type { Plan, PlanTask } from '../../src/plan/plan-schema.ts';
import type { PlanAnalysis } from '../../src/plan/plan-analysis.ts';
import { scopeEntriesOverlap } from '../../src/scope/overlap.ts';

type TaskSpec = Partial<PlanTask> & { id: string; files: string[] };

function plan(specs: TaskSpec[]): Plan {
  return {
    name: 'test-plan',
    tasks: specs.map((spec) => ({ title: spec.id, reads: [], depends_on: [], prompt: 'do it', max_attempts: 2, ...spec })),
  };
}

/** Edges as compact literal rows: [from, to, kinds joined by "+", shared files]. */
function edgeRows(analysis: PlanAnalysis): Array<[string, string, string, string[]]> {
  return analysis.edges.map((edge) => [edge.from, edge.to, edge.kinds.join('+'), edge.files]);
}

function thrown(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof CliError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a CliError');
}

describe('checkPlan: edges and waves', () => {
  const cases: Array<{ name: string; tasks: TaskSpec[]; edges: Array<[string, string, string, string[]]>; waves: string[][] }> = [
    {
      name: 'disjoint scopes: no edges, one wave',
      tasks: [
        { id: 'a', files: ['src/a/**'] },
        { id: 'b', files: ['src/b/**'] },
        { id: 'c', files: ['docs/c.md'] },
      ],
      edges: [],
      waves: [['a', 'b', 'c']],
    },
    {
      name: 'glob against path: src/api/** overlaps src/api/auth.ts',
      tasks: [
        { id: 'api', files: ['src/api/**'] },
        { id: 'auth', files: ['src/api/auth.ts'] },
      ],
      edges: [['api', 'auth', 'scope', ['src/api/auth.ts']]],
      waves: [['api'], ['auth']],
    },
    {
      name: 'glob against glob',
      tasks: [
        { id: 'lint-fix', files: ['src/**/*.ts'] },
        { id: 'api', files: ['src/api/**'] },
      ],
      edges: [['lint-fix', 'api', 'scope', ['src/**/*.ts & src/api/**']]],
      waves: [['lint-fix'], ['api']],
    },
    {
      name: 'non-overlaps: src/*.ts vs src/a/b.ts, *.test.ts vs *.spec.ts, sibling folders',
      tasks: [
        { id: 'top', files: ['src/*.ts'] },
        { id: 'deep', files: ['src/a/b.ts'] },
        { id: 'tests', files: ['test/*.test.ts'] },
        { id: 'specs', files: ['test/*.spec.ts'] },
        { id: 'apis', files: ['src/apis/**'] },
        { id: 'api', files: ['src/api'] },
      ],
      edges: [],
      waves: [['top', 'deep', 'tests', 'specs', 'apis', 'api']],
    },
    {
      name: 'a file written by four tasks: k-1 chain edges in plan order, not k² pairs',
      tasks: [
        { id: 't1', files: ['package.json', 'src/one.ts'] },
        { id: 't2', files: ['package.json'] },
        { id: 't3', files: ['src/three.ts', './package.json'] },
        { id: 't4', files: ['package.json'] },
      ],
      edges: [
        ['t1', 't2', 'scope', ['package.json']],
        ['t2', 't3', 'scope', ['package.json']],
        ['t3', 't4', 'scope', ['package.json']],
      ],
      waves: [['t1'], ['t2'], ['t3'], ['t4']],
    },
    {
      name: 'a folder glob between writers of two files it covers',
      tasks: [
        { id: 'a', files: ['src/api/a.ts'] },
        { id: 'all', files: ['src/api/**'] },
        { id: 'b', files: ['src/api/b.ts'] },
      ],
      edges: [
        ['a', 'all', 'scope', ['src/api/a.ts']],
        ['all', 'b', 'scope', ['src/api/b.ts']],
      ],
      waves: [['a'], ['all'], ['b']],
    },
    {
      name: 'depends_on overrides plan order for an overlap (no cycle)',
      tasks: [
        { id: 'ui', files: ['src/shared.ts', 'src/ui/**'], depends_on: ['types'] },
        { id: 'types', files: ['src/shared.ts'] },
      ],
      edges: [['types', 'ui', 'depends_on+scope', ['src/shared.ts']]],
      waves: [['types'], ['ui']],
    },
    {
      name: 'reads after writes: the reader waits for the writer listed before it',
      tasks: [
        { id: 'db', files: ['src/models/notification.ts'] },
        { id: 'api', files: ['src/api/**'], reads: ['src/models/**'] },
        { id: 'docs', files: ['docs/api.md'], reads: ['src/api/routes.ts'] },
      ],
      edges: [
        ['db', 'api', 'reads', ['src/models/notification.ts']],
        ['api', 'docs', 'reads', ['src/api/routes.ts']],
      ],
      waves: [['db'], ['api'], ['docs']],
    },
    {
      name: 'a writer listed after a reader waits for the reader',
      tasks: [
        { id: 'report', files: ['out/report.md'], reads: ['data/*.csv'] },
        { id: 'refresh', files: ['data/sales.csv'] },
      ],
      edges: [['report', 'refresh', 'reads', ['data/sales.csv']]],
      waves: [['report'], ['refresh']],
    },
    {
      name: 'two readers of one file do not wait for each other',
      tasks: [
        { id: 'r1', files: ['a.md'], reads: ['src/config.ts'] },
        { id: 'r2', files: ['b.md'], reads: ['src/config.ts'] },
      ],
      edges: [],
      waves: [['r1', 'r2']],
    },
    {
      name: 'depends_on only, diamond',
      tasks: [
        { id: 'base', files: ['lib/base.ts'] },
        { id: 'left', files: ['lib/left.ts'], depends_on: ['base'] },
        { id: 'right', files: ['lib/right.ts'], depends_on: ['base'] },
        { id: 'top', files: ['lib/top.ts'], depends_on: ['left', 'right', 'left'] },
      ],
      edges: [
        ['base', 'left', 'depends_on', []],
        ['base', 'right', 'depends_on', []],
        ['left', 'top', 'depends_on', []],
        ['right', 'top', 'depends_on', []],
      ],
      waves: [['base'], ['left', 'right'], ['top']],
    },
  ];

  it.each(cases)('$name', ({ tasks, edges, waves }) => {
    const analysis = checkPlan(plan(tasks));
    expect({ edges: edgeRows(analysis), waves: analysis.waves }).toStrictEqual({ edges, waves });
  });

  it('classes tasks with no edge as independent and says why each edge exists', () => {
    const analysis = checkPlan(plan([
      { id: 'api', files: ['src/api/**'] },
      { id: 'auth', files: ['src/api/auth.ts'] },
      { id: 'docs', files: ['docs/x.md'] },
    ]));
    expect(analysis.tasks.map((task) => [task.id, task.class, task.wave, task.after])).toStrictEqual([
      ['api', 'dependent', 1, []],
      ['auth', 'dependent', 2, ['api']],
      ['docs', 'independent', 1, []],
    ]);
    expect(analysis.edges[0]!.reason).toBe('both write src/api/auth.ts: auth runs after api (plan order)');
  });
});

describe('checkPlan: invalid graphs', () => {
  it.each([
    {
      name: 'a three-task cycle, named whole from its earliest task',
      tasks: [
        { id: 'x', files: ['x.ts'] },
        { id: 'c', files: ['c.ts'], depends_on: ['a'] },
        { id: 'a', files: ['a.ts'], depends_on: ['b'] },
        { id: 'b', files: ['b.ts'], depends_on: ['c', 'x'] },
      ],
      code: 'E_CYCLE',
      message: 'plan: depends_on cycle: c -> a -> b -> c (each task depends on the next); remove one of these dependencies',
    },
    {
      name: 'a task that depends on itself',
      tasks: [{ id: 'solo', files: ['s.ts'], depends_on: ['solo'] }],
      code: 'E_CYCLE',
      message: 'plan: depends_on cycle: solo -> solo (each task depends on the next); remove one of these dependencies',
    },
    {
      name: 'an unknown dependency',
      tasks: [{ id: 'a', files: ['a.ts'], depends_on: ['ghost'] }],
      code: 'E_UNKNOWN_DEP',
      message: 'plan: task "a" depends_on "ghost", which is not a task in this plan; add that task or remove the dependency',
    },
    {
      name: 'a duplicate id',
      tasks: [{ id: 'a', files: ['a.ts'] }, { id: 'b', files: ['b.ts'] }, { id: 'a', files: ['c.ts'] }],
      code: 'E_DUPLICATE_ID',
      message: 'plan: task id "a" is used twice (tasks[0] and tasks[2]); give each task its own id',
    },
  ])('$name', ({ tasks, code, message }) => {
    expect(thrown(() => checkPlan(plan(tasks)))).toStrictEqual({ code, message });
  });
});

describe('checkPlan: critical path, total work and agents', () => {
  const cases: Array<{
    name: string;
    tasks: TaskSpec[];
    maxAgents?: number;
    expected: { path: string[]; length: string; total: string; basis: string; recommended: number; uncapped: number; strategy: string };
  }> = [
    {
      name: 'by estimate: the heaviest chain, not the longest',
      tasks: [
        { id: 'a', files: ['a.ts'], estimate: '10m' },
        { id: 'b', files: ['b.ts'], estimate: '10m', depends_on: ['a'] },
        { id: 'c', files: ['c.ts'], estimate: '10m', depends_on: ['b'] },
        { id: 'big', files: ['big.ts'], estimate: '1h' },
      ],
      expected: { path: ['big'], length: '1h', total: '1h30m', basis: 'estimate', recommended: 2, uncapped: 2, strategy: 'hybrid' },
    },
    {
      name: 'by count when no task has an estimate',
      tasks: [
        { id: 'a', files: ['a.ts'] },
        { id: 'b', files: ['b.ts'], depends_on: ['a'] },
        { id: 'c', files: ['c.ts'] },
        { id: 'd', files: ['d.ts'] },
      ],
      expected: { path: ['a', 'b'], length: '2 tasks', total: '4 tasks', basis: 'count', recommended: 2, uncapped: 2, strategy: 'hybrid' },
    },
    {
      name: 'ten independent tasks: ten agents would help, --max-agents caps at 5',
      tasks: Array.from({ length: 10 }, (_, i) => ({ id: `t${i}`, files: [`src/t${i}.ts`], estimate: '10m' })),
      expected: { path: ['t0'], length: '10m', total: '1h40m', basis: 'estimate', recommended: 5, uncapped: 10, strategy: 'parallel' },
    },
    {
      name: 'the same, capped lower by --max-agents 3',
      tasks: Array.from({ length: 10 }, (_, i) => ({ id: `t${i}`, files: [`src/t${i}.ts`], estimate: '10m' })),
      maxAgents: 3,
      expected: { path: ['t0'], length: '10m', total: '1h40m', basis: 'estimate', recommended: 3, uncapped: 10, strategy: 'parallel' },
    },
    {
      name: 'within 10%: 3 agents give max(60, 100/3) and 2 give 50 > 66; 11 units of side work need no 4th',
      tasks: [
        { id: 'long', files: ['l.ts'], estimate: '60m' },
        { id: 's1', files: ['s1.ts'], estimate: '20m' },
        { id: 's2', files: ['s2.ts'], estimate: '20m' },
        { id: 's3', files: ['s3.ts'], estimate: '20m' },
        { id: 's4', files: ['s4.ts'], estimate: '20m' },
        { id: 's5', files: ['s5.ts'], estimate: '20m' },
        { id: 's6', files: ['s6.ts'], estimate: '20m' },
      ],
      expected: { path: ['long'], length: '1h', total: '3h', basis: 'estimate', recommended: 3, uncapped: 3, strategy: 'parallel' },
    },
    {
      name: 'every task writes the same file: sequential, one agent',
      tasks: [
        { id: 'a', files: ['CHANGELOG.md', 'a.ts'], estimate: '5m' },
        { id: 'b', files: ['CHANGELOG.md'], estimate: '5m' },
        { id: 'c', files: ['./CHANGELOG.md', 'c.ts'], estimate: '5m' },
      ],
      expected: { path: ['a', 'b', 'c'], length: '15m', total: '15m', basis: 'estimate', recommended: 1, uncapped: 1, strategy: 'sequential' },
    },
  ];

  it.each(cases)('$name', ({ tasks, maxAgents, expected }) => {
    const analysis = checkPlan(plan(tasks), { maxAgents });
    expect({
      path: analysis.critical_path.tasks,
      length: analysis.critical_path.length.text,
      total: analysis.total_work.text,
      basis: analysis.critical_path.basis,
      recommended: analysis.agents.recommended,
      uncapped: analysis.agents.uncapped,
      strategy: analysis.strategy.kind,
    }).toStrictEqual(expected);
  });

  it('explains the count and the cap', () => {
    const tasks = Array.from({ length: 10 }, (_, i) => ({ id: `t${i}`, files: [`src/t${i}.ts`], estimate: '10m' }));
    expect(checkPlan(plan(tasks)).agents.reason).toBe(
      '5 agents (capped by --max-agents 5): 10 would bring the lower bound within 10% of the best possible (the critical path, 10m); with 5 it is max(10m, 1h40m / 5 = 20m) = 20m, 100% above it',
    );
    expect(checkPlan(plan(tasks.slice(0, 2))).agents.reason).toBe(
      '2 agents: the lower bound max(10m, 20m / 2 = 10m) = 10m is within 10% of the best possible (the critical path, 10m, which no number of agents can beat); 1 would allow only 20m (100% above)',
    );
  });

  it('says so when every task writes the same file', () => {
    const analysis = checkPlan(plan([
      { id: 'a', files: ['CHANGELOG.md'] },
      { id: 'b', files: ['CHANGELOG.md'] },
    ]));
    expect(analysis.strategy.reason).toBe('every task writes CHANGELOG.md: run them one after another with one agent (parallel agents would only wait or conflict)');
  });

  it('counts tasks without an estimate at the median estimate, and warns', () => {
    const analysis = checkPlan(plan([
      { id: 'a', files: ['a.ts'], estimate: '10m' },
      { id: 'b', files: ['b.ts'], estimate: '30m' },
      { id: 'c', files: ['c.ts'], estimate: '20m' },
      { id: 'd', files: ['d.ts'], depends_on: ['b'] },
    ]));
    expect([analysis.critical_path.tasks, analysis.critical_path.length.text, analysis.warnings]).toStrictEqual([
      ['b', 'd'],
      '50m',
      ['1 of 4 tasks have no estimate; they count as the median estimate, 20m'],
    ]);
  });

  it('recommends file partitioning only for disjoint, narrow scopes', () => {
    const narrow = checkPlan(plan([{ id: 'a', files: ['src/a/**'] }, { id: 'b', files: ['src/b/x.ts'] }]));
    const broad = checkPlan(plan([{ id: 'a', files: ['src/*.ts'] }, { id: 'b', files: ['docs/**'] }]));
    const shared = checkPlan(plan([{ id: 'a', files: ['src/a/**'] }, { id: 'b', files: ['src/a/x.ts'] }, { id: 'c', files: ['lib/c.ts'] }]));
    expect([narrow.isolation.kind, broad.isolation.kind, shared.isolation.kind]).toStrictEqual(['file-partition', 'worktree-per-agent', 'worktree-per-agent']);
  });
});

describe('checkPlan: chained edges order every conflicting pair', () => {
  it('matches an all-pairs check on seeded random plans', () => {
    let seed = 11;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const entries = ['package.json', 'src/a.ts', 'src/b.ts', 'src/api/**', 'src/api/x.ts', 'src/**/*.ts', 'docs/*.md', 'docs/a.md', 'src/ui', 'src/ui/v.tsx', 'lib/**'];
    for (let round = 0; round < 20; round++) {
      const count = 12;
      const tasks: TaskSpec[] = Array.from({ length: count }, (_, i) => ({
        id: `t${i}`,
        files: Array.from({ length: 1 + random(3) }, () => entries[random(entries.length)]!),
        reads: random(3) === 0 ? [entries[random(entries.length)]!] : [],
        depends_on: i > 0 && random(4) === 0 ? [`t${random(i)}`] : [],
      }));
      const analysis = checkPlan(plan(tasks));
      const reach = new Map<string, Set<string>>();
      const successors = new Map<string, string[]>();
      for (const edge of analysis.edges) successors.set(edge.from, [...(successors.get(edge.from) ?? []), edge.to]);
      const reachable = (from: string): Set<string> => {
        let found = reach.get(from);
        if (found) return found;
        found = new Set();
        for (const next of successors.get(from) ?? []) {
          found.add(next);
          for (const further of reachable(next)) found.add(further);
        }
        reach.set(from, found);
        return found;
      };
      const unordered: string[] = [];
      for (let i = 0; i < count; i++) {
        for (let j = i + 1; j < count; j++) {
          const a = tasks[i]!;
          const b = tasks[j]!;
          const writesMeet = a.files.some((x) => b.files.some((y) => scopeEntriesOverlap(x, y)));
          const readsMeet = (a.reads ?? []).some((x) => b.files.some((y) => scopeEntriesOverlap(x, y))) || (b.reads ?? []).some((x) => a.files.some((y) => scopeEntriesOverlap(x, y)));
          if ((writesMeet || readsMeet) && !reachable(a.id).has(b.id) && !reachable(b.id).has(a.id)) unordered.push(`${a.id}/${b.id}`);
        }
      }
      expect(unordered).toStrictEqual([]);
      // And chaining keeps the edge count linear, far below the conflicting pairs.
      expect(analysis.edges.length).toBeLessThanOrEqual(count * 6);
    }
  });
});

