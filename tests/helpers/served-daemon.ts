import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startGitDaemon, type GitDaemon } from './git-server.ts';

// Kept out of git-server.ts, which benchmarks import too: this one registers vitest hooks.

/** A git daemon serving a fresh temp folder, started before the tests of the enclosing file or describe and stopped after them. */
export function servedByGitDaemon(prefix: string): { readonly dir: string; readonly daemon: GitDaemon } {
  const server = {} as { dir: string; daemon: GitDaemon };
  beforeAll(async () => {
    server.dir = mkdtempSync(join(tmpdir(), prefix));
    server.daemon = await startGitDaemon(server.dir);
  });
  afterAll(async () => {
    await server.daemon?.stop();
    if (server.dir) rmSync(server.dir, { recursive: true, force: true });
  });
  return server;
}
