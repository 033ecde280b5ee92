// Profiling helper (not part of `npm run bench`): a fresh home with examples/hello and the bundled
// tool-policy guard, then `hello_greet` (or the tool named by argv[2]) called in a loop for a few seconds.
// Run it under a profiler, e.g.
//   node --no-node-snapshot --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile-call.mjs [hello_greet|hello_count] [seconds]
import { BUNDLED_DIR, HELLO_DIR, cleanupTemps, tempDir, summarize } from './lib.mjs';

const { Kernel, installPlugin, enablePlugin } = await import('../dist/core/index.js');
const tool = process.argv[2] ?? 'hello_greet';
const seconds = Number(process.argv[3] ?? 5);
const k = new Kernel({ home: tempDir('cad-bench-prof-'), bundledDir: BUNDLED_DIR });
try {
  await installPlugin(k, HELLO_DIR);
  await enablePlugin(k, 'hello', { yes: true });
  const call = async () => {
    const r = await k.callTool(tool, { name: 'Ada' }, { caller: 'operator' });
    if (!r.ok) throw new Error(`${tool}: ${r.error.code}: ${r.error.message}`);
  };
  for (let i = 0; i < 2000; i++) await call();
  const times = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const t0 = process.hrtime.bigint();
    await call();
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  const s = summarize(times);
  process.stdout.write(`${tool}: ${s.n} calls, p50 ${s.p50.toFixed(1)} µs, p90 ${s.p90.toFixed(1)} µs, mean ${s.mean.toFixed(1)} µs\n`);
} finally {
  await k.close();
  cleanupTemps();
}
