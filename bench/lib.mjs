// Shared helpers for the benchmark suite (bench/run.mjs and its child scripts): paths, temp homes,
// timing loops and percentile summaries, and generation of distinct copies of examples/hello.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = join(ROOT, 'bin/caduceus.js');
export const BUNDLED_DIR = join(ROOT, 'plugins');
export const HELLO_DIR = join(ROOT, 'examples/hello');

/**
 * Re-executes the current script once with the flags it needs (isolated-vm needs --no-node-snapshot;
 * --expose-gc lets the bench settle the heap between sections). Returns only in the re-executed process.
 */
export function ensureFlags(flags) {
  const missing = flags.filter((f) => !process.execArgv.includes(f));
  if (missing.length === 0) return;
  const r = spawnSync(process.execPath, [...missing, ...process.execArgv, process.argv[1], ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const temps = [];
/** A temp folder removed by cleanupTemps(). */
export function tempDir(prefix = 'cad-bench-') {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}
export function cleanupTemps() {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Forces a full GC if the process runs with --expose-gc. */
export function settleGc(times = 2) {
  if (typeof globalThis.gc !== 'function') return false;
  for (let i = 0; i < times; i++) globalThis.gc();
  return true;
}

/** p50/p90/p99/mean/min of a sample (nearest-rank percentiles), in the sample's unit. */
export function summarize(values) {
  const s = Float64Array.from(values).sort();
  const n = s.length;
  const pct = (p) => s[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))];
  let sum = 0;
  for (const v of s) sum += v;
  return { n, p50: pct(0.5), p90: pct(0.9), p99: pct(0.99), mean: sum / n, min: s[0], max: s[n - 1] };
}

/** Times an async function: `warm` untimed calls, then `n` calls each timed with hrtime (µs). */
export async function timeAsync(fn, { warm = 2000, n = 20000 } = {}) {
  for (let i = 0; i < warm; i++) await fn();
  settleGc(1);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    out[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return summarize(out);
}

/**
 * Times several functions (async or sync) in the same period: after `warm` untimed calls of each, they take turns
 * in blocks of `block` calls (the order rotating every round) until each has `n` timed calls, so a
 * change in machine load during the run affects all of them alike. Returns one summary per function.
 */
export async function timeInterleaved(fns, { warm = 2000, n = 20000, block = 500 } = {}) {
  for (let i = 0; i < warm; i++) for (const f of fns) await f();
  settleGc(1);
  // A function may be synchronous: it is then timed without an await.
  const outs = fns.map(() => new Float64Array(n));
  for (let done = 0, round = 0; done < n; done += block, round++) {
    const m = Math.min(block, n - done);
    for (let r = 0; r < fns.length; r++) {
      const j = (r + round) % fns.length;
      const f = fns[j];
      const out = outs[j];
      for (let i = 0; i < m; i++) {
        const t0 = process.hrtime.bigint();
        const r = f();
        if (r !== undefined && typeof r.then === 'function') await r;
        out[done + i] = Number(process.hrtime.bigint() - t0) / 1000;
      }
    }
  }
  return outs.map(summarize);
}

/** Same as timeAsync for a synchronous function (no await in the timed region). */
export function timeSync(fn, { warm = 2000, n = 20000 } = {}) {
  for (let i = 0; i < warm; i++) fn();
  settleGc(1);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    out[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return summarize(out);
}

/**
 * Writes a distinct copy of the built examples/hello plugin: id `hello-NN`, tools `hello_greet_NN` and
 * `hello_count_NN` (renamed in the manifest and in the bundle, which must register exactly the declared
 * names). Returns where it is and what it contributes.
 */
export function makeHelloVariant(parent, n) {
  const tag = String(n).padStart(2, '0');
  const id = `hello-${tag}`;
  const greet = `hello_greet_${tag}`;
  const count = `hello_count_${tag}`;
  const manifest = JSON.parse(readFileSync(join(HELLO_DIR, 'caduceus.plugin.json'), 'utf8'));
  const mainRel = manifest.main;
  const bundlePath = join(HELLO_DIR, mainRel);
  if (!existsSync(bundlePath)) throw new Error(`examples/hello is not built (${bundlePath} is missing). Run \`npm run build\` first.`);
  let bundle = readFileSync(bundlePath, 'utf8');
  const renames = { hello_greet: greet, hello_count: count };
  for (const [from, to] of Object.entries(renames)) {
    const needle = JSON.stringify(from);
    const hits = bundle.split(needle).length - 1;
    if (hits !== 1) throw new Error(`expected exactly one ${needle} in the hello bundle, found ${hits}; the bench's renaming needs updating`);
    bundle = bundle.replace(needle, JSON.stringify(to));
  }
  delete manifest.$schema;
  manifest.id = id;
  manifest.name = `Hello ${tag}`;
  for (const t of manifest.contributes.tools) {
    if (!(t.name in renames)) throw new Error(`unexpected tool ${t.name} in examples/hello`);
    t.name = renames[t.name];
  }
  const dir = join(parent, id);
  mkdirSync(join(dir, dirname(mainRel)), { recursive: true });
  writeFileSync(join(dir, 'caduceus.plugin.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(dir, mainRel), bundle);
  const pkg = JSON.parse(readFileSync(join(HELLO_DIR, 'package.json'), 'utf8'));
  pkg.name = `caduceus-plugin-${id}`;
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  return { dir, id, greet, count };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
