import { createRequire } from 'node:module';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createFileWhole, writeFailure } from '../../fs/atomic-write.ts';
import { NODE_FS } from '../../fs/fs-port.ts';
import { tempName } from '../../fs/atomic-write.ts';

// Every transition writes one to three small objects (a commit, and for new content a blob and a
// tree). Writing them as loose objects from here costs a hash and a deflate; `git hash-object`,
// `mktree` and `commit-tree` would cost three git processes per transition (bench/RESULTS.md).
// An object is written whole (temp file, fsync, rename) before any ref can name it.
// node:zlib and node:crypto load on first use: the local store never pays for them.

type Zlib = typeof import('node:zlib');
type Crypto = typeof import('node:crypto');
const load = <T>(name: string): T => (typeof require === 'function' ? require(name) : createRequire(import.meta.url)(name)) as T;
let zlib: Zlib | undefined;
let crypto: Crypto | undefined;

/** node:zlib and node:crypto, loaded on first use (pack.ts encodes with them too). */
export function zlibModule(): Zlib {
  zlib ??= load<Zlib>('node:zlib');
  return zlib;
}

export function cryptoModule(): Crypto {
  crypto ??= load<Crypto>('node:crypto');
  return crypto;
}

export type ObjectType = 'blob' | 'tree' | 'commit';

function loosePath(objectsDir: string, id: string): string {
  return join(objectsDir, id.slice(0, 2), id.slice(2));
}

/** A loose object as the writer stores it ("<type> <size>\0<body>", deflated), or undefined when it is not loose here. */
export function readLooseObject(objectsDir: string, id: string): { type: ObjectType; body: Buffer } | undefined {
  let raw: Buffer;
  try {
    raw = zlibModule().inflateSync(readFileSync(loosePath(objectsDir, id)));
  } catch {
    return undefined;
  }
  const nul = raw.indexOf(0);
  const [type, size] = raw.subarray(0, nul).toString('latin1').split(' ');
  if ((type !== 'blob' && type !== 'tree' && type !== 'commit') || Number(size) !== raw.length - nul - 1) return undefined;
  return { type, body: raw.subarray(nul + 1) };
}

export type ObjectFormat = 'sha1' | 'sha256';

export interface TreeEntry {
  mode: '100644';
  name: string;
  id: string;
}

export interface CommitSpec {
  tree: string;
  parents: readonly string[];
  message: string;
  /** Seconds since the epoch, the writer's clock: git wants one; nothing compares it. */
  time: number;
}

export const EMPTY_TREE: Record<ObjectFormat, string> = {
  sha1: '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
  sha256: '6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321',
};

const IDENT = 'parallel-agents <parallel-agents@localhost>';

export class ObjectWriter {
  readonly format: ObjectFormat;
  private readonly objectsDir: string;

  constructor(objectsDir: string, format: ObjectFormat) {
    this.objectsDir = objectsDir;
    this.format = format;
  }

  /** Writes one object (if absent) and returns its id. */
  write(type: ObjectType, body: Buffer): string {
    const data = Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body]);
    const id = cryptoModule().createHash(this.format).update(data).digest('hex');
    const path = loosePath(this.objectsDir, id);
    const dir = dirname(path);
    if (existsSync(path)) return id;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw writeFailure(error, path);
    }
    const tmp = join(dir, tempName(path));
    createFileWhole(NODE_FS, tmp, zlibModule().deflateSync(data), { fsync: true });
    try {
      NODE_FS.renameSync(tmp, path);
    } catch (error) {
      try { NODE_FS.unlinkSync(tmp); } catch { /* gone */ }
      throw writeFailure(error, path);
    }
    return id;
  }

  blob(text: string): string {
    return this.write('blob', Buffer.from(text, 'utf8'));
  }

  /** Entries must have distinct names; git orders a tree's entries by name. */
  tree(entries: readonly TreeEntry[]): string {
    const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const parts = sorted.map((entry) => Buffer.concat([Buffer.from(`${entry.mode} ${entry.name}\0`), Buffer.from(entry.id, 'hex')]));
    return this.write('tree', Buffer.concat(parts));
  }

  commit(spec: CommitSpec): string {
    const lines = [`tree ${spec.tree}`, ...spec.parents.map((parent) => `parent ${parent}`), `author ${IDENT} ${spec.time} +0000`, `committer ${IDENT} ${spec.time} +0000`];
    const message = spec.message.endsWith('\n') ? spec.message : `${spec.message}\n`;
    return this.write('commit', Buffer.from(`${lines.join('\n')}\n\n${message}`, 'utf8'));
  }
}
