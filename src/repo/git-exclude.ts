import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write.ts';

/**
 * Adds a pattern to the repository's shared info/exclude (not .gitignore: the store is local
 * state, and the user's tracked files stay untouched). Returns false when it was already there.
 */
export function addToGitExclude(gitCommonDir: string, pattern: string): boolean {
  const path = join(gitCommonDir, 'info', 'exclude');
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    // No exclude file yet: git creates one on init, but a bare layout may lack it.
  }
  if (text.split('\n').some((line) => line.trim() === pattern)) return false;
  const prefix = text.length > 0 && !text.endsWith('\n') ? '\n' : '';
  writeFileAtomic(path, `${text}${prefix}${pattern}\n`);
  return true;
}
