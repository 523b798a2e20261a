import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { git, writeFiles } from '../helpers/git-repo.ts';

/** Commits `files` (null = delete) on a new branch cut from `from`, leaving the main worktree on main. */
export function commitOnBranch(repo: string, branch: string, files: Record<string, string | null>, from = 'main'): string {
  git(repo, 'checkout', '-q', '-b', branch, from);
  const writes = Object.fromEntries(Object.entries(files).filter((entry): entry is [string, string] => entry[1] !== null));
  writeFiles(repo, writes);
  for (const [path, content] of Object.entries(files)) {
    if (content === null) rmSync(join(repo, path));
  }
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', `work on ${branch}`);
  const head = git(repo, 'rev-parse', 'HEAD');
  git(repo, 'checkout', '-q', 'main');
  return head;
}

export function lines(count: number, label: string): string {
  return Array.from({ length: count }, (_, i) => `${label} line ${i + 1}`).join('\n') + '\n';
}
