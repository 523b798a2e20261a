import * as nodeFs from 'node:fs';

// The filesystem calls the task protocol makes, as one object. Production passes node:fs; the
// fault-injection tests pass a wrapper that counts every call of an operation and kills or stalls
// the process at any one of them, so no step of a transition goes untested (and a lint test keeps
// src/store/local/ from calling node:fs around this port).

export interface FsPort {
  readdirSync: typeof nodeFs.readdirSync;
  readFileSync: typeof nodeFs.readFileSync;
  statSync: typeof nodeFs.statSync;
  lstatSync: typeof nodeFs.lstatSync;
  realpathSync: typeof nodeFs.realpathSync;
  existsSync: typeof nodeFs.existsSync;
  mkdirSync: typeof nodeFs.mkdirSync;
  openSync: typeof nodeFs.openSync;
  writeSync: typeof nodeFs.writeSync;
  fsyncSync: typeof nodeFs.fsyncSync;
  closeSync: typeof nodeFs.closeSync;
  renameSync: typeof nodeFs.renameSync;
  linkSync: typeof nodeFs.linkSync;
  unlinkSync: typeof nodeFs.unlinkSync;
  utimesSync: typeof nodeFs.utimesSync;
}

export const NODE_FS: FsPort = {
  readdirSync: nodeFs.readdirSync,
  readFileSync: nodeFs.readFileSync,
  statSync: nodeFs.statSync,
  lstatSync: nodeFs.lstatSync,
  realpathSync: nodeFs.realpathSync,
  existsSync: nodeFs.existsSync,
  mkdirSync: nodeFs.mkdirSync,
  openSync: nodeFs.openSync,
  writeSync: nodeFs.writeSync,
  fsyncSync: nodeFs.fsyncSync,
  closeSync: nodeFs.closeSync,
  renameSync: nodeFs.renameSync,
  linkSync: nodeFs.linkSync,
  unlinkSync: nodeFs.unlinkSync,
  utimesSync: nodeFs.utimesSync,
};

/** The call names of the port, for tests that enumerate them. */
export const FS_PORT_CALLS = Object.keys(NODE_FS) as (keyof FsPort)[];

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** The path (or a parent folder) does not exist: the file moved or was never there. */
export function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}
