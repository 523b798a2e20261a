// What --json promises, held over every command at once: stdout is exactly one JSON document,
// progress goes to stderr as JSON lines, and every key is snake_case, like the task files' fields.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { git, gitRepo, writeFiles } from '../helpers/git-repo.ts';
import { runCliAsync } from '../helpers/run-cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { agentScript } from '../runner/fixtures.ts';

/** Objects whose keys are data (agent names), not field names. Adding one is a decision. */
const KEYED_BY_DATA = new Set(['report.utilization']);
const SNAKE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

function camelKeys(value: unknown, path: string, found: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) camelKeys(item, `${path}[]`, found);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value)) {
    const at = path === '' ? key : `${path}.${key}`;
    if (!KEYED_BY_DATA.has(path) && !SNAKE.test(key)) found.add(`${at}`);
    camelKeys(child, KEYED_BY_DATA.has(path) ? `${path}.*` : at, found);
  }
}

interface JsonCall {
  exitCode: number;
  document: any;
  events: any[];
}

const PLAN = {
  name: 'keys',
  check: 'test -f out/api-v1.txt || test -f out/ui-v1.txt',
  tasks: [
    { id: 'api-v1', title: 'API', files: ['out/api-v1.txt'], prompt: 'write out/api-v1.txt' },
    { id: 'ui-v1', title: 'UI', files: ['out/ui-v1.txt'], depends_on: ['api-v1'], prompt: 'write out/ui-v1.txt' },
    { id: 'docs', title: 'Docs', files: ['docs/**'], prompt: 'write docs' },
  ],
};

describe('--json output', () => {
  it('is one document on stdout, progress as JSON lines on stderr, snake_case keys, for every command', async () => {
    const repo = gitRepo({ 'README.md': '# keys\n', 'src/a/one.ts': '1\n', 'src/b/two.ts': '2\n', '.parallel-agents.json': JSON.stringify({ ports: { count: 1, from: 26_000 + Math.floor(Math.random() * 4000) } }) });
    const scratch = tempDir('pa-keys-');
    const plan = join(scratch, 'plan.json');
    writeFileSync(plan, JSON.stringify(PLAN));
    const keys = new Set<string>();
    const call = async (args: string[], cwd = repo): Promise<JsonCall> => {
      const result = await runCliAsync([...args, '--json'], { cwd });
      const where = `parallel-agents ${args.join(' ')}`;
      expect(result.stdout.endsWith('\n'), where).toBe(true);
      expect(result.stdout.trimEnd().split('\n'), `${where}: one document on stdout`).toHaveLength(1);
      const document = JSON.parse(result.stdout);
      const lines = result.stderr.split('\n').filter((line) => line !== '');
      // A failure also says itself in one line for the person watching stderr (the document has it too).
      if (result.exitCode !== 0) expect(lines.pop(), where).toBe(`parallel-agents: ${document.error.message}`);
      const events = lines.map((line) => JSON.parse(line));
      for (const event of events) expect(typeof event.event, `${where}: a progress line names its event`).toBe('string');
      for (const item of [document, ...events]) camelKeys(item, '', keys);
      return { exitCode: result.exitCode, document, events };
    };

    expect((await call(['init'])).exitCode).toBe(0);
    expect((await call(['plan', 'check', plan])).document.tasks).toBeDefined();
    expect((await call(['plan', 'publish', plan])).document.published).toHaveLength(3);
    expect((await call(['status'])).document.claimable).toBe(2);
    const claim = await call(['claim', '--agent', 'be', '--task', 'api-v1']);
    const token = claim.document.token as string;
    const holder = ['--agent', 'be', '--task', 'api-v1', '--token', token];
    await call(['heartbeat', ...holder]);
    const worktree = (await call(['worktree', 'add', '--task', 'api-v1'])).document;
    writeFiles(worktree.path, { 'out/api-v1.txt': 'api\n' });
    expect((await call(['check', '--task', 'api-v1'])).document.passed).toBe(true);
    expect((await call(['complete', ...holder, '--commit-worktree', '--summary', 'done'])).document.task.state).toBe('completed');
    const docs = (await call(['claim', '--agent', 'writer', '--task', 'docs'])).document.token as string;
    await call(['fail', '--agent', 'writer', '--task', 'docs', '--token', docs, '--reason', 'no time']);
    const again = (await call(['claim', '--agent', 'writer', '--task', 'docs'])).document.token as string;
    await call(['release', '--agent', 'writer', '--task', 'docs', '--token', again]);
    // A claim with a holder process, flagged stale by status and taken back by recover.
    await call(['claim', '--agent', 'writer', '--task', 'docs', '--holder-pid', String(process.pid)]);
    expect((await call(['status', '--stale-after', '1ms'])).document.flags).toHaveLength(1);
    expect((await call(['recover', '--stale-after', '1ms'])).document.recovered).toHaveLength(1);
    await call(['show', '--task', 'api-v1']);
    await call(['worktree', 'list']);
    await call(['worktree', 'add', '--task', 'docs']);
    await call(['worktree', 'remove', '--task', 'docs']);
    expect((await call(['verify', '--dry-run'])).document.status).toBe('clean-dry-run');
    const verify = await call(['verify', '--test', 'test -f out/api-v1.txt']);
    expect(verify.document.status).toBe('merged');
    expect(verify.events.map((event) => event.event)).toContain('merged');
    await call(['worktree', 'prune']);
    await call(['setup']);
    await call(['batch', 'units', '--glob', 'src/**', '--min', '1', '--plan-out', join(scratch, 'batch.yaml'), '--instruction', 'format']);
    expect((await call(['show', '--task', 'nope'])).document.error.code).toBe('E_NOT_FOUND');

    // The runner: its progress events and report, in a second repository.
    const other = gitRepo({ 'README.md': '# run\n' });
    const agent = agentScript(scratch, 'agent.sh', 'cat > /dev/null\nmkdir -p out && echo "$PARALLEL_TASK_ID" > "out/$PARALLEL_TASK_ID.txt"');
    const runPlan = join(scratch, 'run.json');
    writeFileSync(runPlan, JSON.stringify({ ...PLAN, tasks: PLAN.tasks.slice(0, 2) }));
    const run = await call(['run', runPlan, '--agent-cmd', agent, '--agents', '2'], other);
    expect(run.exitCode).toBe(0);
    expect(run.document.report.counts).toMatchObject({ total: 2, completed: 2 });
    expect(run.events.map((event) => event.event)).toEqual(expect.arrayContaining(['publish', 'run-start', 'task-start', 'task-complete', 'run-end', 'merged']));
    expect(git(other, 'ls-files', 'out').split('\n').sort()).toEqual(['out/api-v1.txt', 'out/ui-v1.txt']);

    expect([...keys].sort()).toEqual([]);
  });
});
