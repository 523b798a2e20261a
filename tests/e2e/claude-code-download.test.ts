// The end-to-end tests download the Claude Code versions they run against (scripts/install-claude-code.mjs,
// the step of `npm test` before vitest). Without the npm registry that step must say in one line what
// it needs, not print npm's dozen lines or a stack trace. Runs a copy of the script in a temp
// checkout, against a registry URL nothing listens on.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SUPPORTED_CLAUDE_CODE_VERSIONS } from '../../scripts/install-claude-code.mjs';
import { REPO_ROOT } from '../helpers/paths.ts';
import { tempDir } from '../helpers/temp-dir.ts';

function checkout(): string {
  const root = tempDir('pa-download-');
  mkdirSync(join(root, 'scripts'));
  cpSync(join(REPO_ROOT, 'scripts', 'install-claude-code.mjs'), join(root, 'scripts', 'install-claude-code.mjs'));
  return root;
}

function install(root: string, env: Record<string, string> = {}) {
  const { CLAUDE_CODE_VERSIONS: _narrowed, ...inherited } = process.env;
  return spawnSync(process.execPath, [join(root, 'scripts', 'install-claude-code.mjs')], {
    cwd: root,
    encoding: 'utf8',
    env: {
      ...inherited,
      npm_config_registry: 'http://127.0.0.1:9/',
      npm_config_fetch_retries: '0',
      npm_config_cache: join(root, 'npm-cache'), // nothing cached to fall back on
      ...env,
    },
  });
}

describe('downloading the Claude Code versions the end-to-end tests run against', () => {
  it('without the registry: exit 1 and one line naming the version, the folder, the registry error and the way out', () => {
    const run = install(checkout());
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines[0]).toBe(`Downloading Claude Code ${SUPPORTED_CLAUDE_CODE_VERSIONS[0]} (~235 MB, once) into .cache/claude-code/${SUPPORTED_CLAUDE_CODE_VERSIONS[0]} for the end-to-end tests...`);
    expect(lines.slice(1)).toEqual([expect.stringMatching(/^install-claude-code: the end-to-end tests need Claude Code 2\.1\.197 in \.cache\/claude-code\/2\.1\.197 and could not download it from the npm registry \(request to http:\/\/127\.0\.0\.1:9\/\S+ failed, reason: connect ECONNREFUSED 127\.0\.0\.1:9\); run `node scripts\/install-claude-code\.mjs` once with the registry reachable, or set CLAUDE_CODE_VERSIONS to the versions already there$/)]);
    expect(run.stdout).toBe('');
  });

  it('uses a version already there without asking the registry, in its own folder or in the single folder of older checkouts', () => {
    const root = checkout();
    const [oldest, newest] = SUPPORTED_CLAUDE_CODE_VERSIONS as [string, string];
    const fake = (dir: string, version: string) => {
      const pkg = join(dir, 'node_modules', '@anthropic-ai');
      mkdirSync(join(pkg, 'claude-code'), { recursive: true });
      writeFileSync(join(pkg, 'claude-code', 'package.json'), JSON.stringify({ version }));
    };
    fake(join(root, '.cache', 'claude-code'), oldest); // the layout before there were two versions
    fake(join(root, '.cache', 'claude-code', newest), newest);
    const run = install(root);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`Claude Code ${oldest} and ${newest} ready in .cache/claude-code/\n`);
  });
});
