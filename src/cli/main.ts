import { version } from '../../package.json';
import { EXIT, EXIT_MEANINGS, CliError } from '../errors.ts';
import { printable } from '../text/printable.ts';
import { COMMANDS, COMMAND_GROUPS } from './command-table.ts';
import { parseCommandArgs } from './args.ts';
import { describeError, reportError, writeJson } from './output.ts';
import type { CommandContext } from './command.ts';

function topLevelHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const rows = Object.entries(COMMANDS).map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`);
  const exits = Object.entries(EXIT_MEANINGS).map(([code, meaning]) => `  ${code}  ${meaning}`);
  return [
    'usage: parallel-agents <command> [options] [--json] [--tasks-dir DIR] [--store local|git:REMOTE]',
    '',
    'Commands:',
    ...rows,
    '',
    'Every command takes --json (one JSON document on stdout, progress as JSON lines) and',
    '--tasks-dir DIR (or PARALLEL_TASKS_DIR); the default store is _tasks/ at the root of the',
    "repository's main worktree. --store git:REMOTE (or PARALLEL_STORE) shares the tasks through",
    "that git remote instead, so agents on several machines work on one plan.",
    '',
    'Exit codes (the same for every command):',
    ...exits,
    '',
  ].join('\n');
}

function groupHelp(group: string): string {
  const members = Object.entries(COMMANDS).filter(([name]) => name.startsWith(`${group} `));
  const width = Math.max(...members.map(([name]) => name.length));
  return [`usage: parallel-agents ${group} <command> [options]`, '', 'Commands:', ...members.map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`), '', `Each takes --help.`, ''].join('\n');
}

function resolveCommandName(argv: string[]): { name: string; rest: string[] } | undefined {
  const [first, second] = argv;
  if (first === undefined) return undefined;
  if (COMMAND_GROUPS.has(first) && second !== undefined && !second.startsWith('-')) {
    return { name: `${first} ${second}`, rest: argv.slice(2) };
  }
  return { name: first, rest: argv.slice(1) };
}

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  try {
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      process.stdout.write(topLevelHelp());
      return EXIT.ok;
    }
    if (argv[0] === '--version') {
      process.stdout.write(`${version}\n`);
      return EXIT.ok;
    }
    const resolved = resolveCommandName(argv);
    const entry = resolved ? COMMANDS[resolved.name] : undefined;
    // `plan --help` (or `plan` alone): the group's commands, not an "unknown command" error.
    if (!entry && argv[0] && COMMAND_GROUPS.has(argv[0]) && (argv.length === 1 || argv[1] === '--help' || argv[1] === '-h')) {
      process.stdout.write(groupHelp(argv[0]));
      return EXIT.ok;
    }
    if (!resolved || !entry) {
      const group = argv[0] && COMMAND_GROUPS.has(argv[0]);
      const known = Object.keys(COMMANDS).filter((name) => !group || name.startsWith(`${argv[0]} `));
      throw new CliError('E_USAGE', `unknown command "${argv.slice(0, group ? 2 : 1).join(' ')}"; try one of: ${known.join(', ')}`);
    }
    const { command } = await entry.load();
    const { values, positionals } = parseCommandArgs(resolved.rest, command.options, command.allowPositionals ?? false, command.usage);
    if (values.help) {
      process.stdout.write(`usage: ${command.usage}\n\n${entry.summary}\n`);
      return EXIT.ok;
    }
    const ctx: CommandContext = {
      values,
      positionals,
      json,
      cwd: process.cwd(),
      env: process.env,
      stdout: process.stdout,
      stderr: process.stderr,
      // Progress never shares stdout with the result: with --json stdout is exactly one document.
      emit(event, human) {
        if (json) writeJson(process.stderr, event);
        else if (human !== undefined) process.stderr.write(`${human}\n`);
      },
    };
    const result = await command.run(ctx);
    if (json) writeJson(process.stdout, result.data);
    // Task titles, ids and messages come from files anyone can edit: no raw control character reaches the terminal.
    else if (result.text.length > 0) process.stdout.write(printable(result.text.endsWith('\n') ? result.text : `${result.text}\n`));
    return result.exitCode ?? EXIT.ok;
  } catch (error) {
    const cliError = describeError(error);
    reportError(cliError, json, error);
    return cliError.exitCode;
  }
}

// `parallel-agents status | head` closes the pipe early: that is the reader's choice, not a crash.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    throw error;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`parallel-agents: internal error: ${String(error)}\n`);
    process.exitCode = EXIT.failed;
  },
);
