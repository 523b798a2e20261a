import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { progressEvents, runCliAsync } from '../helpers/run-cli.ts';
import { events, nodeScript, planFixture, readReport, statesOf } from './fixtures.ts';

// A loopback stand-in for the model API: the first STORM requests get 429 (bounded, so the test
// always ends), the rest succeed. A fake `claude` on PATH calls it and prints what the real CLI
// prints in -p --output-format json mode (reference §12), so the run goes through --claude.
const STORM = 5;

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

function startFakeApi(): Promise<{ url: string; stats: { requests: number; limited: number } }> {
  const stats = { requests: 0, limited: 0 };
  server = createServer((request, response) => {
    stats.requests++;
    request.resume();
    if (stats.limited < STORM) {
      stats.limited++;
      response.writeHead(429, { 'content-type': 'application/json' }).end('{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}');
    } else {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    }
  });
  return new Promise((resolve) => {
    server!.listen(0, '127.0.0.1', () => {
      const { port } = server!.address() as AddressInfo;
      resolve({ url: `http://127.0.0.1:${port}/v1/messages`, stats });
    });
  });
}

describe('rate-limit storm', () => {
  it('backs off, lowers concurrency, counts no failure, and still finishes every task', async () => {
    const api = await startFakeApi();
    const ids = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'];
    const { repo, plan, scratch } = planFixture(ids.map((id) => ({ id })));
    const bin = join(scratch, 'bin');
    mkdirSync(bin);
    nodeScript(bin, 'claude', `
const fs = require('node:fs');
const http = require('node:http');
fs.readFileSync(0, 'utf8');
const request = http.request(process.env.FAKE_API, { method: 'POST' }, (response) => {
  response.resume();
  response.on('end', () => {
    if (response.statusCode === 429) {
      console.log(JSON.stringify({ type: 'result', is_error: true, api_error_status: 429, result: 'API Error: Request rejected (429) · slow down' }));
      process.exit(1);
    }
    fs.mkdirSync('out', { recursive: true });
    fs.writeFileSync('out/' + process.env.PARALLEL_TASK_ID + '.txt', 'ok\\n');
    console.log(JSON.stringify({ type: 'result', is_error: false, result: 'DONE', num_turns: 2, total_cost_usd: 0.01, usage: { input_tokens: 10, output_tokens: 5 } }));
  });
});
request.end('{}');
`);
    const result = await runCliAsync(['run', plan, '--claude', '--agents', '4', '--backoff', '50ms', '--json'], {
      cwd: repo,
      env: { PATH: `${bin}:${process.env.PATH}`, FAKE_API: api.url },
    });
    expect(result.exitCode).toBe(0);
    expect(api.stats.limited).toBe(STORM);
    expect(api.stats.requests).toBe(ids.length + STORM);
    const report = readReport(repo);
    expect(report.rate_limit.hits).toBe(STORM);
    expect(report.rate_limit.lowest_concurrency).toBeLessThan(4);
    expect(report.counts.completed).toBe(ids.length);
    expect(report.cost_usd).toBeCloseTo(0.06);
    expect(Object.values(statesOf(repo))).toEqual(ids.map(() => 'completed'));
    // Rate limits are released, never failed: no attempt was counted against any task.
    expect(events(repo).filter((event) => event.event === 'fail' || event.event === 'block')).toEqual([]);
    // Progress on stderr, the report alone on stdout.
    const limited = progressEvents(result.stderr).filter((event) => event.event === 'rate-limited');
    expect(limited.length).toBeGreaterThan(0);
    for (const event of limited) expect(event).toMatchObject({ agent: expect.any(String), limit: expect.any(Number), delay_ms: expect.any(Number) });
    expect(result.json.report.rate_limit.hits).toBe(STORM);
  });
});
