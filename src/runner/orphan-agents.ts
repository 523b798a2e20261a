import { readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write.ts';
import { isProcessAlive } from '../process/liveness.ts';
import { killGroup } from './agent-process.ts';

// Agents run in their own process groups, so a runner killed with -9 leaves them running, still
// editing worktrees that a resumed run is about to hand to new attempts. Each running agent is
// recorded in <store>/runner/<task>.agent.json; `run --resume` ends the groups a dead runner left.

interface AgentProcessRecord {
  pid: number;
  runner: number;
  task: string;
}

const SUFFIX = '.agent.json';

export function recordAgentProcess(runDir: string, task: string, pid: number): void {
  writeFileAtomic(join(runDir, `${task}${SUFFIX}`), JSON.stringify({ pid, runner: process.pid, task } satisfies AgentProcessRecord));
}

export function forgetAgentProcess(runDir: string, task: string): void {
  try {
    unlinkSync(join(runDir, `${task}${SUFFIX}`));
  } catch {
    // never recorded (the agent could not start)
  }
}

/** Still our agent, not a process that reused its pid: its environment names the task. */
function runsTask(pid: number, task: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`PARALLEL_TASK_ID=${task}`);
  } catch {
    // No /proc (macOS): trust the pid, the group was created for this agent.
    return process.platform !== 'linux' && isProcessAlive(pid);
  }
}

/** Kills the agent groups of runners that are gone; returns the tasks whose agent was stopped. */
export function reapOrphanAgents(runDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(runDir).filter((name) => name.endsWith(SUFFIX));
  } catch {
    return [];
  }
  const reaped: string[] = [];
  for (const name of names) {
    let record: AgentProcessRecord;
    try {
      record = JSON.parse(readFileSync(join(runDir, name), 'utf8')) as AgentProcessRecord;
    } catch {
      continue;
    }
    if (record.runner !== process.pid && isProcessAlive(record.runner)) continue;
    if (isProcessAlive(record.pid) && runsTask(record.pid, record.task)) {
      killGroup(record.pid, 'SIGKILL');
      reaped.push(record.task);
    }
    try {
      unlinkSync(join(runDir, name));
    } catch {
      // another resumer got it
    }
  }
  return reaped;
}
