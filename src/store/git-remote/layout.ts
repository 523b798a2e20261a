import { CliError } from '../../errors.ts';

// The git-remote store's ref names, in one place (the README's "The git-remote store" is the spec).
//
// On the remote, shared by every machine:
//   refs/parallel/store/meta           the store exists: a root commit, created by init
//   refs/parallel/store/tasks/<id>     one task: a chain of commits, one per transition; the tree
//                                      holds task.md, the message says the state and the claim
//   refs/parallel/store/locks/verify   held while one verify merges; created only if absent
//   refs/heads/<task branch>           the task's work, pushed by complete with its done record
// On each clone, the values last seen there, from which every read starts (one fetch refreshes
// them all; a successful push moves them too):
//   refs/parallel/cache/<remote>/meta, .../tasks/<id>, .../locks/verify

export const STORE_NAMESPACE = 'refs/parallel/store/';
export const META = 'meta';
export const TASKS = 'tasks/';
export const VERIFY_LOCK = 'locks/verify';

/** Remote names become ref path components: no "/", nothing git would refuse. */
export const REMOTE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function validateRemoteName(remote: string): string {
  if (!REMOTE_NAME_PATTERN.test(remote) || remote.endsWith('.lock') || remote.includes('..')) {
    throw new CliError('E_USAGE', `--store "git:${remote}" does not name a git remote; use git:<remote> with the name of a configured remote, e.g. git:origin`);
  }
  return remote;
}

export class RefLayout {
  readonly remote: string;
  /** Where this clone keeps the values it last saw. */
  readonly cachePrefix: string;

  constructor(remote: string) {
    this.remote = validateRemoteName(remote);
    this.cachePrefix = `refs/parallel/cache/${remote}/`;
  }

  /** The remote ref of a name relative to the namespace (meta, tasks/<id>, locks/verify). */
  remoteRef(name: string): string {
    return `${STORE_NAMESPACE}${name}`;
  }

  cacheRef(name: string): string {
    return `${this.cachePrefix}${name}`;
  }

  taskName(id: string): string {
    return `${TASKS}${id}`;
  }

  /** The one refspec a fetch uses: the whole namespace, pruned, into this clone's cache. */
  fetchRefspec(): string {
    return `+${STORE_NAMESPACE}*:${this.cachePrefix}*`;
  }
}
