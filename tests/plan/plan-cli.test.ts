import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitRepo, writeFiles } from '../helpers/git-repo.ts';
import { runCli } from '../helpers/run-cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { openStore } from '../../src/store/open-store.ts';

const NOTIFICATIONS = `name: notification-system
tasks:
  - id: db-schema
    title: Notifications tables
    role: backend-developer
    files: [migrations/**, src/models/notification.ts]
    reads: [src/models/user.ts]
    estimate: 20m
    prompt: |
      Create the notifications tables.
  - id: api
    title: Notifications API
    files: [src/api/**]
    reads: [src/models/notification.ts]
    depends_on: [db-schema]
    estimate: 30m
    prompt: Build the API.
  - id: auth-fix
    title: Auth fix
    files: [src/api/auth.ts]
    estimate: 10m
    prompt: Fix auth.
  - id: docs
    title: Docs
    files: [docs/notifications.md]
    estimate: 10m
    prompt: Write the docs.
`;

function planDir(files: Record<string, string>): string {
  const dir = tempDir('pa-plan-');
  writeFiles(dir, files);
  return dir;
}

/** One error: its exit code and the single stderr line, with no stack. */
function failure(args: string[], cwd: string): { exitCode: number; stderr: string } {
  const run = runCli(args, { cwd });
  return { exitCode: run.exitCode, stderr: run.stderr };
}

describe('plan check: errors (exit 2, one line, no stack)', () => {
  it.each([
    {
      name: 'cycle',
      file: 'p.yaml',
      text: 'name: p\ntasks:\n  - {id: a, title: A, files: [a.ts], depends_on: [c], prompt: x}\n  - {id: b, title: B, files: [b.ts], depends_on: [a], prompt: x}\n  - {id: c, title: C, files: [c.ts], depends_on: [b], prompt: x}\n',
      stderr: 'parallel-agents: p.yaml: depends_on cycle: a -> c -> b -> a (each task depends on the next); remove one of these dependencies\n',
    },
    {
      name: 'unknown dependency',
      file: 'p.yaml',
      text: 'name: p\ntasks:\n  - {id: a, title: A, files: [a.ts], depends_on: [nope], prompt: x}\n',
      stderr: 'parallel-agents: p.yaml: task "a" depends_on "nope", which is not a task in this plan; add that task or remove the dependency\n',
    },
    {
      name: 'duplicate id',
      file: 'p.yaml',
      text: 'name: p\ntasks:\n  - {id: a, title: A, files: [a.ts], prompt: x}\n  - {id: a, title: B, files: [b.ts], prompt: x}\n',
      stderr: 'parallel-agents: p.yaml: task id "a" is used twice (tasks[0] and tasks[1]); give each task its own id\n',
    },
    {
      name: 'empty scope',
      file: 'p.yaml',
      text: 'name: p\ntasks:\n  - {id: a, title: A, files: [], prompt: x}\n',
      stderr: 'parallel-agents: p.yaml: invalid plan: tasks[0] (a).files: must list at least one path or glob the task writes (its write scope)\n',
    },
    {
      name: 'scope climbing out of the repository',
      file: 'p.yaml',
      text: 'name: p\ntasks:\n  - {id: a, title: A, files: [../secrets.txt], prompt: x}\n',
      stderr: 'parallel-agents: p.yaml: invalid plan: tasks[0] (a).files.0: "../secrets.txt" contains "..": a scope stays inside the repository; name the path from its root\n',
    },
    {
      name: 'broken glob',
      file: 'p.yaml',
      text: 'name: p\ntasks:\n  - {id: a, title: A, files: ["src/[ab.ts"], prompt: x}\n',
      stderr: 'parallel-agents: p.yaml: invalid plan: tasks[0] (a).files.0: "src/[ab.ts" has a "[" without its "]": close the character class\n',
    },
    {
      name: 'unknown field',
      file: 'p.yaml',
      text: 'name: p\ntasks:\n  - {id: a, title: A, files: [a.ts], dependson: [b], prompt: x}\n',
      stderr: 'parallel-agents: p.yaml: invalid plan: tasks[0] (a): unknown field dependson (expected id, title, role, files, reads, depends_on, estimate, check, prompt, max_attempts)\n',
    },
    {
      name: 'malformed YAML, with its line',
      file: 'p.yaml',
      text: 'name: p\ntasks:\n  - id: a\n    title: A\n   files: [a.ts]\n    prompt: x\n',
      stderr: 'parallel-agents: p.yaml:5:4: malformed YAML: bad indentation of a sequence entry; fix the file and run plan check again\n',
    },
    {
      name: 'malformed JSON, with its line',
      file: 'p.json',
      text: '{\n  "name": "p",\n  "tasks": [\n    {"id": "a", "title": "A", "files": ["a.ts"] "prompt": "x"}\n  ]\n}\n',
      stderr: 'parallel-agents: p.json:4:49: malformed JSON: Expected \',\' or \'}\' after property value; fix the file and run plan check again\n',
    },
    {
      // js-yaml recurses once per level; the overflow is bad input, not an internal error.
      name: 'YAML nested too deep for the parser',
      file: 'deep.yaml',
      text: `name: p\ntasks: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`,
      stderr: 'parallel-agents: deep.yaml: malformed YAML: nesting too deep; fix the file and run plan check again\n',
    },
  ])('$name', ({ file, text, stderr }) => {
    const dir = planDir({ [file]: text });
    expect(failure(['plan', 'check', file], dir)).toStrictEqual({ exitCode: 2, stderr });
  });

  it('reports the error as JSON with --json', () => {
    const dir = planDir({ 'p.yaml': 'name: p\ntasks:\n  - {id: a, title: A, files: [a.ts], depends_on: [a], prompt: x}\n' });
    const run = runCli(['plan', 'check', 'p.yaml', '--json'], { cwd: dir });
    expect([run.exitCode, run.json]).toStrictEqual([
      2,
      { error: { code: 'E_CYCLE', exit: 2, cycle: ['a', 'a'], message: 'p.yaml: depends_on cycle: a -> a (each task depends on the next); remove one of these dependencies' } },
    ]);
  });

  it('rejects a missing file and a bad --format', () => {
    const dir = planDir({ 'p.yaml': NOTIFICATIONS });
    expect([
      failure(['plan', 'check', 'missing.yaml'], dir),
      failure(['plan', 'check', 'p.yaml', '--format', 'dot'], dir),
    ]).toStrictEqual([
      { exitCode: 2, stderr: 'parallel-agents: missing.yaml: cannot read the plan file (ENOENT); give the path of a YAML or JSON plan\n' },
      { exitCode: 2, stderr: 'parallel-agents: --format must be one of text, mermaid, json (got "dot"); usage: parallel-agents plan check PLAN [--format text|mermaid|json] [--max-agents N] [--json]\n' },
    ]);
  });
});

describe('plan check: formats', () => {
  it('json carries tasks, edges with reason and files, waves, critical path, agents, strategy, isolation', () => {
    const dir = planDir({ 'p.yaml': NOTIFICATIONS });
    const run = runCli(['plan', 'check', 'p.yaml', '--format', 'json', '--max-agents', '3'], { cwd: dir });
    expect(run.exitCode).toBe(0);
    const data = JSON.parse(run.stdout);
    expect({
      edges: data.edges,
      waves: data.waves,
      criticalPath: data.critical_path.tasks,
      agents: [data.agents.recommended, data.agents.max_agents],
      strategy: data.strategy.kind,
      isolation: data.isolation.kind,
      classes: data.tasks.map((task: { id: string; class: string }) => `${task.id}:${task.class}`),
    }).toStrictEqual({
      edges: [
        {
          from: 'db-schema', to: 'api', kind: 'depends_on', kinds: ['depends_on', 'reads'],
          reason: 'api depends on db-schema; api reads src/models/notification.ts, which db-schema writes', files: ['src/models/notification.ts'],
        },
        { from: 'api', to: 'auth-fix', kind: 'scope', kinds: ['scope'], reason: 'both write src/api/auth.ts: auth-fix runs after api (plan order)', files: ['src/api/auth.ts'] },
      ],
      waves: [['db-schema', 'docs'], ['api'], ['auth-fix']],
      criticalPath: ['db-schema', 'api', 'auth-fix'],
      agents: [2, 3],
      strategy: 'hybrid',
      isolation: 'worktree-per-agent',
      classes: ['db-schema:dependent', 'api:dependent', 'auth-fix:dependent', 'docs:independent'],
    });
    // --json prints the same document.
    const viaFlag = runCli(['plan', 'check', 'p.yaml', '--json', '--max-agents', '3'], { cwd: dir });
    expect(viaFlag.json).toStrictEqual(data);
  });

  it('text shows the waves table, the graph and the recommendation', () => {
    const dir = planDir({ 'p.yaml': NOTIFICATIONS });
    const run = runCli(['plan', 'check', 'p.yaml'], { cwd: dir });
    expect([run.exitCode, run.stderr]).toStrictEqual([0, '']);
    expect(run.stdout.split('\n').slice(0, 12)).toStrictEqual([
      'Plan notification-system: 4 tasks, 2 edges, 3 waves',
      '',
      '  wave  tasks  ids',
      '  1     2      db-schema (20m), docs (10m)',
      '  2     1      api (30m)',
      '  3     1      auth-fix (10m)',
      '',
      'Graph (first -> then: why):',
      '  db-schema -> api  [depends_on+reads] api depends on db-schema; api reads src/models/notification.ts, which db-schema writes',
      '  api -> auth-fix  [scope] both write src/api/auth.ts: auth-fix runs after api (plan order)',
      '  independent: docs',
      '',
    ]);
    expect(run.stdout).toContain('Critical path (by estimate): db-schema -> api -> auth-fix = 1h\n');
    expect(run.stdout).toContain('Agents: 2 agents: the lower bound max(1h, 1h10m / 2 = 35m) = 1h is within 10% of the best possible');
  });

  it('mermaid prints a graph TD with waves, edges and the critical path', () => {
    const dir = planDir({ 'p.json': JSON.stringify({ name: 'p', tasks: [
      { id: 'a.1', title: 'Say "hi"', files: ['src/**'], prompt: 'x' },
      { id: 'b', title: 'B', files: ['src/b.ts'], prompt: 'x' },
      { id: 'c', title: 'C', files: ['c.ts'], depends_on: ['b'], prompt: 'x' },
    ] }) });
    const run = runCli(['plan', 'check', 'p.json', '--format', 'mermaid'], { cwd: dir });
    expect([run.exitCode, run.stdout]).toStrictEqual([
      0,
      [
        'graph TD',
        '  subgraph wave1["wave 1"]',
        '    t0["a.1: Say #quot;hi#quot;"]',
        '  end',
        '  subgraph wave2["wave 2"]',
        '    t1["b: B"]',
        '  end',
        '  subgraph wave3["wave 3"]',
        '    t2["c: C"]',
        '  end',
        '  t0 -.->|"scope: src/b.ts"| t1',
        '  t1 --> t2',
        '  classDef critical stroke-width:3px',
        '  class t0,t1,t2 critical',
        '',
      ].join('\n'),
    ]);
  });
});

describe('plan publish', () => {
  it('writes tasks with implied edges in depends_on, then skips them all on a second run', () => {
    const repo = gitRepo();
    writeFiles(repo, { 'plan.yaml': NOTIFICATIONS });
    const first = runCli(['plan', 'publish', 'plan.yaml', '--json'], { cwd: repo });
    expect([first.exitCode, first.json?.published, first.json?.skipped]).toStrictEqual([0, ['db-schema', 'docs', 'api', 'auth-fix'], []]);
    const available = join(repo, '_tasks', 'available');
    const snapshot = Object.fromEntries(readdirSync(available).sort().map((name) => [name, readFileSync(join(available, name), 'utf8')]));
    expect(snapshot['auth-fix.md']).toBe(
      '---\nid: "auth-fix"\ntitle: "Auth fix"\nplan: "notification-system"\nfiles: ["src/api/auth.ts"]\nreads: []\ndepends_on: ["api"]\nestimate: "10m"\nattempts: 0\nmax_attempts: 2\n---\nFix auth.\n',
    );

    const second = runCli(['plan', 'publish', 'plan.yaml'], { cwd: repo });
    expect([second.exitCode, second.stdout]).toStrictEqual([0, `plan notification-system: nothing to publish, all 4 tasks are already in ${join(repo, '_tasks')}\n`]);
    const after = Object.fromEntries(readdirSync(available).sort().map((name) => [name, readFileSync(join(available, name), 'utf8')]));
    expect(after).toStrictEqual(snapshot);
  });

  it('refuses unfinished tasks of another plan unless --allow-mixed, and ignores finished ones', async () => {
    const repo = gitRepo();
    writeFiles(repo, {
      'one.yaml': 'name: one\ntasks:\n  - {id: one-a, title: A, files: [a.ts], prompt: x}\n',
      'two.yaml': 'name: two\ntasks:\n  - {id: two-a, title: A, files: [b.ts], prompt: x}\n',
      'three.yaml': 'name: three\ntasks:\n  - {id: three-a, title: A, files: [c.ts], prompt: x}\n',
    });
    expect(runCli(['plan', 'publish', 'one.yaml'], { cwd: repo }).exitCode).toBe(0);
    expect(failure(['plan', 'publish', 'two.yaml'], repo)).toStrictEqual({
      exitCode: 1,
      stderr: 'parallel-agents: 1 task of plan "one" is unfinished: one-a (available); finish them first or pass --allow-mixed\n',
    });
    const mixed = runCli(['plan', 'publish', 'two.yaml', '--allow-mixed', '--json'], { cwd: repo });
    expect([mixed.exitCode, mixed.json?.published]).toStrictEqual([0, ['two-a']]);

    const store = openStore({ cwd: repo });
    for (const agent of ['w1', 'w2']) {
      const { task, token } = await store.claim({ agent });
      await store.complete({ agent, task: task.id, token });
    }
    const third = runCli(['plan', 'publish', 'three.yaml', '--json'], { cwd: repo });
    expect([third.exitCode, third.json?.published]).toStrictEqual([0, ['three-a']]);
  });

  it('gives each task its own check or the plan\'s, and treats a changed check as a changed task', () => {
    const repo = gitRepo();
    writeFiles(repo, {
      'p.yaml': 'name: p\ncheck: npm test\ntasks:\n  - {id: a, title: A, files: [a.ts], prompt: x}\n  - {id: b, title: B, files: [b.ts], check: "pytest -q tests/b", prompt: x}\n',
      'p2.yaml': 'name: p\ncheck: npm run test:all\ntasks:\n  - {id: a, title: A, files: [a.ts], prompt: x}\n  - {id: b, title: B, files: [b.ts], check: "pytest -q tests/b", prompt: x}\n',
      'bad.yaml': 'name: q\ntasks:\n  - {id: c, title: C, files: [c.ts], check: "  ", prompt: x}\n',
    });
    expect(runCli(['plan', 'publish', 'p.yaml'], { cwd: repo }).exitCode).toBe(0);
    const shown = (id: string) => runCli(['show', '--task', id, '--json'], { cwd: repo }).json?.task.check;
    expect([shown('a'), shown('b')]).toStrictEqual(['npm test', 'pytest -q tests/b']);
    expect(failure(['plan', 'publish', 'p2.yaml'], repo)).toStrictEqual({
      exitCode: 2,
      stderr: `parallel-agents: task "a" already exists (available) with a different check; rename the task in the plan or remove the old one from ${join(repo, '_tasks')}\n`,
    });
    expect(failure(['plan', 'check', 'bad.yaml'], repo)).toStrictEqual({
      exitCode: 2,
      stderr: 'parallel-agents: bad.yaml: invalid plan: tasks[0] (c).check: must be a shell command such as "npm test" (not empty)\n',
    });
  });

  it('refuses a plan that does not check, and a changed task under an existing id', () => {
    const repo = gitRepo();
    writeFiles(repo, {
      'cycle.yaml': 'name: c\ntasks:\n  - {id: a, title: A, files: [a.ts], depends_on: [b], prompt: x}\n  - {id: b, title: B, files: [b.ts], depends_on: [a], prompt: x}\n',
      'v1.yaml': 'name: v\ntasks:\n  - {id: a, title: A, files: [a.ts], prompt: x}\n',
      'v2.yaml': 'name: v\ntasks:\n  - {id: a, title: A, files: [a.ts, b.ts], prompt: x}\n',
    });
    expect(failure(['plan', 'publish', 'cycle.yaml'], repo)).toStrictEqual({
      exitCode: 2,
      stderr: 'parallel-agents: cycle.yaml: depends_on cycle: a -> b -> a (each task depends on the next); remove one of these dependencies\n',
    });
    expect(existsSync(join(repo, '_tasks'))).toBe(false);
    expect(runCli(['plan', 'publish', 'v1.yaml'], { cwd: repo }).exitCode).toBe(0);
    expect(failure(['plan', 'publish', 'v2.yaml'], repo)).toStrictEqual({
      exitCode: 2,
      stderr: `parallel-agents: task "a" already exists (available) with a different files; rename the task in the plan or remove the old one from ${join(repo, '_tasks')}\n`,
    });
  });
});
