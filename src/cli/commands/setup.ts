import { join, relative } from 'node:path';
import { WORKTREES_DIR_OPTION, stringOption } from '../args.ts';
import { defineCommand } from '../command.ts';
import { readFileSync } from 'node:fs';
import { planSettings, prepareTrustWrite, readJsonObject, trustState, unattendedRules, writeSettings } from '../claude-settings.ts';
import { openRepoContext } from '../../git/repo-context.ts';
import { withRepoLock } from '../../git/repo-lock.ts';
import { addToGitExclude } from '../../repo/git-exclude.ts';
import { readProjectConfig } from '../../repo/project-config.ts';
import { gitTest } from '../../repo/run-git.ts';
import { WORKTREE_INCLUDE_FILE } from '../../git/worktree-include.ts';
import { requireOrchestrator } from '../caller.ts';

// Shows, and with --write writes, the Claude Code settings an unattended run needs. A skill's
// allowed-tools cover only the turn it was typed in, so background agents and later turns need
// the rules in a settings file. The default file needs no workspace trust; --shared writes the
// team's file, which `claude -p` ignores until the workspace is trusted, and --trust records that
// trust on the user's behalf, announced as such.

function projectSummary(repoRoot: string): { text: string; data: Record<string, unknown> } {
  const config = readProjectConfig(repoRoot);
  let include: number | null = null;
  try {
    include = readFileSync(join(repoRoot, WORKTREE_INCLUDE_FILE), 'utf8').split(/\r?\n/).filter((line) => line.trim() !== '' && !line.trim().startsWith('#')).length;
  } catch {
    // no .worktreeinclude
  }
  const data = {
    config: config.exists ? config.file : null,
    setup: config.setup ?? null,
    check: config.check ?? null,
    ports: config.ports ?? null,
    worktreeinclude_patterns: include,
  };
  const parts = config.exists
    ? [
      config.setup ? `set-up "${config.setup}"` : 'no set-up',
      config.check ? `check "${config.check}"` : 'no default check',
      config.ports ? `${config.ports.count} port(s) per worktree in ${config.ports.from}-${config.ports.to}` : 'no ports',
    ].join(', ')
    : 'no .parallel-agents.json (no set-up, default check or ports for worktrees)';
  return { data, text: `project: ${parts}; ${include === null ? 'no .worktreeinclude' : `.worktreeinclude: ${include} pattern(s)`}` };
}

export const command = defineCommand('setup', {
  options: {
    write: { type: 'boolean', help: 'add the missing rules to the settings file (without it: a dry run)' },
    shared: { type: 'boolean', help: '.claude/settings.json, shared with the team, instead of your .claude/settings.local.json' },
    trust: { type: 'boolean', help: "with --write: record the workspace as trusted in Claude Code's config, so claude -p applies the shared file" },
    'worktrees-dir': WORKTREES_DIR_OPTION,
  },
  async run(ctx) {
    const write = ctx.values.write === true;
    if (write) requireOrchestrator(ctx, 'writing permission rules');
    const shared = ctx.values.shared === true;
    const wantTrust = ctx.values.trust === true;
    const context = openRepoContext({ cwd: ctx.cwd, env: ctx.env, tasksDir: stringOption(ctx.values, 'tasks-dir'), worktreesDir: stringOption(ctx.values, 'worktrees-dir') });
    const rules = unattendedRules(context);
    const file = readJsonObject(join(context.repoRoot, '.claude', shared ? 'settings.json' : 'settings.local.json'));
    const plan = planSettings(file, rules);
    const shown = relative(context.repoRoot, file.path);
    const trust = trustState(ctx.env, context.repoRoot);
    const notes: string[] = [];
    let written = false;
    let excluded = false;
    let trustWritten = false;
    const recordTrust = write && wantTrust && !trust.trusted ? prepareTrustWrite(trust) : undefined;

    if (write && plan.missing.length > 0) {
      writeSettings(file, plan.missing);
      written = true;
    }
    if (write && !shared && !gitTest(['check-ignore', '-q', '--no-index', shown], { cwd: context.repoRoot })) {
      excluded = await withRepoLock(context, () => addToGitExclude(context.gitCommonDir, `/${shown}`));
    }
    if (recordTrust) {
      recordTrust();
      trustWritten = true;
    }

    if (plan.denied.length > 0) notes.push(`${shown} also denies ${plan.denied.join(', ')}: a deny rule wins, remove it for the flow to work`);
    if (shared && !trust.trusted && !trustWritten) {
      notes.push(`claude -p ignores ${shown} until this workspace is trusted: run "claude" here once and accept the trust dialog, or rerun with --trust --write`);
    }
    if (trust.unreadable && wantTrust) notes.push(`${trust.file} could not be read as JSON; --trust will refuse to rewrite it`);

    const lines = [`Claude Code permissions for unattended parallel runs in ${context.repoRoot}`];
    lines.push(`settings file: ${shown} (${shared ? 'shared with everyone who clones the project; Claude Code applies it only in a trusted workspace' : 'yours, not committed; Claude Code applies it without the workspace trust dialog'})`);
    const width = Math.max(...rules.map((rule) => rule.rule.length));
    for (const rule of rules) lines.push(`  ${plan.present.includes(rule.rule) ? '=' : '+'} ${rule.rule.padEnd(width)}  ${rule.why}${plan.present.includes(rule.rule) ? ' (already there)' : ''}`);
    if (plan.missing.length === 0) lines.push(`nothing to add: ${shown} already allows all of them`);
    else if (written) lines.push(`WROTE ${plan.missing.length} rule(s) into ${shown} (every other setting kept)`);
    else lines.push(`dry run, nothing written: "parallel-agents setup --write${shared ? ' --shared' : ''}" (or /parallel:setup write${shared ? ' shared' : ''}) adds the ${plan.missing.length} rule(s) marked +`);
    if (excluded) lines.push(`hid ${shown} from git (.git/info/exclude): it is personal`);
    if (trust.trusted) lines.push(`workspace trust: accepted (${trust.file})`);
    else if (trustWritten) lines.push(`TRUSTED: recorded projects["${trust.project}"].hasTrustDialogAccepted = true in ${trust.file}, on your behalf. Claude Code now applies this project's .claude/settings.json, hooks and MCP servers here without asking. Restart running Claude Code sessions: they rewrite that file.`);
    else if (wantTrust) lines.push(`workspace trust: not accepted; --trust --write would record projects["${trust.project}"].hasTrustDialogAccepted = true in ${trust.file}, which tells Claude Code to apply this project's .claude/settings.json, hooks and MCP servers without asking`);
    else lines.push(`workspace trust: not accepted${shared ? '' : ' (not needed for this file)'}`);
    const project = projectSummary(context.repoRoot);
    lines.push(project.text, ...notes.map((note) => `note: ${note}`));

    return {
      data: {
        file: file.path,
        scope: shared ? 'shared' : 'local',
        rules: rules.map((rule) => ({ ...rule, present: plan.present.includes(rule.rule) })),
        missing: plan.missing,
        denied: plan.denied,
        write,
        written,
        excluded_from_git: excluded,
        trust: { file: trust.file, project: trust.project, trusted: trust.trusted || trustWritten, written: trustWritten },
        project: project.data,
        notes,
      },
      text: lines.join('\n'),
    };
  },
});
