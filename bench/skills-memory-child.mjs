// Child process of bench/skills.mjs (run with --no-node-snapshot --expose-gc): the extra RSS of watching
// the skills in <project>/.caduceus/skills. Indexes them without watching (`skills list`), settles, reads
// RSS; then runs `skills watch` (which starts chokidar on every skill folder), waits until the watches
// are ready, settles, reads RSS again. Prints one JSON line.
//   node --no-node-snapshot --expose-gc bench/skills-memory-child.mjs <home> <project>
import { Kernel, runPluginCommand } from '../dist/core/index.js';
import { BUNDLED_DIR, settleGc, sleep } from './lib.mjs';

const [home, project] = process.argv.slice(2);
if (!home || !project) throw new Error('usage: skills-memory-child.mjs <home> <project>');
if (typeof globalThis.gc !== 'function') throw new Error('skills-memory-child.mjs needs --expose-gc');

async function settle() {
  for (let i = 0; i < 3; i++) {
    settleGc(2);
    await sleep(100);
  }
  return process.memoryUsage();
}

const quiet = { print: () => undefined, error: () => undefined };
const k = new Kernel({ home, workspace: project, bundledDir: BUNDLED_DIR });
let listed = '';
const r = await runPluginCommand(k, 'skills', ['list'], { json: true, print: (t) => (listed += t), error: () => undefined });
if (r.exitCode !== 0) throw new Error(`skills list exited ${r.exitCode}`);
const count = JSON.parse(listed).skills.length;
// A second run, so whatever the first one loaded (modules, compiled code) is in the baseline.
await runPluginCommand(k, 'skills', ['list'], { json: true, ...quiet });
const before = await settle();

const ac = new AbortController();
let ready = false;
const watching = runPluginCommand(k, 'skills', ['watch'], { json: true, print: (t) => { if (t.includes('"type":"ready"')) ready = true; }, error: () => undefined, signal: ac.signal });
for (let i = 0; i < 200 && !ready; i++) await sleep(50);
if (!ready) throw new Error('skills watch never printed ready');
// chokidar reads every folder before it reports ready; then the plugin rescans once.
await sleep(4000);
const after = await settle();
ac.abort();
await watching;
await k.close();
process.stdout.write(`${JSON.stringify({
  skills: count,
  before: { rss: before.rss, heapUsed: before.heapUsed, external: before.external },
  after: { rss: after.rss, heapUsed: after.heapUsed, external: after.external },
  watchRss: after.rss - before.rss,
})}\n`);
