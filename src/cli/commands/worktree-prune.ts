import { CliError } from '../../errors.ts';
import type { CommandModule } from '../command.ts';

// Placeholder until its issue lands: the command exists so --help and the table stay complete.
export const command: CommandModule = {
  usage: 'parallel-agents worktree prune',
  options: {},
  allowPositionals: true,
  async run() {
    throw new CliError('E_USAGE', '"worktree prune" is not implemented yet');
  },
};
