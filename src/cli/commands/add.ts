import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError } from '../../errors.ts';
import type { CommandModule } from '../command.ts';
import { integerOption, listOption, requireString, stringOption } from '../args.ts';
import { openStore } from '../open-store.ts';
import { taskJson } from '../task-view.ts';
import { splitScopeList } from '../../scope/scope-entry.ts';
import { requireOrchestrator } from '../caller.ts';

const usage =
  'parallel-agents add --id ID --title TEXT [--role ROLE] [--files a,b] [--depends-on x,y] [--max-attempts N] [--body TEXT | --body-file F] [--json]';

export const command: CommandModule = {
  usage,
  options: {
    id: { type: 'string' },
    title: { type: 'string' },
    role: { type: 'string' },
    files: { type: 'string' },
    'depends-on': { type: 'string' },
    'max-attempts': { type: 'string' },
    body: { type: 'string' },
    'body-file': { type: 'string' },
  },
  async run(ctx) {
    requireOrchestrator(ctx, 'adding tasks');
    const { values } = ctx;
    const bodyText = stringOption(values, 'body');
    const bodyFile = stringOption(values, 'body-file');
    if (bodyText !== undefined && bodyFile !== undefined) {
      throw new CliError('E_USAGE', `give --body or --body-file, not both; usage: ${usage}`);
    }
    let body = bodyText ?? '';
    if (bodyFile !== undefined) {
      try {
        body = readFileSync(resolve(ctx.cwd, bodyFile), 'utf8');
      } catch (error) {
        throw new CliError('E_INVALID', `--body-file ${bodyFile}: cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'}); pass an existing file`);
      }
    }
    const store = openStore(ctx);
    const [task] = await store.add([{
      id: requireString(values, 'id', usage),
      title: requireString(values, 'title', usage),
      role: stringOption(values, 'role'),
      files: splitScopeList(stringOption(values, 'files') ?? ''),
      depends_on: listOption(values, 'depends-on'),
      max_attempts: integerOption(values, 'max-attempts', 1),
      body,
    }]);
    return { data: { task: taskJson(task!) }, text: `added ${task!.id} to ${store.description}` };
  },
};
