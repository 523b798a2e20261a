import { defineCommand } from '../command.ts';
import { CliError } from '../../errors.ts';
import { describeProcess, isProcessAlive } from '../../process/liveness.ts';
import { completeCommand, failCommand } from '../../store/next-steps.ts';
import { integerOption, requireString, stringOption } from '../args.ts';
import { bindClaimer } from '../caller.ts';
import { openStore } from '../open-store.ts';
import { taskJson, taskText } from '../task-view.ts';

export const command = defineCommand('claim', {
  options: {
    agent: { type: 'string', value: 'NAME', required: true, help: 'who claims: your agent name, unique among the agents working now' },
    role: { type: 'string', value: 'ROLE', help: 'claim only a task of this role (default: a task of any role, or none)' },
    task: { type: 'string', value: 'ID', help: 'claim this task, not any claimable one' },
    'holder-pid': { type: 'string', value: 'PID', help: 'the process that holds the claim: when it dies, recover takes the claim back at once' },
  },
  async run(ctx) {
    const store = openStore(ctx);
    const agent = requireString(ctx.values, 'agent', command.usage);
    const holderPid = integerOption(ctx.values, 'holder-pid', 1);
    if (holderPid !== undefined && !isProcessAlive(holderPid)) {
      throw new CliError('E_INVALID', `--holder-pid ${holderPid} is not a running process; pass the pid of the agent session that holds the claim`);
    }
    const bound = await bindClaimer(ctx, store, agent);
    const holder = holderPid !== undefined ? describeProcess(holderPid) : bound;
    const { task, token } = await store.claim({ agent, role: stringOption(ctx.values, 'role'), task: stringOption(ctx.values, 'task'), holder });
    const next = `when done: ${completeCommand(agent, task.id, token)} | on failure: ${failCommand(agent, task.id, token)}`;
    return {
      data: { task: taskJson(task), token, agent },
      text: `claimed ${task.id} (attempt ${task.attempts + 1} of ${task.max_attempts}) as ${agent}\n${taskText(task)}\n\n${next}`,
    };
  },
});
