import { join } from 'node:path';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const TEST_BUNDLE = join(REPO_ROOT, '.test-build', 'parallel-agents.cjs');
