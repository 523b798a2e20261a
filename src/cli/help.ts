import { EXIT_MEANINGS } from '../errors.ts';
import { GLOBAL_OPTIONS } from './args.ts';
import type { CommandModule, CommandSpec, OptionDef, OptionSpec } from './command.ts';

// Usage lines and --help text, generated from the flags' definitions (command.ts OptionDef): the
// text a person reads and the parser's options are one table, so neither can name a flag the other
// lacks.

function flagText(name: string, def: OptionDef): string {
  if (def.type === 'boolean') return `--${name}`;
  return `--${name} ${def.value ?? 'VALUE'}${def.multiple ? ' ...' : ''}`;
}

/** `parallel-agents NAME ARGS --required X [--optional Y] [--a | --b] [--json]`. */
export function usageLine(name: string, spec: Pick<CommandSpec, 'args' | 'options'>): string {
  const parts = [`parallel-agents ${name}`];
  if (spec.args) parts.push(spec.args);
  const shown = new Set<string>();
  for (const [flag, def] of Object.entries(spec.options)) {
    if (shown.has(flag)) continue;
    shown.add(flag);
    const partner = def.or !== undefined ? spec.options[def.or] : undefined;
    if (def.or !== undefined && partner) {
      shown.add(def.or);
      const choice = `${flagText(flag, def)} | ${flagText(def.or, partner)}`;
      parts.push(def.required ? `(${choice})` : `[${choice}]`);
    } else {
      parts.push(def.required ? flagText(flag, def) : `[${flagText(flag, def)}]`);
    }
  }
  parts.push('[--json]');
  return parts.join(' ');
}

const COLUMN = 30;

function optionRows(options: OptionSpec): [string, string][] {
  return Object.entries(options).map(([name, def]) => [`${def.short ? `-${def.short}, ` : ''}${flagText(name, def)}`, def.help]);
}

function columnWidth(rows: readonly [string, string][]): number {
  return Math.min(COLUMN, Math.max(0, ...rows.map(([left]) => left.length)));
}

/** Flag and help side by side; a flag too wide for the column puts its help on the next line. */
function table(rows: readonly [string, string][], width = columnWidth(rows)): string[] {
  return rows.flatMap(([left, right]) =>
    left.length > width ? [`  ${left}`, `  ${' '.repeat(width)}  ${right}`] : [`  ${left.padEnd(width)}  ${right}`]);
}

function globalOptionLines(width?: number): string[] {
  return ['Global options (every command):', ...table(optionRows(GLOBAL_OPTIONS), width)];
}

/** `parallel-agents <command> --help`. */
export function commandHelp(command: CommandModule, summary: string): string {
  const own = optionRows(command.options);
  const width = columnWidth([...own, ...optionRows(GLOBAL_OPTIONS)]);
  return [
    `usage: ${command.usage}`,
    '',
    summary,
    '',
    ...(own.length > 0 ? ['Options:', ...table(own, width), ''] : []),
    ...globalOptionLines(width),
    '',
  ].join('\n');
}

/** `parallel-agents plan --help`: each member's usage line and summary. */
export function groupHelp(group: string, members: readonly { command: CommandModule; summary: string }[]): string {
  return [
    `usage: parallel-agents ${group} <command> [options]`,
    '',
    'Commands:',
    ...members.flatMap(({ command, summary }) => [`  ${command.usage}`, `      ${summary}`]),
    '',
    `"parallel-agents ${group} <command> --help" lists each one's options.`,
    '',
  ].join('\n');
}

/** `parallel-agents --help`. */
export function topLevelHelp(commands: readonly [string, string][]): string {
  const width = Math.max(...commands.map(([name]) => name.length));
  return [
    'usage: parallel-agents <command> [options]',
    '',
    'Commands:',
    ...commands.map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`),
    '',
    '"parallel-agents <command> --help" lists its options.',
    '',
    ...globalOptionLines(),
    '',
    "The default store is _tasks/ at the root of the repository's main worktree; --store git:REMOTE",
    'shares the tasks through that git remote instead, so agents on several machines work on one plan.',
    '',
    'Exit codes (the same for every command):',
    ...Object.entries(EXIT_MEANINGS).map(([code, meaning]) => `  ${code}  ${meaning}`),
    '',
  ].join('\n');
}
