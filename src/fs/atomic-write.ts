import { basename, dirname, join } from 'node:path';
import { CliError } from '../errors.ts';
import { hostId } from '../process/liveness.ts';
import { randomHex } from '../text/fingerprint.ts';
import { errorCode, NODE_FS, type FsPort } from './fs-port.ts';

// Every write is whole or fails: a short write() is continued until every byte is down, a full
// disk or an I/O error becomes one E_IO line naming the file and its folder, and the half-written
// temp file is removed. The target is replaced by one rename, so readers see the old file or the
// new one, never half of either, even if the process is killed mid-write.

/** Errors of the disk itself rather than of the request: reported as E_IO (exit 1). */
const DISK_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EFBIG', 'EMFILE', 'ENFILE']);

/** A one-line CliError for a failed write, or the original error when it is not the disk's fault. */
export function writeFailure(error: unknown, path: string): unknown {
  const code = errorCode(error);
  if (code === undefined || !DISK_ERRORS.has(code)) return error;
  const what = code === 'ENOSPC' || code === 'EDQUOT'
    ? 'no space left on the disk'
    : code === 'EROFS' ? 'the disk is read-only' : code === 'EIO' ? 'the disk reported an I/O error' : `${code}`;
  return new CliError('E_IO', `cannot write ${path}: ${what} holding ${dirname(path)}; free space or fix the disk, then retry (nothing was changed)`, { errno: code, path });
}

/** Writes all of `data` to an open descriptor, continuing short writes. */
export function writeWhole(fs: FsPort, fd: number, data: string | Buffer): void {
  const buffer = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let offset = 0;
  while (offset < buffer.length) {
    const written = fs.writeSync(fd, buffer, offset, buffer.length - offset);
    // write(2) returning 0 for a non-empty buffer means no progress is possible (a full device).
    if (written <= 0) throw Object.assign(new Error(`short write to fd ${fd}`), { code: 'ENOSPC' });
    offset += written;
  }
}

/**
 * Hidden temp names carry the writer (pid and host) first, so recovery can tell a dead writer's
 * leftovers from a live one's, whatever the target's own name holds.
 */
export function tempName(target: string): string {
  return `.tmp~${process.pid}-${hostId()}-${randomHex(8)}~${basename(target)}`;
}

/** The writer of a temp file named by tempName, or undefined for any other name. */
export function parseTempName(name: string): { pid: number; host: string } | undefined {
  const match = /^\.tmp~(\d+)-([0-9a-f]{8})-[0-9a-f]{8}~/.exec(name);
  return match ? { pid: Number(match[1]), host: match[2]! } : undefined;
}

/**
 * Creates `path` (which must not exist) with all of `data`, through the given port: open with
 * O_EXCL, write whole, optionally fsync, close. On any failure the partial file is removed.
 */
export function createFileWhole(fs: FsPort, path: string, data: string | Buffer, options: { fsync?: boolean; mode?: number } = {}): void {
  let fd: number;
  try {
    fd = fs.openSync(path, 'wx', options.mode);
  } catch (error) {
    // A full disk or inode table refuses the creation itself.
    throw writeFailure(error, path);
  }
  let failure: unknown;
  try {
    writeWhole(fs, fd, data);
    if (options.fsync) fs.fsyncSync(fd);
  } catch (error) {
    failure = error;
  }
  try {
    fs.closeSync(fd);
  } catch (error) {
    failure ??= error;
  }
  if (failure !== undefined) {
    try { fs.unlinkSync(path); } catch { /* already gone */ }
    throw writeFailure(failure, path);
  }
}

/**
 * Replaces `path` with `data` whole: a temp file in the same folder, then one rename. `mode` sets
 * the new file's permission bits from the start (a private file is never readable in between).
 */
export function writeFileAtomic(path: string, data: string | Buffer, options: { fsync?: boolean; fs?: FsPort; mode?: number } = {}): void {
  const fs = options.fs ?? NODE_FS;
  try {
    fs.mkdirSync(dirname(path), { recursive: true });
  } catch (error) {
    throw writeFailure(error, path);
  }
  const tmp = join(dirname(path), tempName(path));
  createFileWhole(fs, tmp, data, options);
  try {
    fs.renameSync(tmp, path);
  } catch (error) {
    try { fs.unlinkSync(tmp); } catch { /* already gone */ }
    throw writeFailure(error, path);
  }
}
