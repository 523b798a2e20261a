import { CliError } from '../../errors.ts';
import type { CommandModule } from '../command.ts';

export const command: CommandModule = {
  usage: 'parallel-agents claim',
  options: {},
  allowPositionals: true,
  async run() {
    throw new CliError('E_USAGE', '"claim" is not implemented yet');
  },
};
