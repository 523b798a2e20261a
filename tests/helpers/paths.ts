import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const TEST_BUNDLE = join(REPO_ROOT, '.test-build', 'parallel-agents.cjs');
/** tests/fixtures/<name>.ts is bundled to <FIXTURE_BUILD_DIR>/<name>.cjs by the global setup. */
export const FIXTURE_BUILD_DIR = join(REPO_ROOT, '.test-build', 'fixtures');

export function fixturePath(name: string): string {
  return join(FIXTURE_BUILD_DIR, `${name}.cjs`);
}
