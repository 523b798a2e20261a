// Per-flag help lives with each flag's definition: the usage line every error quotes, `--help`
// and group help are all generated from it, so none can name a flag the parser lacks.
import { describe, expect, it } from 'vitest';
import { GLOBAL_OPTIONS } from '../../src/cli/args.ts';
import { COMMANDS, COMMAND_GROUPS } from '../../src/cli/command-table.ts';
import { gitRepo } from '../helpers/git-repo.ts';
import { runCli } from '../helpers/run-cli.ts';

const entries = Object.entries(COMMANDS);

describe('generated help', () => {
  it.each(entries)('%s: its usage line names it and every flag, each flag has one line of help', async (name, entry) => {
    const { command } = await entry.load();
    expect(command.name).toBe(name);
    expect(command.usage).toMatch(new RegExp(`^parallel-agents ${name}( |$)`));
    expect(command.usage.endsWith(' [--json]')).toBe(true);
    for (const [flag, def] of Object.entries(command.options)) {
      expect(command.usage).toContain(`--${flag}${def.type === 'string' ? ` ${def.value ?? 'VALUE'}` : ''}`);
      expect(def.help.length, `--${flag}`).toBeGreaterThan(10);
      expect(def.help, `--${flag}`).not.toContain('\n');
      if (def.or !== undefined) expect(command.options[def.or], `--${flag} names --${def.or}`).toBeDefined();
    }
    // The global options are documented once, not per command.
    for (const flag of Object.keys(GLOBAL_OPTIONS)) expect(command.options[flag]).toBeUndefined();
  });

  it('--help prints the usage, the summary and a table of every flag and global option', () => {
    const result = runCli(['add', '--help'], { cwd: gitRepo() });
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe('usage: parallel-agents add --id ID --title TEXT [--role ROLE] [--files a,b] [--depends-on x,y] [--max-attempts N] [--body TEXT | --body-file F] [--json]');
    expect(lines[2]).toBe(COMMANDS.add!.summary);
    expect(lines).toContain('Options:');
    expect(lines.find((line) => line.trimStart().startsWith('--max-attempts N'))).toMatch(/^ {2}--max-attempts N +attempts before it is blocked \(default 2\)$/);
    expect(lines.find((line) => line.trimStart().startsWith('--body-file F'))).toMatch(/read the agent's instructions from this file$/);
    const global = lines.indexOf('Global options (every command):');
    expect(global).toBeGreaterThan(lines.indexOf('Options:'));
    expect(lines.slice(global + 1).filter((line) => line.startsWith('  ')).map((line) => line.trim().split(/\s{2,}/)[0])).toEqual([
      '--json', '--tasks-dir DIR', '--store local|git:REMOTE', '-h, --help',
    ]);
    expect(runCli(['add', '-h'], { cwd: gitRepo() }).stdout).toBe(result.stdout);
  });

  it.each([...COMMAND_GROUPS])('%s --help (and the group alone) list each member\'s generated usage line and summary', async (group) => {
    const members = entries.filter(([name]) => name.startsWith(`${group} `));
    const cwd = gitRepo();
    const help = runCli([group, '--help'], { cwd });
    expect(help.exitCode).toBe(0);
    expect(help.stderr).toBe('');
    for (const [, entry] of members) {
      const { command } = await entry.load();
      expect(help.stdout).toContain(`\n  ${command.usage}\n      ${entry.summary}\n`);
    }
    expect(runCli([group], { cwd }).stdout).toBe(help.stdout);
  });

  it('a usage error still quotes the generated usage line, in one line', () => {
    const result = runCli(['claim', '--bogus'], { cwd: gitRepo() });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe('parallel-agents: unknown option --bogus; usage: parallel-agents claim --agent NAME [--role ROLE] [--task ID] [--holder-pid PID] [--json]\n');
  });
});
