import { readFileSync, realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../errors.ts';
import { writeFileAtomic } from '../fs/atomic-write.ts';
import { isInside } from '../fs/path-inside.ts';
import type { RepoContext } from '../git/repo-context.ts';

// The Claude Code settings an unattended run needs, read and merged without clobbering anything
// else in the files. Verified in Claude Code 2.1.197 and 2.1.332 (tests/e2e/check-in-worktree.test.ts
// runs the flow on them): `Edit(/**)` in a project settings file lets the Edit and Write tools
// change files inside the project (the task worktrees are in it) and nothing outside it;
// `.claude/settings.local.json` counts in `claude -p` without the workspace trust dialog, while
// `.claude/settings.json` is ignored until the workspace is trusted (projects["<main checkout>"]
// .hasTrustDialogAccepted in the user's .claude.json).

export interface PermissionRule {
  rule: string;
  why: string;
}

/** The narrowest rules the flow needs: the CLI, and edits inside the project (and the worktrees, wherever they are). */
export function unattendedRules(context: Pick<RepoContext, 'repoRoot' | 'worktreesDir'>): PermissionRule[] {
  const rules: PermissionRule[] = [
    { rule: 'Bash(parallel-agents:*)', why: 'the CLI: claim, worktrees, checks (parallel-agents check), complete, verify' },
    { rule: 'Edit(/**)', why: 'Edit and Write inside this project, where the task worktrees are; nothing outside it' },
  ];
  if (!isInside(context.worktreesDir, context.repoRoot)) {
    // "//" starts an absolute path in a permission rule.
    rules.push(
      { rule: `Edit(/${context.worktreesDir}/**)`, why: 'Edit and Write in the task worktrees, which live outside the project' },
      { rule: `Read(/${context.worktreesDir}/**)`, why: 'Read in the task worktrees, outside the project' },
    );
  }
  return rules;
}

export interface JsonObjectFile {
  path: string;
  exists: boolean;
  data: Record<string, unknown>;
  /** Permission bits of the existing file, kept when it is rewritten. */
  mode: number | undefined;
}

/** A JSON object file; missing is empty, anything else that is not a JSON object is refused in one line. */
export function readJsonObject(path: string): JsonObjectFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { path, exists: false, data: {}, mode: undefined };
    throw new CliError('E_IO', `cannot read ${path}: ${(error as Error).message}`);
  }
  let data: unknown;
  try {
    data = text.trim() === '' ? {} : JSON.parse(text);
  } catch (error) {
    throw new CliError('E_INVALID', `${path} is not valid JSON (${(error as Error).message.split('\n')[0]}); fix or remove it, nothing was written`, { file: path });
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new CliError('E_INVALID', `${path} must hold a JSON object; fix or remove it, nothing was written`, { file: path });
  }
  return { path, exists: true, data: data as Record<string, unknown>, mode: statSync(path).mode & 0o777 };
}

function objectField(file: JsonObjectFile, value: unknown, field: string): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CliError('E_INVALID', `${file.path}: ${field} must be a JSON object; fix it, nothing was written`, { file: file.path, field });
  }
  return value as Record<string, unknown>;
}

function ruleList(file: JsonObjectFile, value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((rule) => typeof rule === 'string')) {
    throw new CliError('E_INVALID', `${file.path}: ${field} must be a list of rules such as "Bash(npm test:*)"; fix it, nothing was written`, { file: file.path, field });
  }
  return value;
}

export interface SettingsPlan {
  present: string[];
  missing: string[];
  /** Our rules that a deny rule of the same file names exactly (deny wins in Claude Code). */
  denied: string[];
}

export function planSettings(file: JsonObjectFile, rules: readonly PermissionRule[]): SettingsPlan {
  const permissions = objectField(file, file.data.permissions, 'permissions');
  const allow = new Set(ruleList(file, permissions.allow, 'permissions.allow'));
  const deny = new Set(ruleList(file, permissions.deny, 'permissions.deny'));
  return {
    present: rules.filter((rule) => allow.has(rule.rule)).map((rule) => rule.rule),
    missing: rules.filter((rule) => !allow.has(rule.rule)).map((rule) => rule.rule),
    denied: rules.filter((rule) => deny.has(rule.rule)).map((rule) => rule.rule),
  };
}

/** Appends the missing rules to permissions.allow; every other key and rule stays as it was. */
export function writeSettings(file: JsonObjectFile, missing: readonly string[]): void {
  const permissions = objectField(file, file.data.permissions, 'permissions');
  const allow = ruleList(file, permissions.allow, 'permissions.allow');
  const merged = { ...file.data, permissions: { ...permissions, allow: [...allow, ...missing] } };
  writeFileAtomic(file.path, `${JSON.stringify(merged, null, 2)}\n`, { mode: file.mode });
}

/** The user's Claude Code state file, where the trust dialog's answer is kept. */
export function claudeUserConfigPath(env: NodeJS.ProcessEnv): string {
  return join(env.CLAUDE_CONFIG_DIR || env.HOME || homedir(), '.claude.json');
}

export interface TrustState {
  file: string;
  /** The key Claude Code looks the workspace up by: the main checkout's real path. */
  project: string;
  trusted: boolean;
  /** The file could not be read as JSON (shown, and refused only when asked to write it). */
  unreadable: boolean;
}

export function trustState(env: NodeJS.ProcessEnv, repoRoot: string): TrustState {
  const file = claudeUserConfigPath(env);
  const project = realpathSync(repoRoot);
  try {
    const config = readJsonObject(file);
    const entry = (config.data.projects as Record<string, { hasTrustDialogAccepted?: unknown }> | undefined)?.[project];
    return { file, project, trusted: entry?.hasTrustDialogAccepted === true, unreadable: false };
  } catch {
    return { file, project, trusted: false, unreadable: true };
  }
}

/**
 * Reads and checks the file first (a malformed one is refused before anything is written), and
 * returns the write that records the trust dialog's "yes", keeping everything else in the file.
 */
export function prepareTrustWrite(state: TrustState): () => void {
  const config = readJsonObject(state.file);
  const projects = objectField(config, config.data.projects, 'projects');
  const entry = objectField(config, projects[state.project], `projects["${state.project}"]`);
  const merged = { ...config.data, projects: { ...projects, [state.project]: { ...entry, hasTrustDialogAccepted: true } } };
  // A new file will hold account state: private from the start.
  return () => writeFileAtomic(state.file, `${JSON.stringify(merged, null, 2)}\n`, { mode: config.mode ?? 0o600 });
}
