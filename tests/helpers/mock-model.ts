// A scripted stand-in for the Anthropic Messages API, so the real Claude Code CLI can run fully
// offline and deterministically: every request is answered by the first rule whose predicate
// holds, and logged, so tests assert on what the CLI actually sent (command text, tools, agents,
// tool results) instead of on what a model might have done. Listens on 127.0.0.1 only.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ContentText {
  type: 'text';
  text: string;
}
export interface ContentToolUse {
  type: 'tool_use';
  id?: string;
  name: string;
  input: Record<string, unknown>;
}
export type ReplyBlock = ContentText | ContentToolUse;

/** One request as the CLI sent it, with the views rules need. */
export interface MockRequest {
  index: number;
  /** Arrival time (ms since epoch): lets tests measure how concurrent subagents really were. */
  receivedAt: number;
  body: any;
  model: string;
  /** All system text: system blocks plus role:"system" messages (agent and skill listings). */
  systemText: string;
  /** From a subagent: Claude Code marks those with cc_is_subagent=true in system[0]. */
  fromSubagent: boolean;
  /** Text of the first user message (the prompt, or the subagent's task). */
  firstUserText: string;
  /** Text of the last user message, tool results included. */
  lastUserText: string;
  /** tool_result blocks of the last user message. */
  lastToolResults: Array<{ tool_use_id: string; content: string; is_error: boolean }>;
  /** How many tool_result blocks the whole conversation holds: the step of a scripted conversation. */
  toolResultCount: number;
  toolNames: string[];
}

export interface MockRule {
  name: string;
  when: (request: MockRequest) => boolean;
  reply: ReplyBlock[] | ((request: MockRequest) => ReplyBlock[]);
  /** How many requests this rule may answer (default: unlimited). */
  times?: number;
  delayMs?: number;
  /** Answer with this HTTP status and an API error instead of a message. */
  status?: number;
}

export interface MockModel {
  url: string;
  requests: MockRequest[];
  /** Which rule answered each request, in order ("(none)" when nothing matched). */
  answeredBy: string[];
  close(): Promise<void>;
}

function blockText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((block: any) => {
      if (block?.type === 'text') return block.text as string;
      if (block?.type === 'tool_result') return blockText(block.content);
      return '';
    })
    .join('\n');
}

export function parseRequest(body: any, index: number): MockRequest {
  const system = Array.isArray(body.system) ? body.system.map((block: any) => block?.text ?? '').join('\n') : String(body.system ?? '');
  const messages: any[] = Array.isArray(body.messages) ? body.messages : [];
  const systemMessages = messages.filter((message) => message.role === 'system').map((message) => blockText(message.content));
  const userMessages = messages.filter((message) => message.role === 'user');
  const last = userMessages[userMessages.length - 1];
  const lastToolResults = Array.isArray(last?.content)
    ? last.content
        .filter((block: any) => block?.type === 'tool_result')
        .map((block: any) => ({ tool_use_id: block.tool_use_id, content: blockText(block.content), is_error: block.is_error === true }))
    : [];
  let toolResultCount = 0;
  for (const message of userMessages) {
    if (Array.isArray(message.content)) toolResultCount += message.content.filter((block: any) => block?.type === 'tool_result').length;
  }
  return {
    index,
    receivedAt: Date.now(),
    body,
    model: String(body.model ?? ''),
    systemText: [system, ...systemMessages].join('\n'),
    fromSubagent: Array.isArray(body.system) && String(body.system[0]?.text ?? '').includes('cc_is_subagent=true'),
    firstUserText: blockText(userMessages[0]?.content),
    lastUserText: blockText(last?.content),
    lastToolResults,
    toolResultCount,
    toolNames: Array.isArray(body.tools) ? body.tools.map((tool: any) => String(tool.name)) : [],
  };
}

let toolUseCounter = 0;

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function streamReply(res: ServerResponse, model: string, blocks: ReplyBlock[]): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const hasTool = blocks.some((block) => block.type === 'tool_use');
  let out = sse('message_start', {
    type: 'message_start',
    message: { id: `msg_mock_${Date.now()}`, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 1 } },
  });
  blocks.forEach((block, index) => {
    if (block.type === 'text') {
      out += sse('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      out += sse('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: block.text } });
    } else {
      const id = block.id ?? `toolu_mock_${String(++toolUseCounter).padStart(4, '0')}`;
      out += sse('content_block_start', { type: 'content_block_start', index, content_block: { type: 'tool_use', id, name: block.name, input: {} } });
      out += sse('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } });
    }
    out += sse('content_block_stop', { type: 'content_block_stop', index });
  });
  out += sse('message_delta', { type: 'message_delta', delta: { stop_reason: hasTool ? 'tool_use' : 'end_turn', stop_sequence: null }, usage: { output_tokens: 5 } });
  out += sse('message_stop', { type: 'message_stop' });
  res.end(out);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

/**
 * Starts the mock. Unmatched requests get a plain text reply naming the miss, which ends the turn
 * (a test then fails on its assertions with the request log to look at, instead of hanging).
 */
export async function startMockModel(rules: MockRule[]): Promise<MockModel> {
  const requests: MockRequest[] = [];
  const answeredBy: string[] = [];
  const used = new Map<MockRule, number>();
  const server: Server = createServer((req, res) => {
    void (async () => {
      if (req.method === 'HEAD' || req.method === 'GET') {
        res.writeHead(200).end();
        return;
      }
      const url = req.url ?? '';
      const raw = await readBody(req);
      if (!url.startsWith('/v1/messages') || url.includes('count_tokens')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ input_tokens: 10 }));
        return;
      }
      const request = parseRequest(JSON.parse(raw), requests.length);
      requests.push(request);
      const rule = rules.find((candidate) => (candidate.times === undefined || (used.get(candidate) ?? 0) < candidate.times) && candidate.when(request));
      answeredBy.push(rule?.name ?? '(none)');
      if (!rule) {
        streamReply(res, request.model, [{ type: 'text', text: `MOCK: no rule matched request ${request.index}` }]);
        return;
      }
      used.set(rule, (used.get(rule) ?? 0) + 1);
      if (rule.delayMs) await new Promise((resolve) => setTimeout(resolve, rule.delayMs));
      if (rule.status) {
        res.writeHead(rule.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: `MOCK-${rule.status}` } }));
        return;
      }
      streamReply(res, request.model, typeof rule.reply === 'function' ? rule.reply(request) : rule.reply);
    })().catch((error: unknown) => {
      res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answeredBy,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const text = (value: string): ContentText => ({ type: 'text', text: value });
export const bash = (command: string, description = 'Run a command'): ContentToolUse => ({ type: 'tool_use', name: 'Bash', input: { command, description } });
export const tool = (name: string, input: Record<string, unknown>): ContentToolUse => ({ type: 'tool_use', name, input });
