import { defineConfig } from 'vitest/config';

// isolated-vm needs --no-node-snapshot on Node >= 20, and refuses to run in worker threads: forks pool.
export default defineConfig({
  test: {
    pool: 'forks',
    execArgv: ['--no-node-snapshot'],
    maxWorkers: 2,
    include: ['test/**/*.test.ts', 'core/**/*.test.ts', 'sdk/**/*.test.ts', 'plugins/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
