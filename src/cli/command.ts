import type { ParseArgsConfig } from 'node:util';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type OptionValues = Record<string, string | boolean | string[] | undefined>;

export interface CommandContext {
  values: OptionValues;
  positionals: string[];
  /** `--json` was given: stdout carries JSON only. */
  json: boolean;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Progress for long work: a JSON line with --json, a human line on stderr otherwise. */
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

export interface CommandModule {
  usage: string;
  options: OptionSpec;
  allowPositionals?: boolean;
  run(ctx: CommandContext): Promise<CommandResult>;
}
