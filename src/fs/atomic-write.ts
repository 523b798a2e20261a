import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync, mkdirSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { randomHex } from '../text/fingerprint.ts';

/**
 * Writes through a temp file in the same folder, then renames over the target: readers see the
 * old file or the new one, never half of either, even if this process is killed mid-write.
 * The temp name starts with a dot and carries our pid, so store readers skip it and recovery
 * can tell whose it was.
 */
export function writeFileAtomic(path: string, data: string, options: { fsync?: boolean } = {}): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.tmp~${basename(path)}~${process.pid}~${randomHex(8)}`);
  const fd = openSync(tmp, 'wx');
  try {
    writeSync(fd, data);
    if (options.fsync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (error) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw error;
  }
}
