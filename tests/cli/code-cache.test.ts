// The CLI entry compiles the bundle through a V8 code cache in the user's cache folder: a cache
// must speed calls up without ever changing what they do, and a broken one must cost nothing.
import { chmodSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gitRepo } from '../helpers/git-repo.ts';
import { runCli } from '../helpers/run-cli.ts';
import { tempDir } from '../helpers/temp-dir.ts';

describe('the code cache', () => {
  it('is written once per command, private to the user, and a call with it answers the same', () => {
    const repo = gitRepo();
    const cache = tempDir('pa-cache-');
    const env = { XDG_CACHE_HOME: cache };
    const first = runCli(['status', '--json'], { cwd: repo, env });
    const folder = join(cache, 'parallel-agents');
    const files = readdirSync(folder);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^cli-[0-9a-f]{24}-status\.v8cache$/);
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    expect(statSync(join(folder, files[0]!)).mode & 0o777).toBe(0o600);
    const second = runCli(['status', '--json'], { cwd: repo, env });
    expect([second.exitCode, second.stdout, second.stderr]).toEqual([first.exitCode, first.stdout, first.stderr]);
    expect(readdirSync(folder)).toEqual(files);
  });

  it('a corrupt cache is replaced, an unwritable folder or PARALLEL_AGENTS_NO_CODE_CACHE means none, and the call works', () => {
    const repo = gitRepo();
    const cache = tempDir('pa-cache-');
    const env = { XDG_CACHE_HOME: cache };
    expect(runCli(['status'], { cwd: repo, env }).exitCode).toBe(1); // no store yet: the same answer every time
    const folder = join(cache, 'parallel-agents');
    const [name] = readdirSync(folder);
    writeFileSync(join(folder, name!), 'not a V8 cache');
    const corrupt = runCli(['status'], { cwd: repo, env });
    expect([corrupt.exitCode, corrupt.stderr]).toEqual([1, expect.stringMatching(/^parallel-agents: no task store/)]);
    expect(statSync(join(folder, name!)).size).toBeGreaterThan(1000);

    const locked = tempDir('pa-cache-');
    chmodSync(locked, 0o500);
    // As root the mode does not stop writes: a file where the folder should be does.
    writeFileSync(join(locked, 'parallel-agents'), 'in the way');
    const unwritable = runCli(['status'], { cwd: repo, env: { XDG_CACHE_HOME: locked } });
    expect([unwritable.exitCode, unwritable.stderr]).toEqual([1, expect.stringMatching(/^parallel-agents: no task store/)]);

    const off = tempDir('pa-cache-');
    expect(runCli(['status'], { cwd: repo, env: { XDG_CACHE_HOME: off, PARALLEL_AGENTS_NO_CODE_CACHE: '1' } }).exitCode).toBe(1);
    expect(readdirSync(off)).toEqual([]);
  });
});
