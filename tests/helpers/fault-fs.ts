import { FS_PORT_CALLS, NODE_FS, type FsPort } from '../../src/fs/fs-port.ts';

// The store's filesystem port with a hook before every call: the fault-injection tests count the
// calls an operation makes and kill or stall the process at any one of them (the proper-lockfile
// way: real disk, faults injected through the seam, no mocked filesystem).

export interface FsCall {
  name: keyof FsPort;
  /** The first argument, usually the path. */
  target: string;
}

export function hookedFs(before: (call: FsCall) => void): FsPort {
  const port = {} as Record<string, unknown>;
  for (const name of FS_PORT_CALLS) {
    const real = NODE_FS[name] as (...args: unknown[]) => unknown;
    port[name] = (...args: unknown[]) => {
      before({ name, target: String(args[0]) });
      return real(...args);
    };
  }
  return port as unknown as FsPort;
}
