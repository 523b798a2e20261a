// Adversarial checks of the git-remote store's promises where earlier tests did not look: the
// git-push path's view of dependencies, holders killed mid-transition, and the observations a
// recoverer keeps. Real git, real processes.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GitRemoteStore } from '../../src/store/git-remote/git-remote-store.ts';
import { cloneRepo, createBareRepo, gitIn } from '../helpers/git-server.ts';
import { tempDir } from '../helpers/temp-dir.ts';

function shared(): { bare: string; clone(name: string): string } {
  const base = tempDir('pa-remote-review-');
  const bare = createBareRepo(base);
  return { bare, clone: (name) => cloneRepo(`file://${bare}`, join(base, name)) };
}

const open = (clone: string): GitRemoteStore => new GitRemoteStore({ cwd: clone, remote: 'origin', localDir: join(clone, '_tasks'), env: {} });

describe('a claim over git push (ssh, https, a rewritten URL)', () => {
  it('a dependency completed in the clone\'s cache but reopened on another machine since holds its dependents back', async () => {
    const { bare, clone } = shared();
    const other = open(clone('other'));
    const pushed = clone('pushed');
    // insteadOf: git decides how to reach the remote, so every push is git push (as over ssh or https).
    gitIn(pushed, 'config', `url.file://${bare}.insteadOf`, 'shared:');
    gitIn(pushed, 'remote', 'set-url', 'origin', 'shared:');
    const runner = open(pushed);
    await other.add([{ id: 'd', title: 'dependency' }, { id: 'x', title: 'needs d', depends_on: ['d'] }]);
    const dep = await other.claim({ agent: 'o', task: 'd' });
    await other.complete({ agent: 'o', task: 'd', token: dep.token });
    expect((await runner.get('d'))?.state).toBe('completed'); // the cache now says d is done
    await other.reopen({ task: 'd', commit: undefined, reason: 'verify refused it' });
    const claimed = await runner.claim({ agent: 'r' });
    expect(runner.transport.stats.direct).toBe(0);
    // d is failed on the remote: its dependent must not start on work that was refused.
    expect(claimed.task.id).toBe('d');
    expect(gitIn(bare, 'log', '-1', '--format=%s', 'refs/parallel/store/tasks/x')).toMatch(/^add x/);
  });
});
