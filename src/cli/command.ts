import { usageLine } from './help.ts';

/**
 * One flag of a command. `help` and `value` feed the generated usage line and `--help` table;
 * parseArgs sees only `type`, `short` and `multiple` (args.ts strips the rest).
 */
export interface OptionDef {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  /** The value as usage shows it: ID, 30m, text|mermaid|json (string flags; default VALUE). */
  value?: string;
  /** One line for `--help`: what the flag does, its default. */
  help: string;
  /** Shown without brackets in the usage line: the command stops without it. */
  required?: boolean;
  /** The flag this one excludes, shown as one choice in the usage line: `[--body TEXT | --body-file F]`. */
  or?: string;
}

export type OptionSpec = Record<string, OptionDef>;
export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface CommandContext {
  values: OptionValues;
  positionals: string[];
  /** `--json` was given: stdout carries one JSON document only. */
  json: boolean;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Progress for long work: a JSON line on stderr with --json, a human line on stderr otherwise. */
  emit(event: Record<string, unknown> & { event: string }, human?: string): void;
  /** A stream the command may redraw (status --watch, run's live view). */
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

export interface CommandResult {
  /** What `--json` prints: one JSON document. */
  data: unknown;
  /** What a person sees without `--json`. */
  text: string;
  exitCode?: number;
}

export interface CommandSpec {
  /** What follows the command's name in the usage line, before the flags: `PLAN`. */
  args?: string;
  options: OptionSpec;
  allowPositionals?: boolean;
  run(ctx: CommandContext): Promise<CommandResult>;
}

export interface CommandModule extends CommandSpec {
  name: string;
  /** Generated from `args` and `options`; every usage error quotes it. */
  usage: string;
}

/** A command module: its usage line comes from its flags' definitions, so the two cannot disagree. */
export function defineCommand(name: string, spec: CommandSpec): CommandModule {
  return { ...spec, name, usage: usageLine(name, spec) };
}
