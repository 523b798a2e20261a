import { fstatSync } from 'node:fs';
import { CliError } from '../errors.ts';
import { printable } from '../text/printable.ts';

export const JSON_SCHEMA_VERSION = 1;

export function writeJson(stream: NodeJS.WritableStream, data: unknown): void {
  stream.write(`${JSON.stringify(data)}\n`);
}

/** One line, never a stack trace, unless PARALLEL_AGENTS_DEBUG asks for it. */
export function describeError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new CliError('E_INTERNAL', `internal error: ${message.split('\n')[0]}`);
}

/** Longest error line a person is shown; --json always carries the whole message. */
const MAX_ERROR_LINE = 1_000;

/** An error listing many problems is cut at a problem boundary, saying how much more there is. */
export function oneReadableLine(message: string, json: boolean): string {
  if (message.length <= MAX_ERROR_LINE) return message;
  const cut = message.lastIndexOf('; ', MAX_ERROR_LINE);
  const shown = message.slice(0, cut > MAX_ERROR_LINE / 2 ? cut : MAX_ERROR_LINE);
  const rest = message.slice(shown.length).split('; ').filter((part) => part.trim().length > 0).length;
  return `${shown}; ... and ${rest} more (${json ? 'the JSON on stdout has them all' : 'run with --json to see them all'})`;
}

function sameDestination(): boolean {
  try {
    const out = fstatSync(1);
    const err = fstatSync(2);
    return out.dev === err.dev && out.ino === err.ino;
  } catch {
    return false;
  }
}

export function reportError(error: CliError, json: boolean, cause: unknown): void {
  if (json) {
    writeJson(process.stdout, {
      error: { code: error.code, message: error.message, exit: error.exitCode, ...(error.details ?? {}) },
    });
  }
  // With --json the document on stdout already says it: when stdout and stderr are the same pipe
  // or file (a skill's `!` line runs `... --json 2>&1`), a second copy would only repeat it.
  if (!json || !sameDestination()) process.stderr.write(`parallel-agents: ${printable(oneReadableLine(error.message, json))}\n`);
  if (process.env.PARALLEL_AGENTS_DEBUG && cause instanceof Error && cause.stack) {
    process.stderr.write(`${cause.stack}\n`);
  }
}
