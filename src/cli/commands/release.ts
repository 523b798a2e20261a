import { CliError } from '../../errors.ts';
import type { CommandModule } from '../command.ts';

export const command: CommandModule = {
  usage: 'parallel-agents release',
  options: {},
  allowPositionals: true,
  async run() {
    throw new CliError('E_USAGE', '"release" is not implemented yet');
  },
};
