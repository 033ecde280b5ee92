import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// isolated-vm needs --no-node-snapshot on Node >= 20, and refuses to run in worker threads: forks pool.
export default defineConfig({
  // Colocated unit tests of first-party plugins import their sources, which import 'caduceus/sdk'; inside
  // a plugin folder that name does not resolve to this package (the plugin's own package.json is nearer).
  resolve: { alias: [{ find: /^caduceus\/sdk$/, replacement: fileURLToPath(new URL('./sdk/index.ts', import.meta.url)) }] },
  test: {
    pool: 'forks',
    execArgv: ['--no-node-snapshot'],
    maxWorkers: 2,
    include: ['test/**/*.test.ts', 'core/**/*.test.ts', 'sdk/**/*.test.ts', 'plugins/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
