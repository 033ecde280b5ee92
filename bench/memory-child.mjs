// Child process of bench/run.mjs (run with --no-node-snapshot --expose-gc): the memory of idle active
// plugins. Opens a kernel on a home holding N enabled hello-NN plugins, warms the host up on the first
// one (module loading, the guard's isolate, ajv), then activates the rest by calling one tool of each,
// and reports (RSS after − RSS before) / plugins and each isolate's heap. Prints one JSON line.
//   node --no-node-snapshot --expose-gc bench/memory-child.mjs <home>
import { Kernel } from '../dist/core/index.js';
import { BUNDLED_DIR, settleGc, sleep } from './lib.mjs';

const home = process.argv[2];
if (!home) throw new Error('usage: memory-child.mjs <home>');
if (typeof globalThis.gc !== 'function') throw new Error('memory-child.mjs needs --expose-gc');

async function settle() {
  for (let i = 0; i < 3; i++) {
    settleGc(2);
    await sleep(50);
  }
  return process.memoryUsage();
}

const k = new Kernel({ home, bundledDir: BUNDLED_DIR });
const plugins = k.plugins().filter((p) => p.enabled && /^hello-\d+$/.test(p.id)).sort((a, b) => a.id.localeCompare(b.id));
if (plugins.length < 2) throw new Error(`expected enabled hello-NN plugins in ${home}, found ${plugins.length}`);
const greetOf = (p) => p.manifest.contributes.tools.find((t) => t.name.startsWith('hello_greet')).name;

const call = async (p) => {
  const r = await k.callTool(greetOf(p), { name: 'Ada' }, { caller: 'operator' });
  if (!r.ok) throw new Error(`${greetOf(p)} failed: ${r.error.code} ${r.error.message}`);
};

// Warm-up on the first plugin: loads zod/ajv/isolated-vm, starts the tool-policy guard, compiles schemas.
const [first, ...rest] = plugins;
for (let i = 0; i < 200; i++) await call(first);
const before = await settle();
for (const p of rest) {
  await call(p);
  await call(p);
}
const after = await settle();
const heaps = rest.map((p) => k.activeHeapBytes(p.id));
const active = rest.filter((p) => k.isActive(p.id)).length;
const out = {
  plugins: rest.length,
  active,
  guardActive: k.isActive('tool-policy'),
  before: { rss: before.rss, heapUsed: before.heapUsed, external: before.external },
  after: { rss: after.rss, heapUsed: after.heapUsed, external: after.external },
  rssPerPlugin: (after.rss - before.rss) / rest.length,
  hostHeapPerPlugin: (after.heapUsed - before.heapUsed) / rest.length,
  isolateHeapMean: heaps.reduce((a, b) => a + b, 0) / heaps.length,
  isolateHeapMax: Math.max(...heaps),
  isolateHeapMin: Math.min(...heaps),
};
await k.close();
process.stdout.write(`${JSON.stringify(out)}\n`);
