#!/usr/bin/env -S node --no-node-snapshot
// The caduceus launcher. isolated-vm needs --no-node-snapshot on Node >= 20; the shebang passes it.
// When started some other way (e.g. `node bin/caduceus.js` on a system whose env lacks -S), re-exec once.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

if (!process.execArgv.includes('--no-node-snapshot')) {
  const r = spawnSync(process.execPath, ['--no-node-snapshot', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const { main } = await import('../dist/core/cli/main.js');
await main(process.argv);
