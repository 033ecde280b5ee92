#!/usr/bin/env -S node --no-node-snapshot
// The caduceus launcher. isolated-vm needs --no-node-snapshot on Node >= 20; the shebang passes it.
// When started some other way (e.g. `node bin/caduceus.js`), re-exec once with the flag.
if (!process.execArgv.includes('--no-node-snapshot')) {
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const r = spawnSync(process.execPath, ['--no-node-snapshot', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const { main } = await import('../dist/core/cli/main.js');
await main(process.argv);
