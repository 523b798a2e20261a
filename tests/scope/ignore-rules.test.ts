import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileIgnoreRules } from '../../src/scope/ignore-rules.ts';
import { git, gitRepo, writeFiles } from '../helpers/git-repo.ts';

// The matcher must answer what git answers: each pattern set goes into a real .gitignore, and
// `git ls-files --others --ignored` over the same files is the truth.
const FILES = [
  '.env', '.env.local', 'app/.env', 'app/config/local.json', 'config/local.json', 'config/other.json',
  'secrets/a.json', 'secrets/deep/b.json', 'logs/x.log', 'logs/keep.log', 'a/b/c/d.txt', 'a/d.txt', 'a/x/y/d.txt',
  'build/out.js', 'src/build/out.js', 'log7.txt', 'logx.txt', 'weird[1].txt', 'notes#.md', '!bang.txt', 'space file.txt',
];

const PATTERN_SETS: string[][] = [
  ['.env'],
  ['.env*'],
  ['/.env'],
  ['*.json'],
  ['config/local.json'],
  ['/config/*.json', '!config/other.json'],
  ['secrets/'],
  ['secrets', '!secrets/a.json'],
  ['secrets/**', '!secrets/a.json'],
  ['logs/*.log', '!logs/keep.log'],
  ['a/**/d.txt'],
  ['**/d.txt'],
  ['a/**'],
  ['build/'],
  ['/build/'],
  ['log[0-9].txt'],
  ['log[!0-9].txt'],
  ['weird\\[1\\].txt'],
  ['\\!bang.txt'],
  ['# comment', '', 'notes#.md'],
  ['space file.txt'],
  ['**'],
  ['*', '!*.txt'],
];

describe('gitignore rules', () => {
  it('every pattern set matches the files git matches', () => {
    const repo = gitRepo({ 'README.md': '#\n' });
    writeFiles(repo, Object.fromEntries(FILES.map((file) => [file, 'x\n'])));
    for (const patterns of PATTERN_SETS) {
      writeFileSync(join(repo, '.gitignore'), `${patterns.join('\n')}\n`);
      const ignoredByGit = git(repo, '-c', 'core.quotePath=false', 'ls-files', '--others', '--ignored', '--exclude-standard').split('\n').filter((file) => FILES.includes(file)).sort();
      const rules = compileIgnoreRules(patterns);
      expect(FILES.filter((file) => rules.ignores(file)).sort(), patterns.join(' | ')).toEqual(ignoredByGit);
    }
  });

  it('a folder-only rule matches a folder path, not a file of that name', () => {
    const rules = compileIgnoreRules(['cache/']);
    expect(rules.ignores('cache/')).toBe(true);
    expect(rules.ignores('cache')).toBe(false);
    expect(rules.ignores('cache/x.bin')).toBe(true);
  });
});
