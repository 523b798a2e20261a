import { defineCommand } from '../command.ts';
import { parseHookPayload } from '../../hooks/hook-payload.ts';

// Claude Code hook handlers (hooks/hooks.json). A hook must never block the user's session on its
// own bug: every failure here, a timeout included, ends with exit 0 and no decision (fail open),
// with the reason on stderr for `claude --debug`.

const EVENTS = ['pre-tool-use', 'subagent-stop'] as const;
const STDIN_LIMIT_MS = 3_000;
const HANDLER_LIMIT_MS = 8_000;

function readStdin(limitMs: number): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const timer = setTimeout(() => resolve(text), limitMs);
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => (text += chunk));
    process.stdin.on('end', () => {
      clearTimeout(timer);
      resolve(text);
    });
    process.stdin.on('error', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

function withLimit<T>(work: Promise<T>, limitMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} took longer than ${limitMs} ms`)), limitMs);
    timer.unref();
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

async function handle(event: string, stdin: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ stdout: string; note: string }> {
  const payload = parseHookPayload(stdin, cwd);
  if (!payload) return { stdout: '', note: 'no hook payload on stdin' };
  if (event === 'pre-tool-use') {
    const { preToolUse } = await import('../../hooks/pre-tool-use.ts');
    // Exec-form hooks are children of the Claude Code process itself.
    const outcome = await preToolUse(payload, env, process.ppid);
    if (outcome.deny) {
      const decision = { hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: outcome.deny } };
      return { stdout: JSON.stringify(decision), note: `denied ${payload.toolName ?? 'tool'}` };
    }
    // No permissionDecision: the rewritten command meets exactly the user's permission rules.
    if (outcome.updatedInput) return { stdout: JSON.stringify({ hookSpecificOutput: { hookEventName: 'PreToolUse', updatedInput: outcome.updatedInput } }), note: outcome.note ?? '' };
    return { stdout: '', note: outcome.note ?? '' };
  }
  const { subagentStop } = await import('../../hooks/subagent-stop.ts');
  const outcome = await subagentStop(payload, env);
  if (outcome.block) return { stdout: JSON.stringify({ decision: 'block', reason: outcome.block }), note: 'sent back to finish its claim' };
  return { stdout: '', note: outcome.released.map((claim) => `released ${claim.task} (${claim.agent}) to ${claim.to}`).join('; ') };
}

export const command = defineCommand('hook', {
  args: `<${EVENTS.join('|')}>`,
  options: {},
  allowPositionals: true,
  async run(ctx) {
    const event = ctx.positionals[0] ?? '';
    if (!(EVENTS as readonly string[]).includes(event)) {
      ctx.stderr.write(`parallel-agents hook: unknown event "${event}"; usage: ${command.usage}\n`);
      return { data: {}, text: '' };
    }
    try {
      // hooks/run-hook.cjs has already read stdin to decide whether to load the CLI at all.
      const stdin = ctx.env.PARALLEL_HOOK_PAYLOAD ?? (await readStdin(STDIN_LIMIT_MS));
      const { stdout, note } = await withLimit(handle(event, stdin, ctx.cwd, ctx.env), HANDLER_LIMIT_MS, `hook ${event}`);
      if (note) ctx.stderr.write(`parallel-agents hook ${event}: ${note}\n`);
      return { data: stdout ? JSON.parse(stdout) : {}, text: stdout };
    } catch (error) {
      ctx.stderr.write(`parallel-agents hook ${event}: ${error instanceof Error ? error.message : String(error)} (allowed: hooks fail open)\n`);
      return { data: {}, text: '' };
    }
  },
});
