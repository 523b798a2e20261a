// The commands an agent is told to run next, in one place: claim output, hook denials, the
// SubagentStop reminder and the runner's prompt all show these, so they cannot drift apart.
// Agent names, task ids and tokens are validated to contain no shell metacharacters.

export function claimCommand(agent: string, role?: string): string {
  return `parallel-agents claim --agent ${agent}${role ? ` --role ${role}` : ' --role <your role>'} --json`;
}

function proof(token: string | undefined): string {
  return token ? ` --token ${token}` : '';
}

export function completeCommand(agent: string, task: string, token?: string): string {
  return `parallel-agents complete --agent ${agent} --task ${task}${proof(token)} --commit-worktree --summary "<one line>" --json`;
}

export function failCommand(agent: string, task: string, token?: string): string {
  return `parallel-agents fail --agent ${agent} --task ${task}${proof(token)} --reason "<what failed and why>" --json`;
}
