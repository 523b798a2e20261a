import { CliError } from '../../src/errors.ts';

/** How a store call ended: 'ok', or the CliError's code and message (anything else is rethrown). */
export async function outcomeOf(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
    return { code: 'ok', message: '' };
  } catch (error) {
    if (error instanceof CliError) return { code: error.code, message: error.message };
    throw error;
  }
}

/** The code alone: 'ok' or the CliError's code. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  return (await outcomeOf(promise)).code;
}
