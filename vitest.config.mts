import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    globalSetup: ['tests/helpers/global-setup.ts'],
    pool: 'forks',
    // Most tests wait on child processes (the CLI, git, Claude Code), so two workers overlap those
    // waits even on 2 cores; vitest's default there is one.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    clearMocks: true,
    restoreMocks: true,
  },
});
