import { runGit } from '../../repo/run-git.ts';

// Everything the git-remote store reads of this clone's git config, in one `git config` process:
// the remote's URLs, what would make git push act otherwise than a direct push (direct-push.ts),
// how refs are stored (cache-refs.ts), and the object format (what `rev-parse
// --show-object-format` reads). A command on a shared store spawns one git process for it, not three.

export interface RemoteConfig {
  /** remote.<name>.url, the last one as `git config --get` reads it; undefined when not configured. */
  url: string | undefined;
  /** Where git push would push: remote.<name>.pushurl values, else its url values. */
  pushUrls: string[];
  /** Config git push acts on that a direct push does not: a rewritten URL, another receive-pack or vcs, a proxy, protocol rules. */
  gitDecides: boolean;
  /** Refs may be written as loose files without git: the files backend, no forced reflog, no shared permissions. */
  filesBackend: boolean;
  objectFormat: string;
}

export function readRemoteConfig(repoRoot: string, remote: string): RemoteConfig {
  const name = remote.replace(/\./g, '\\.');
  const keys = `^(remote\\.${name}\\.(url|pushurl|receivepack|vcs)|url\\..*|protocol\\..*|core\\.(gitproxy|logallrefupdates|sharedrepository)|extensions\\.(objectformat|refstorage))$`;
  const out = runGit(['config', '-z', '--get-regexp', keys], { cwd: repoRoot, okExitCodes: [1] }).stdout;
  const entries = out.split('\0').filter((entry) => entry !== '').map((entry) => {
    const newline = entry.indexOf('\n');
    return newline < 0 ? [entry, ''] as const : [entry.slice(0, newline), entry.slice(newline + 1)] as const;
  });
  const values = (key: string): string[] => entries.filter(([found]) => found === key).map(([, value]) => value);
  const urls = values(`remote.${remote}.url`);
  const pushUrls = values(`remote.${remote}.pushurl`);
  return {
    url: urls[urls.length - 1],
    pushUrls: pushUrls.length > 0 ? pushUrls : urls,
    gitDecides: entries.some(([key]) => key.startsWith('url.') || /^protocol\.(.+\.)?allow$/.test(key) || key === 'core.gitproxy' || key === `remote.${remote}.receivepack` || key === `remote.${remote}.vcs`),
    filesBackend: !entries.some(([key, value]) => (key === 'extensions.refstorage' && value !== 'files') || (key === 'core.logallrefupdates' && value === 'always')
      || (key === 'core.sharedrepository' && !/^(false|umask|0|no|off|)$/i.test(value))),
    objectFormat: values('extensions.objectformat').pop() ?? 'sha1',
  };
}
