// The architecture the README describes, held to the code: who may import whom, the doors of the
// store, and files small enough to read in one sitting.
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/paths.ts';

/** Each folder of src/ and the folders it may import from (errors.ts is below everything). */
const MAY_IMPORT: Record<string, string[]> = {
  text: [],
  process: ['text'],
  fs: ['text', 'process'],
  repo: ['text', 'process', 'fs'],
  scope: ['text'],
  store: ['text', 'process', 'fs', 'repo', 'scope'],
  plan: ['text', 'fs', 'repo', 'scope', 'store'],
  batch: ['text', 'fs', 'repo', 'scope', 'store', 'plan'],
  git: ['text', 'process', 'fs', 'repo', 'scope', 'store'],
  hooks: ['text', 'process', 'fs', 'repo', 'scope', 'store', 'git'],
  runner: ['text', 'process', 'fs', 'repo', 'scope', 'store', 'plan', 'git'],
  demo: ['text', 'process', 'fs', 'repo', 'store', 'plan', 'git', 'runner'],
  cli: ['text', 'process', 'fs', 'repo', 'scope', 'store', 'plan', 'batch', 'git', 'hooks', 'runner', 'demo'],
};

/** Files allowed past the size limit, each with the reason it is one file. */
const MAX_LINES = 250;
const LONG_FILES: Record<string, string> = {};

function sources(): string[] {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'src'], { cwd: REPO_ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((file) => file.endsWith('.ts'));
}

function folderOf(file: string): string {
  const parts = file.split('/');
  return parts.length === 2 ? parts[1]!.replace(/\.ts$/, '') : parts[1]!;
}

function importsOf(file: string): string[] {
  const text = readFileSync(join(REPO_ROOT, file), 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
    found.push(relative(REPO_ROOT, resolve(dirname(join(REPO_ROOT, file)), match[1]!)));
  }
  return found;
}

describe('architecture', () => {
  const files = sources();

  it('every folder of src/ has a place in the layers', () => {
    const folders = new Set(files.map(folderOf).filter((folder) => folder !== 'errors'));
    expect([...folders].filter((folder) => !(folder in MAY_IMPORT)).sort()).toEqual([]);
  });

  it('imports go down the layers only (no cycles between folders)', () => {
    const wrong: string[] = [];
    for (const file of files) {
      const from = folderOf(file);
      for (const target of importsOf(file)) {
        if (!target.startsWith('src/')) continue;
        const to = folderOf(target);
        if (to === from || to === 'errors') continue;
        if (from === 'errors' || !MAY_IMPORT[from]?.includes(to)) wrong.push(`${file} -> ${target}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('the store has one door: its backends are reached only through store/open-store.ts', () => {
    const wrong: string[] = [];
    for (const file of files) {
      if (file.startsWith('src/store/')) continue;
      for (const target of importsOf(file)) {
        if (/^src\/store\/(local|git-remote)\//.test(target)) wrong.push(`${file} -> ${target}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it(`keeps files under ${MAX_LINES} lines, or says why not`, () => {
    const long = files
      .map((file) => [file, readFileSync(join(REPO_ROOT, file), 'utf8').split('\n').length] as const)
      .filter(([file, lines]) => lines > MAX_LINES && !(file in LONG_FILES))
      .map(([file, lines]) => `${file}: ${lines} lines`);
    expect(long).toEqual([]);
  });

  it('runs every git process through src/repo/run-git.ts', () => {
    const spawning = files.filter((file) => file !== 'src/repo/run-git.ts' && /['"]git['"]\s*,\s*\[/.test(readFileSync(join(REPO_ROOT, file), 'utf8')));
    expect(spawning).toEqual([]);
  });

  it('cites only documents that are in the repository', () => {
    const foreign = /MEASUREMENTS §|reference §|STYLE §|the seeds'|\(the issue\)|see the issue/;
    const citing = files.filter((file) => foreign.test(readFileSync(join(REPO_ROOT, file), 'utf8')));
    expect(citing).toEqual([]);
  });
});
