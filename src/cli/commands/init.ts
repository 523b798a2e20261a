import { CliError } from '../../errors.ts';
import type { CommandModule } from '../command.ts';

export const command: CommandModule = {
  usage: 'parallel-agents init',
  options: {},
  allowPositionals: true,
  async run() {
    throw new CliError('E_USAGE', '"init" is not implemented yet');
  },
};
