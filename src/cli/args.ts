import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError } from '../errors.ts';
import { MAX_LEASE_MS } from '../store/rules.ts';
import { formatDuration, parseDuration } from '../text/duration.ts';
import type { OptionDef, OptionSpec, OptionValues } from './command.ts';

/** Every command takes these; they are documented once (help.ts). */
export const GLOBAL_OPTIONS: OptionSpec = {
  json: { type: 'boolean', help: 'print one JSON document on stdout; progress goes to stderr as JSON lines (status --watch --json streams on stdout)' },
  'tasks-dir': { type: 'string', value: 'DIR', help: "the local store and this machine's records (default: _tasks/ at the main worktree's root; or PARALLEL_TASKS_DIR)" },
  store: { type: 'string', value: 'local|git:REMOTE', help: 'where the tasks live: the local folder, or shared through a git remote (default: local; or PARALLEL_STORE)' },
  help: { type: 'boolean', short: 'h', help: "print the command's usage and options" },
};

/** The flag of every command that creates, finds or removes task worktrees. */
export const WORKTREES_DIR_OPTION: OptionDef = {
  type: 'string',
  value: 'DIR',
  help: 'where task worktrees live (default: .parallel/worktrees; or PARALLEL_WORKTREES_DIR)',
};

/** What node:util parseArgs accepts: the help keys stay out of it. */
function parserOptions(options: OptionSpec): ParseArgsOptions {
  return Object.fromEntries(Object.entries(options).map(([name, def]) => [
    name,
    { type: def.type, ...(def.short !== undefined ? { short: def.short } : {}), ...(def.multiple ? { multiple: true } : {}) },
  ]));
}

type ParseArgsOptions = NonNullable<ParseArgsConfig['options']>;

export function parseCommandArgs(
  argv: string[],
  options: OptionSpec,
  allowPositionals: boolean,
  usage: string,
): { values: OptionValues; positionals: string[] } {
  try {
    const { values, positionals, tokens } = parseArgs({
      args: argv,
      options: parserOptions({ ...GLOBAL_OPTIONS, ...options }),
      strict: true,
      allowPositionals,
      tokens: true,
    });
    const repeatable = new Set(Object.entries(options).filter(([, spec]) => spec.multiple).map(([name]) => name));
    refuseConflictingRepeats((tokens ?? []).filter((token) => token.kind !== 'option' || !repeatable.has(token.name)), usage);
    return { values: values as OptionValues, positionals };
  } catch (error) {
    const raw = (error as Error).message;
    const unknown = /Unknown option '([^']+)'/.exec(raw);
    const dashed = /Option '([^']+)' argument is ambiguous/.exec(raw);
    const next = dashed ? argv[argv.indexOf(dashed[1]!) + 1] : undefined;
    const message = unknown
      ? `unknown option ${unknown[1]}`
      : dashed && next !== undefined
        ? dashedValueMessage(dashed[1]!, next)
        : raw.split('\n')[0]!.replace(/\.$/, '');
    throw new CliError('E_USAGE', `${message}; usage: ${usage}`);
  }
}

/** Shows the way to write the value when it can be shown as typed; a long or multi-line one as VALUE. */
function dashedValueMessage(flag: string, value: string): string {
  const shown = quoteValue(value);
  return `${flag} ${shown}: a value starting with "-" must be written ${flag}=${shown === `"${value}"` ? value : 'VALUE'}`;
}

/**
 * A single-valued flag given twice with two different values is ambiguous (which --agent does the
 * caller mean?): refused rather than silently taking the last one.
 */
function refuseConflictingRepeats(tokens: readonly { kind: string; name?: string; value?: string | undefined }[], usage: string): void {
  const seen = new Map<string, string | undefined>();
  for (const token of tokens) {
    if (token.kind !== 'option' || token.name === undefined) continue;
    if (seen.has(token.name) && seen.get(token.name) !== token.value) {
      throw new CliError('E_USAGE', `--${token.name} is given twice with different values (${quoteValue(seen.get(token.name) ?? '')} and ${quoteValue(token.value ?? '')}); give it once; usage: ${usage}`);
    }
    seen.set(token.name, token.value);
  }
}

export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function requireString(values: OptionValues, name: string, usage: string): string {
  const value = stringOption(values, name);
  if (value === undefined || value === '') {
    throw new CliError('E_USAGE', `missing --${name}; usage: ${usage}`);
  }
  return value;
}

/**
 * A flag value as an error shows it: quoted and escaped by JSON, so a newline or control character
 * cannot break the one-line error, and cut to 60 characters, so a whole --body cannot flood it.
 */
export function quoteValue(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

/** `a,b , c` -> ['a','b','c']; empty entries are dropped. */
export function listOption(values: OptionValues, name: string): string[] {
  const value = stringOption(values, name);
  if (value === undefined) return [];
  return value.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
}

export function integerOption(values: OptionValues, name: string, min: number, fallback?: number): number | undefined {
  const value = stringOption(values, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min) {
    throw new CliError('E_USAGE', `--${name} must be a whole number >= ${min} (got ${quoteValue(value)})`);
  }
  return Number(value);
}

/**
 * Parses `500ms`, `30s`, `30m`, `2h` (a bare number means seconds) into milliseconds. No flag takes
 * more than the longest lease: a lease flag above it would outlive every run, and every timer
 * derived from a flag stays far below what a Node timer holds.
 */
export function durationFlag(text: string, flag: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new CliError('E_USAGE', `--${flag} must be a duration like 30s, 30m or 2h (got ${quoteValue(text)})`);
  if (ms > MAX_LEASE_MS) throw new CliError('E_USAGE', `--${flag} must be at most ${formatDuration(MAX_LEASE_MS)} (7 days) (got ${quoteValue(text)}); give a shorter duration, such as 24h`);
  return ms;
}

export function durationOption(values: OptionValues, name: string, fallbackMs: number): number {
  const value = stringOption(values, name);
  return value === undefined ? fallbackMs : durationFlag(value, name);
}
