import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError } from '../../errors.ts';
import { defineCommand } from '../command.ts';
import { integerOption, listOption, requireString, stringOption } from '../args.ts';
import { openStore } from '../open-store.ts';
import { taskJson } from '../task-view.ts';
import { splitScopeList } from '../../scope/scope-entry.ts';
import { requireOrchestrator } from '../caller.ts';

export const command = defineCommand('add', {
  options: {
    id: { type: 'string', value: 'ID', required: true, help: 'the task id: lowercase letters, digits, ".", "_", "-"' },
    title: { type: 'string', value: 'TEXT', required: true, help: 'one line saying what the task does' },
    role: { type: 'string', value: 'ROLE', help: 'the role of the agent that works on it, e.g. backend-developer (default: none; a claim with --role skips it)' },
    files: { type: 'string', value: 'a,b', help: 'its write scope: repository paths or globs, comma-separated (default: none)' },
    'depends-on': { type: 'string', value: 'x,y', help: 'ids of tasks that must be completed before it can be claimed' },
    'max-attempts': { type: 'string', value: 'N', help: 'attempts before it is blocked (default 2)' },
    body: { type: 'string', value: 'TEXT', or: 'body-file', help: "the agent's instructions" },
    'body-file': { type: 'string', value: 'F', help: "read the agent's instructions from this file" },
  },
  async run(ctx) {
    const usage = command.usage;
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
});
