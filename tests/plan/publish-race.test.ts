// Two machines publishing one plan to a shared store at the same moment (two runs started
// together): both read the store before either wrote, one add loses the compare-and-swap, and
// that publish compares again and skips what the other wrote, instead of failing the run.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePlanText } from '../../src/plan/load-plan.ts';
import { publishPlan } from '../../src/plan/publish-plan.ts';
import { GitRemoteStore } from '../../src/store/git-remote/git-remote-store.ts';
import { cloneRepo, createBareRepo } from '../helpers/git-server.ts';
import { tempDir } from '../helpers/temp-dir.ts';

describe('publishPlan racing another publish of the same plan', () => {
  it('the loser skips the tasks the winner wrote; a different plan under the same ids is still refused', async () => {
    const base = tempDir('pa-publish-race-');
    const url = `file://${createBareRepo(base)}`;
    const stores = ['a', 'b'].map((name) => {
      const clone = cloneRepo(url, join(base, name));
      return new GitRemoteStore({ cwd: clone, remote: 'origin', localDir: join(clone, '_tasks'), env: {} });
    });
    // Each publish's first listing returns only once both have listed: both decide from an empty store.
    let listed = 0;
    let bothListed: () => void = () => {};
    const barrier = new Promise<void>((resolve) => (bothListed = resolve));
    const racing = stores.map((store) => {
      let first = true;
      return {
        description: store.description,
        add: store.add.bind(store),
        async list(options?: { staleAfterMs?: number }) {
          const result = await store.list(options);
          if (first) {
            first = false;
            if (++listed === 2) bothListed();
            await barrier;
          }
          return result;
        },
      };
    });
    const plan = await parsePlanText('name: p\ntasks:\n  - {id: a, title: A, files: [a.txt], prompt: do a}\n  - {id: b, title: B, files: [b.txt], depends_on: [a], prompt: do b}\n', 'p.yaml');
    const results = await Promise.all(racing.map((store) => publishPlan(store, plan)));
    expect(results.map((result) => [result.published.length, result.skipped.length]).sort()).toStrictEqual([[0, 2], [2, 0]]);
    expect((await stores[0]!.list()).tasks.map((task) => [task.id, task.state])).toStrictEqual([['a', 'available'], ['b', 'available']]);

    const other = await parsePlanText('name: p\ntasks:\n  - {id: a, title: Another A, files: [a.txt], prompt: do a}\n', 'p.yaml');
    await expect(publishPlan(stores[1]!, other)).rejects.toThrow(/task "a" already exists \(available\) with a different title/);
  });
});
