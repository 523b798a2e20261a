import { CliError } from '../errors.ts';

/**
 * A --glob or --ignore pattern must stay inside the repository: the units it finds become write
 * scopes, and a scope outside the repository is one no agent may be given.
 */
export function checkBatchPattern(pattern: string, flag: 'glob' | 'ignore', usage: string): string {
  const trimmed = pattern.trim();
  const problem =
    trimmed === '' ? 'is empty'
    : trimmed.startsWith('/') || /^[A-Za-z]:[\\/]/.test(trimmed) ? 'is absolute; write it relative to the repository root'
    : trimmed.split(/[\\/]/).includes('..') ? 'contains ".."; patterns stay inside the repository'
    : trimmed.startsWith('!') ? (flag === 'glob' ? 'is negated; pass what to leave out as --ignore PATTERN' : 'is negated; write the pattern to leave out without "!"')
    : undefined;
  if (problem) throw new CliError('E_USAGE', `--${flag} "${pattern}" ${problem}; usage: ${usage}`);
  return trimmed.replace(/^(\.\/)+/, '');
}
