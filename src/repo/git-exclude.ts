import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write.ts';
import { pathBelow } from '../fs/path-inside.ts';

/** The runtime's own folder at the root of the main worktree: task worktrees, the flow's plans. */
export const RUNTIME_FOLDER = '.parallel';

function excludeFile(gitCommonDir: string): string {
  return join(gitCommonDir, 'info', 'exclude');
}

function readExclude(gitCommonDir: string): string {
  try {
    return readFileSync(excludeFile(gitCommonDir), 'utf8');
  } catch {
    // No exclude file yet: git creates one on init, but a bare layout may lack it.
    return '';
  }
}

function missingLines(text: string, patterns: readonly string[]): string[] {
  const present = new Set(text.split('\n').map((line) => line.trim()));
  return patterns.filter((pattern, index) => !present.has(pattern) && patterns.indexOf(pattern) === index);
}

/**
 * Adds patterns to the repository's shared info/exclude (not .gitignore: this is local state, and
 * the user's tracked files stay untouched). Returns false when they were all there already.
 */
export function addToGitExclude(gitCommonDir: string, ...patterns: string[]): boolean {
  const text = readExclude(gitCommonDir);
  const missing = missingLines(text, patterns);
  if (missing.length === 0) return false;
  const prefix = text.length > 0 && !text.endsWith('\n') ? '\n' : '';
  writeFileAtomic(excludeFile(gitCommonDir), `${text}${prefix}${missing.join('\n')}\n`);
  return true;
}

/**
 * The lines that hide the runtime's local state from `git status`: the whole `.parallel/` folder
 * (worktrees, and the plans the flow writes there before anything else exists) and each folder
 * given (the store, a worktrees folder set elsewhere) that lies inside the repository.
 */
function localStateLines(repoRoot: string, folders: readonly string[]): string[] {
  const lines = [`/${RUNTIME_FOLDER}/`];
  for (const folder of folders) {
    const below = pathBelow(repoRoot, folder);
    if (below && below !== RUNTIME_FOLDER && !below.startsWith(`${RUNTIME_FOLDER}/`)) lines.push(`/${below}/`);
  }
  return lines;
}

/** Called wherever the store or a worktree is created, so both hide the same things. */
export function hideLocalState(gitCommonDir: string, repoRoot: string, folders: readonly string[]): boolean {
  return addToGitExclude(gitCommonDir, ...localStateLines(repoRoot, folders));
}

export function isLocalStateHidden(gitCommonDir: string, repoRoot: string, folders: readonly string[]): boolean {
  return missingLines(readExclude(gitCommonDir), localStateLines(repoRoot, folders)).length === 0;
}
