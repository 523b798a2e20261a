import { describe, expect, it } from 'vitest';
import { createProgressView } from '../../src/runner/progress-view.ts';

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const stream = { isTTY, text: '', write(chunk: string) { stream.text += chunk; return true; } };
  return stream as unknown as NodeJS.WriteStream & { text: string };
}

describe('progress view', () => {
  it('without a TTY writes one human line per event, and JSON lines with --json', () => {
    const human: string[] = [];
    const json: unknown[] = [];
    const stream = fakeStream(false);
    const plain = createProgressView({ json: false, stream, emit: (_event, line) => human.push(line!) });
    const machine = createProgressView({ json: true, stream, emit: (event) => json.push(event) });
    for (const view of [plain, machine]) {
      view.event({ event: 'task-start', task: 'api', agent: 'agent-1', attempt: 1 });
      view.event({ event: 'task-fail', task: 'api', agent: 'agent-1', attempt: 1, ms: 1500, reason: 'agent failed (exit code 2)', blocked: false });
    }
    expect(human).toEqual(['agent-1: start api (attempt 1)', 'agent-1: failed api after 1.5s: agent failed (exit code 2)']);
    expect(json[0]).toEqual({ event: 'task-start', task: 'api', agent: 'agent-1', attempt: 1 });
    expect(stream.text).toBe('');
  });

  it('on a TTY redraws one line per agent with its task and elapsed time, the count and an ETA', () => {
    let now = 0;
    const stream = fakeStream(true);
    const view = createProgressView({ json: false, stream, emit: () => { throw new Error('no emit on a TTY'); }, now: () => now });
    view.event({ event: 'run-start', total: 4, to_run: 4, agents: 2, adapter: 'command' });
    view.event({ event: 'task-start', task: 'db', agent: 'agent-1', attempt: 1 });
    now = 2000;
    view.event({ event: 'task-complete', task: 'db', agent: 'agent-1', attempt: 1, ms: 2000, commit: 'abcdef1234567' });
    view.event({ event: 'task-start', task: 'api', agent: 'agent-2', attempt: 1 });
    now = 3500;
    view.close();
    const lastFrame = stream.text.slice(stream.text.lastIndexOf('\x1b[J') + 3);
    expect(lastFrame).toBe('1/4 done, 0 failure(s), 1 running, ETA 3.0s\n  agent-1  idle\n  agent-2  api (attempt 1) 1.5s\n');
  });
});
