import { mkdtempSync, rmSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

/** A fresh real directory, removed when the test ends (kept with KEEP_TEST_DIRS=1). */
export function tempDir(prefix = 'pa-'): string {
  // realpath: macOS-style /tmp symlinks would otherwise make path comparisons flaky.
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  onTestFinished(() => {
    if (!process.env.KEEP_TEST_DIRS) rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}
