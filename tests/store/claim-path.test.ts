import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newHolderToken, proofOf, validateToken } from '../../src/store/holder-proof.ts';
import { openTestStore } from '../helpers/store-fixtures.ts';
import { codeOf } from '../helpers/outcome.ts';

// The claim path's shortcuts: tokens drawn from a pool of random bytes, a one-shot hash, and a
// claimer that moves past the tasks it took instead of copying its list. Each must hand out what
// the plain version did.

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('holder tokens', () => {
  it('are 32 hex characters, never repeat across pool refills, and prove by the SHA-256 of the token', () => {
    const tokens = Array.from({ length: 700 }, () => newHolderToken());
    expect(new Set(tokens).size).toBe(tokens.length);
    for (const token of tokens) {
      expect(validateToken(token)).toBe(token);
      expect(proofOf(token)).toBe(createHash('sha256').update(token).digest('hex').slice(0, 16));
    }
    // An all-zero token would mean the pool handed out bytes it had already wiped.
    expect(tokens).not.toContain('0'.repeat(32));
  });
});

describe('a long-lived claimer', () => {
  it('hands out tasks in order when a role skips some, a rival takes some and a released one comes back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pa-claim-path-'));
    dirs.push(dir);
    const store = await openTestStore(join(dir, '_tasks'));
    const rival = await openTestStore(join(dir, '_tasks'));
    await store.add([
      { id: 'a', title: 'a', role: 'x' },
      { id: 'b', title: 'b' },
      { id: 'c', title: 'c', role: 'x' },
      { id: 'd', title: 'd' },
      { id: 'e', title: 'e' },
      { id: 'f', title: 'f' },
    ]);
    const taken: string[] = [];
    const claim = async (on: typeof store, role?: string): Promise<string> => {
      const { task, token } = await on.claim({ agent: on === store ? 'dev-1' : 'dev-2', ...(role ? { role } : {}) });
      expect(proofOf(token)).toBe(task.claim!.lease.split('-')[1]);
      taken.push(task.id);
      return task.id;
    };
    expect(await claim(store, 'x')).toBe('a');
    // Skipping b for its role must keep b for the next claim.
    expect(await claim(store, 'x')).toBe('c');
    expect(await claim(store)).toBe('b');
    // The rival's first listing still shows a, b and c: their renames fail and it moves on.
    expect(await claim(rival)).toBe('d');
    const held = await store.claim({ agent: 'dev-1' });
    expect(held.task.id).toBe('e');
    await store.release({ agent: 'dev-1', task: 'e', token: held.token });
    // e is back in available/, behind the claimer's listing: the next claims still find it.
    expect(await claim(rival)).toBe('e');
    expect(await claim(store)).toBe('f');
    expect(await codeOf(store.claim({ agent: 'dev-1' }))).toBe('E_NOTHING_CLAIMABLE');
    expect(await codeOf(rival.claim({ agent: 'dev-2', role: 'x' }))).toBe('E_NOTHING_CLAIMABLE');
    expect(taken.sort()).toStrictEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });
});
