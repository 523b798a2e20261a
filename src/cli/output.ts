import { CliError } from '../errors.ts';

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

export function reportError(error: CliError, json: boolean, cause: unknown): void {
  if (json) {
    writeJson(process.stdout, {
      error: { code: error.code, message: error.message, exit: error.exitCode, ...(error.details ?? {}) },
    });
  }
  process.stderr.write(`parallel-agents: ${error.message}\n`);
  if (process.env.PARALLEL_AGENTS_DEBUG && cause instanceof Error && cause.stack) {
    process.stderr.write(`${cause.stack}\n`);
  }
}
