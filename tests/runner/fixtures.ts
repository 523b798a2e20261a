import { existsSync, readFileSync, readdirSync, writeFileSync, chmodSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { gitRepo } from '../helpers/git-repo.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { TEST_BUNDLE } from '../helpers/paths.ts';

export interface PlanTaskSpec {
  id: string;
  depends_on?: string[];
  files?: string[];
  max_attempts?: number;
  estimate?: string;
}

/** A repo, and a plan file outside it (so the main checkout stays clean for verify). */
export function planFixture(tasks: PlanTaskSpec[], name = 'test-plan'): { repo: string; plan: string; scratch: string } {
  const repo = gitRepo({ 'README.md': '# fixture\n' });
  const scratch = tempDir('pa-scratch-');
  const plan = join(scratch, 'plan.json');
  writeFileSync(plan, JSON.stringify({
    name,
    tasks: tasks.map((task) => ({
      id: task.id,
      title: `Task ${task.id}`,
      files: task.files ?? [`out/${task.id}.txt`],
      depends_on: task.depends_on ?? [],
      ...(task.max_attempts ? { max_attempts: task.max_attempts } : {}),
      ...(task.estimate ? { estimate: task.estimate } : {}),
      prompt: `Write out/${task.id}.txt`,
    })),
  }, null, 2));
  return { repo, plan, scratch };
}

/** An executable shell script; returned as an --agent-cmd value. */
export function agentScript(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** A node script (for agents that talk HTTP). */
export function nodeScript(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/usr/bin/env node\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

export function readReport(repo: string): any {
  return JSON.parse(readFileSync(join(repo, '_tasks', 'run-report.json'), 'utf8'));
}

export function statesOf(repo: string): Record<string, string> {
  const states: Record<string, string> = {};
  for (const state of ['available', 'claimed', 'completed', 'failed', 'blocked']) {
    const dir = join(repo, '_tasks', state);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) if (name.endsWith('.md')) states[name.split(/[~.]/)[0]!] = state;
  }
  return states;
}

export function events(repo: string): any[] {
  return readFileSync(join(repo, '_tasks', 'events.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
}

/** Waits on a condition about files or processes (never a fixed sleep). */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export function startCli(args: string[], cwd: string, env: Record<string, string> = {}): { child: ChildProcess; done: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, [TEST_BUNDLE, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export { isAlive } from '../helpers/processes.ts';
