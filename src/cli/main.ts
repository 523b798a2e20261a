import { version } from '../../package.json';
import { EXIT, CliError } from '../errors.ts';
import { printable } from '../text/printable.ts';
import { COMMANDS, COMMAND_GROUPS } from './command-table.ts';
import { parseCommandArgs } from './args.ts';
import { commandHelp, groupHelp, topLevelHelp } from './help.ts';
import { describeError, reportError, writeJson } from './output.ts';
import type { CommandContext } from './command.ts';

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
      process.stdout.write(topLevelHelp(Object.entries(COMMANDS).map(([name, entry]) => [name, entry.summary])));
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
      const members = Object.entries(COMMANDS).filter(([name]) => name.startsWith(`${argv[0]} `));
      const loaded = await Promise.all(members.map(async ([, member]) => ({ command: (await member.load()).command, summary: member.summary })));
      process.stdout.write(groupHelp(argv[0], loaded));
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
      process.stdout.write(commandHelp(command, entry.summary));
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
