import { cryptoModule, readLooseObject, zlibModule, type ObjectType } from './objects.ts';

// The pack a store transition sends: the objects the writer just made (a commit, its tree, the
// tree's blobs), read back from this clone's loose objects. A commit whose parents the server is
// not known to have (anything but the value the same update expects to replace) has history to
// send, and git pack-objects does that better: the caller then pushes with git (undefined here).

const TYPES = { commit: 1, tree: 2, blob: 3 } as const;

interface LooseObject {
  type: ObjectType;
  body: Buffer;
}

/** Tree entries' ids: 20 binary bytes after "<mode> <name>\0". */
function treeEntries(body: Buffer): { mode: string; id: string }[] {
  const entries: { mode: string; id: string }[] = [];
  let pos = 0;
  while (pos < body.length) {
    const nul = body.indexOf(0, pos);
    const mode = body.subarray(pos, body.indexOf(0x20, pos)).toString('latin1');
    entries.push({ mode, id: body.subarray(nul + 1, nul + 21).toString('hex') });
    pos = nul + 21;
  }
  return entries;
}

function treeOf(commit: LooseObject | undefined): string | undefined {
  // A commit's first header line is always its tree.
  if (commit?.type !== 'commit' || commit.body.toString('latin1', 0, 5) !== 'tree ') return undefined;
  return commit.body.toString('latin1', 5, 45);
}

export interface PackRequest {
  /** New value of the ref. */
  to: string;
  /** The value the server must hold for the update to land (null: the ref must not exist). */
  expected: string | null;
  /** `to` must be a child of `expected` (an update git push would send without force). */
  fastForward: boolean;
}

/**
 * The objects of every new commit, as a version 2 pack (sha1 repositories only), or undefined
 * when a new commit is not a loose object here or has a parent the server may lack. A tree or
 * blob that is not loose here came from the remote (a transition that keeps the task file reuses
 * the tree it read), so the server has it; if it has not, it refuses the update as missing
 * objects, changing nothing, and the caller pushes with git.
 */
export function storePack(objectsDir: string, requests: readonly PackRequest[]): Buffer | undefined {
  const objects = new Map<string, LooseObject>();
  const addTree = (id: string): void => {
    const tree = objects.get(id) ?? readLooseObject(objectsDir, id);
    if (tree?.type !== 'tree' || objects.has(id)) return;
    objects.set(id, tree);
    for (const entry of treeEntries(tree.body)) {
      if (entry.mode === '40000') addTree(entry.id);
      else if (entry.mode !== '160000' && !objects.has(entry.id)) {
        const blob = readLooseObject(objectsDir, entry.id);
        if (blob?.type === 'blob') objects.set(entry.id, blob);
      }
    }
  };
  for (const { to, expected, fastForward } of requests) {
    const commit = objects.get(to) ?? readLooseObject(objectsDir, to);
    if (commit?.type !== 'commit') return undefined;
    objects.set(to, commit);
    const header = commit.body.subarray(0, commit.body.indexOf('\n\n')).toString('utf8').split('\n');
    const parents = header.filter((line) => line.startsWith('parent ')).map((line) => line.slice(7));
    if (parents.some((parent) => parent !== expected) || (fastForward && expected !== null && !parents.includes(expected))) return undefined;
    const tree = header.find((line) => line.startsWith('tree '))?.slice(5);
    // A transition that keeps the task file keeps its parent's tree: the server has it already.
    if (tree && !(expected !== null && treeOf(readLooseObject(objectsDir, expected)) === tree)) addTree(tree);
  }
  return encodePack([...objects.values()]);
}

function encodePack(objects: readonly LooseObject[]): Buffer {
  const zlib = zlibModule();
  const head = Buffer.alloc(12);
  head.write('PACK', 0, 'latin1');
  head.writeUInt32BE(2, 4);
  head.writeUInt32BE(objects.length, 8);
  const parts: Buffer[] = [head];
  for (const object of objects) {
    // Type and size: 3 type bits and 4 size bits, then 7 size bits per byte while the top bit says more.
    const bytes: number[] = [];
    let size = object.body.length;
    let byte = (TYPES[object.type] << 4) | (size & 15);
    size = Math.floor(size / 16);
    while (size > 0) {
      bytes.push(byte | 0x80);
      byte = size & 0x7f;
      size = Math.floor(size / 128);
    }
    bytes.push(byte);
    parts.push(Buffer.from(bytes), zlib.deflateSync(object.body));
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([body, cryptoModule().createHash('sha1').update(body).digest()]);
}
