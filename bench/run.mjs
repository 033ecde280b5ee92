// The Caduceus benchmark suite: measures the performance goals of the design brief against the built
// dist/ and writes docs/performance.md (machine, each number with its goal and PASS/FAIL, how to
// reproduce). Run it with `npm run bench` (builds first). Options:
//   --out <file>   where to write the report (default docs/performance.md)
//   --quick        fewer iterations, for checking the harness itself (numbers are not representative)
//   --only mcp     run only section 6 and print it (docs/performance.md is left alone); --only skills: section 8
//
// What it measures:
//   1. a sandboxed synchronous tool call through the whole pipeline, with the bundled tool-policy guard
//      tapped in its own isolate; for context the same without the guard and a bare isolated-vm round trip
//   2. a tool that awaits a syscall (hello_count → kv)
//   3. `caduceus tools list` wall time with 1, 10 and 50 installed plugins vs `node --no-node-snapshot -e 0`
//   4. RSS and isolate heap of an idle active plugin (in a child process with --expose-gc)
//   5. audit log throughput, and that no committed audit row is lost when the writer is SIGKILLed
//   6. a tool call through `caduceus mcp serve` over stdio vs a plain MCP stdio round trip (bench/mcp.mjs)
//   7. the agent runner's overhead for a turn with one tool call, model answering at once (bench/runner.mjs)
//   8. skills: 1,000 skills indexed at start, an edit visible to skills_list, RSS of watching them (bench/skills.mjs)
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import {
  BIN, BUNDLED_DIR, HELLO_DIR, ROOT, cleanupTemps, ensureFlags, makeHelloVariant, settleGc, summarize,
  tempDir, timeAsync, timeInterleaved, timeSync,
} from './lib.mjs';
import { benchMcp, MCP_GOAL_RATIO } from './mcp.mjs';
import { benchRunner, RUNNER_GOAL_MS } from './runner.mjs';
import { benchSkills, skillsMarkdown, skillsRows } from './skills.mjs';

ensureFlags(['--no-node-snapshot', '--expose-gc']);

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const outIdx = argv.indexOf('--out');
const OUT = outIdx >= 0 ? argv[outIdx + 1] : join(ROOT, 'docs/performance.md');
const onlyIdx = argv.indexOf('--only');
const ONLY = onlyIdx >= 0 ? argv[onlyIdx + 1] : undefined;
if (ONLY !== undefined && ONLY !== 'mcp' && ONLY !== 'skills') throw new Error(`--only ${ONLY}: the sections that run alone are: mcp, skills`);
const SKILLS_LOOP = QUICK ? { rounds: 1, edits: 5 } : { rounds: 5, edits: 30 };
const RUNNER_LOOP = QUICK ? { warm: 20, n: 100 } : { warm: 100, n: 1000 };
const MCP_LOOP = QUICK ? { warm: 200, n: 1000, rounds: 1 } : { warm: 1000, n: 6000, rounds: 3 };

const LOOP = QUICK ? { warm: 300, n: 3000 } : { warm: 2000, n: 20000 };
const STEP_LOOP = QUICK ? { warm: 300, n: 2000 } : { warm: 2000, n: 10000 };
const CLI_ROUNDS = QUICK ? 5 : 15;
const CLI_COUNTS = [1, 10, 50];
const MEMORY_PLUGINS = 50;
const AUDIT_EVENTS = QUICK ? 20_000 : 200_000;
const AUDIT_CHUNKS = 10;
const KILL_TRIALS = QUICK ? 1 : 3;
const KILL_AFTER_MS = 1000;

const GOALS = {
  syncP50: 25, // µs, required
  syncAim: 12, // µs, aim
  asyncP50: 40, // µs
  listRatio: 1.5, // × node -e 0
  listFlat: 1.1, // 50-plugin time / 1-plugin time (the bench's reading of "flat in plugin count")
  rssPerPlugin: 2 * 1024 * 1024, // bytes
  auditRate: 50_000, // events/s
  buildMs: 1000, // `caduceus plugin build` of the scaffolded plugin, wall clock
};

const childEnv = (extra = {}) => {
  const env = { ...process.env, NO_COLOR: '1', ...extra };
  delete env.CADUCEUS_LOG;
  return env;
};

const log = (m) => process.stderr.write(`[bench] ${m}\n`);
const fmtUs = (v) => `${v.toFixed(1)} µs`;
const fmtMs = (v) => `${v.toFixed(1)} ms`;
const fmtMB = (b) => `${(b / (1024 * 1024)).toFixed(2)} MB`;
const fmtInt = (v) => Math.round(v).toLocaleString('en-US');
const verdict = (ok) => (ok ? 'PASS' : 'FAIL');

let api;
async function loadApi() {
  api = {
    ...(await import('../dist/core/index.js')),
    ...(await import('../dist/core/validate.js')),
    ...(await import('../dist/core/audit.js')),
  };
}

// ---------------------------------------------------------------------------------------------------
// 1 + 2. Tool-call latency
// ---------------------------------------------------------------------------------------------------
async function benchCalls() {
  const { Kernel, installPlugin, enablePlugin, disablePlugin, compileSchema, digest } = api;
  // Home A: examples/hello with the bundled tool-policy guard (enabled by default) tapping beforeToolCall.
  const k = new Kernel({ home: tempDir('cad-bench-calls-'), bundledDir: BUNDLED_DIR });
  await installPlugin(k, HELLO_DIR);
  await enablePlugin(k, 'hello', { yes: true });
  if (!k.isEnabled('tool-policy')) throw new Error('the bundled tool-policy guard is not enabled in a fresh home');
  // Home B: the same with tool-policy disabled before the kernel opens, so beforeToolCall has no tap at all.
  const homeB = tempDir('cad-bench-calls-noguard-');
  let kb = new Kernel({ home: homeB, bundledDir: BUNDLED_DIR });
  await installPlugin(kb, HELLO_DIR);
  await enablePlugin(kb, 'hello', { yes: true });
  await disablePlugin(kb, 'tool-policy');
  await kb.close();
  kb = new Kernel({ home: homeB, bundledDir: BUNDLED_DIR });
  if (kb.hooks.beforeToolCall.isUsed()) throw new Error('beforeToolCall is still tapped after disabling tool-policy');

  const expectOk = (r) => {
    if (!r.ok) throw new Error(`${r.tool} failed: ${r.error.code}: ${r.error.message}`);
  };
  const caller = { caller: 'operator' };
  const greet = () => k.callTool('hello_greet', { name: 'Ada' }, caller).then(expectOk);
  const count = () => k.callTool('hello_count', { name: 'Ada' }, caller).then(expectOk);
  const greetB = () => kb.callTool('hello_greet', { name: 'Ada' }, caller).then(expectOk);
  const countB = () => kb.callTool('hello_count', { name: 'Ada' }, caller).then(expectOk);

  const out = { guard: {}, noGuard: {}, steps: {}, bare: {} };
  log(`hello_greet, guard on and off interleaved (${LOOP.warm} warm-up + ${LOOP.n} timed calls each)`);
  [out.guard.sync, out.noGuard.sync] = await timeInterleaved([greet, greetB], LOOP);
  out.guard.active = k.isActive('tool-policy') && k.hooks.beforeToolCall.isUsed();
  if (!out.guard.active) throw new Error('the tool-policy guard did not run during the guarded measurement');
  log('hello_count (awaits the kv syscall), guard on and off interleaved');
  [out.guard.async, out.noGuard.async] = await timeInterleaved([count, countB], LOOP);
  await kb.close();

  // Where the time goes: each pipeline step on its own, with the same inputs runToolCall uses.
  log('timing the pipeline steps one by one');
  const name = 'hello_greet';
  const view = k.toolView(name);
  const args = { name: 'Ada' };
  const argsJson = JSON.stringify(args);
  const validateArgs = compileSchema(view.inputSchema);
  const validateResult = compileSchema(view.resultSchema);
  const result = { greeting: 'Hello, Ada!' };
  const resultJson = JSON.stringify(result);
  const info = { tool: name, plugin: view.plugin, args, caller: 'operator', mutating: view.mutating };
  const guardRt = k.runtimeFor('tool-policy');
  const toolRt = k.runtimeFor('hello');
  const hookOpts = { timeoutMs: 2000, maxBytes: 4 * 1024 * 1024, thrownCode: 'CAD_ERR_HOOK_FAILED', hook: 'beforeToolCall' };
  const toolOpts = { timeoutMs: view.timeoutMs, maxBytes: view.maxResultBytes, thrownCode: 'CAD_ERR_TOOL_FAILED', tool: name };
  const argsDigest = digest(argsJson);
  const resultDigest = digest(resultJson);
  const s = out.steps;
  s.lookup = timeSync(() => k.toolView(name), STEP_LOOP);
  s.validateArgs = timeSync(() => { if (!validateArgs({ name: 'Ada' })) throw new Error('args invalid'); }, STEP_LOOP);
  s.argsJson = timeSync(() => JSON.stringify(args), STEP_LOOP);
  // hello_count: the same pipeline around a tool whose handler awaits kv.get and kv.set.
  const countView = k.toolView('hello_count');
  const countOpts = { timeoutMs: countView.timeoutMs, maxBytes: countView.maxResultBytes, thrownCode: 'CAD_ERR_TOOL_FAILED', tool: 'hello_count' };
  // The asynchronous steps take turns, so they are comparable with each other.
  [s.hook, s.guardInvoke, s.toolInvoke, s.countInvoke] = await timeInterleaved([
    () => k.hooks.beforeToolCall.promise(info),
    () => guardRt.invoke('hook', 'beforeToolCall', JSON.stringify(info), hookOpts),
    () => toolRt.invoke('tool', name, argsJson, toolOpts),
    () => toolRt.invoke('tool', 'hello_count', argsJson, countOpts),
  ], STEP_LOOP);
  s.validateResult = timeSync(() => { if (!validateResult(result)) throw new Error('result invalid'); }, STEP_LOOP);
  s.resultJson = timeSync(() => JSON.stringify(result), STEP_LOOP);
  s.digests = timeSync(() => { digest(argsJson); digest(resultJson); }, STEP_LOOP);
  s.auditRow = timeSync(() => k.audit({
    ts: Date.now(), kind: 'tool.call', plugin: 'hello', tool: name, caller: 'operator', outcome: 'ok', durationUs: 20, argsDigest, resultDigest,
  }), STEP_LOOP);
  s.awaitFloor = await timeAsync(async () => undefined, STEP_LOOP);
  s.kvGet = timeSync(() => k.store.kvGet('hello', 'count:Ada'), STEP_LOOP);
  let kvN = 0;
  s.kvSet = timeSync(() => k.store.kvSet('hello', 'count:Bench', String(++kvN)), STEP_LOOP);

  // A bare isolated-vm round trip with a JSON string, in the same run.
  log('bare isolated-vm applySync round trip');
  const ivm = (await import('isolated-vm')).default;
  const isolate = new ivm.Isolate({ memoryLimit: 64 });
  const context = isolate.createContextSync();
  const fn = context.evalSync(
    '(function (s) { const a = JSON.parse(s); return JSON.stringify({ ok: { greeting: "Hello, " + a.name + "!" } }); })',
    { reference: true },
  );
  const withTimeout = { timeout: 1000 };
  [out.bare.plain, out.bare.timeout] = await timeInterleaved([
    () => { fn.applySync(undefined, ['{"name":"Ada"}']); },
    () => { fn.applySync(undefined, ['{"name":"Ada"}'], withTimeout); },
  ], LOOP);
  fn.release();
  context.release();
  isolate.dispose();

  await k.close();
  return out;
}

// ---------------------------------------------------------------------------------------------------
// 3. `caduceus tools list` wall time
// ---------------------------------------------------------------------------------------------------
async function makeHomes(variants) {
  const { Kernel, installPlugin, enablePlugin } = api;
  const homes = {};
  for (const count of CLI_COUNTS) {
    const t0 = performance.now();
    const home = tempDir(`cad-bench-list${count}-`);
    const k = new Kernel({ home, bundledDir: BUNDLED_DIR });
    for (const v of variants.slice(0, count)) {
      await installPlugin(k, v.dir);
      await enablePlugin(k, v.id, { yes: true });
    }
    await k.close();
    homes[count] = home;
    log(`home with ${count} plugin(s) installed and enabled in ${fmtMs(performance.now() - t0)}`);
  }
  return homes;
}

function shuffle(list) {
  const a = [...list];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function benchToolsList(homes) {
  const configs = [{ key: 'floor', args: ['--no-node-snapshot', '-e', '0'], env: childEnv() }];
  for (const count of CLI_COUNTS) {
    configs.push({ key: `p${count}`, count, args: ['--no-node-snapshot', BIN, 'tools', 'list'], env: childEnv({ CADUCEUS_HOME: homes[count] }) });
  }
  const runOnce = (c) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, c.args, { env: c.env, cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${c.key}: \`node ${c.args.join(' ')}\` exited ${r.status ?? r.signal}: ${r.stderr}`);
    return ms;
  };
  // Correctness first: each home lists 2 available tools per plugin.
  for (const c of configs) {
    if (!c.count) continue;
    const r = spawnSync(process.execPath, [...c.args, '--json'], { env: c.env, cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`tools list --json failed with ${c.count} plugins: ${r.stderr}`);
    const tools = JSON.parse(r.stdout).filter((t) => /^hello-\d+$/.test(t.plugin));
    const available = tools.filter((t) => t.status === 'available').length;
    if (tools.length !== 2 * c.count || available !== tools.length) {
      throw new Error(`expected ${2 * c.count} available hello-NN tools with ${c.count} plugins, got ${tools.length} (${available} available)`);
    }
  }
  log(`tools list: 2 warm-up runs per configuration, then ${CLI_ROUNDS} rounds in shuffled order`);
  for (const c of configs) for (let i = 0; i < 2; i++) runOnce(c);
  const times = Object.fromEntries(configs.map((c) => [c.key, []]));
  for (let round = 0; round < CLI_ROUNDS; round++) {
    const order = shuffle(configs);
    for (const c of order) times[c.key].push(runOnce(c));
  }
  const stats = Object.fromEntries(Object.entries(times).map(([key, t]) => [key, summarize(t)]));
  const floor = stats.floor.p50;
  return {
    stats,
    floor,
    ratio: Object.fromEntries(CLI_COUNTS.map((n) => [n, stats[`p${n}`].p50 / floor])),
    flat: stats.p50.p50 / stats.p1.p50,
    perPluginMs: (stats.p50.p50 - stats.p1.p50) / 49,
  };
}

// ---------------------------------------------------------------------------------------------------
// 4. Memory of idle active plugins (child process, --expose-gc)
// ---------------------------------------------------------------------------------------------------
function benchMemory(home) {
  log(`memory: activating ${MEMORY_PLUGINS} plugins in a child kernel`);
  const r = spawnSync(process.execPath, ['--no-node-snapshot', '--expose-gc', join(ROOT, 'bench/memory-child.mjs'), home], {
    env: childEnv(), cwd: ROOT, encoding: 'utf8', timeout: 180_000,
  });
  if (r.status !== 0) throw new Error(`memory child failed (${r.status ?? r.signal}): ${r.stderr}`);
  const m = JSON.parse(r.stdout.trim().split('\n').pop());
  if (m.active !== m.plugins) throw new Error(`only ${m.active} of ${m.plugins} plugins were active in the memory child`);
  return m;
}

// ---------------------------------------------------------------------------------------------------
// 5. Audit log: throughput and SIGKILL durability
// ---------------------------------------------------------------------------------------------------
async function benchAuditRate() {
  const { Kernel, digest } = api;
  const home = tempDir('cad-bench-audit-');
  let k = new Kernel({ home });
  const argsDigest = digest('{"name":"Ada"}');
  const resultDigest = digest('{"greeting":"Hello, Ada!"}');
  const event = (i) => ({
    ts: Date.now(), kind: 'tool.call', plugin: 'hello', tool: 'hello_greet', caller: 'operator', outcome: 'ok',
    durationUs: 10 + (i & 63), argsDigest, resultDigest,
  });
  const WARM = 2000;
  for (let i = 0; i < WARM; i++) k.audit(event(i));
  await new Promise((r) => setImmediate(r));
  settleGc(1);
  log(`audit: appending ${fmtInt(AUDIT_EVENTS)} events through kernel.audit()`);
  const chunk = AUDIT_EVENTS / AUDIT_CHUNKS;
  const chunkRates = [];
  const t0 = process.hrtime.bigint();
  let i = 0;
  for (let c = 0; c < AUDIT_CHUNKS; c++) {
    const tc = process.hrtime.bigint();
    for (let j = 0; j < chunk; j++) k.audit(event(i++));
    chunkRates.push(chunk / (Number(process.hrtime.bigint() - tc) / 1e9));
  }
  // One event-loop turn, so a store that buffers events commits what it holds inside the timed region.
  await new Promise((r) => setImmediate(r));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  await k.close();
  // Count what reached the store, after reopening it.
  k = new Kernel({ home });
  const rows = k.store.db.prepare("SELECT count(*) FROM audit WHERE kind = 'tool.call'").pluck().get();
  await k.close();
  if (rows !== WARM + AUDIT_EVENTS) throw new Error(`audit throughput: appended ${WARM + AUDIT_EVENTS} events but the store holds ${rows}`);
  return { events: AUDIT_EVENTS, seconds, rate: AUDIT_EVENTS / seconds, minChunkRate: Math.min(...chunkRates), maxChunkRate: Math.max(...chunkRates) };
}

function killTrial(trial) {
  const { Kernel } = api;
  const home = tempDir(`cad-bench-kill${trial}-`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-node-snapshot', join(ROOT, 'bench/audit-writer-child.mjs'), home, '250'], {
      env: childEnv(), cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    let stderr = '';
    let last = 0;
    let killTimer;
    const safety = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line === 'ready' && !killTimer) killTimer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
        else if (/^\d+$/.test(line)) last = Math.max(last, Number(line));
      }
      // A trailing partial line is a report cut by the kill: it is not counted as reported.
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', async (code, signal) => {
      clearTimeout(safety);
      clearTimeout(killTimer);
      if (signal !== 'SIGKILL') {
        reject(new Error(`audit writer ended with ${code ?? signal} instead of being killed: ${stderr}`));
        return;
      }
      try {
        // Reopen the store the way the product does (WAL recovery happens here) and count.
        const k = new Kernel({ home });
        const integrity = k.store.db.pragma('integrity_check', { simple: true });
        const row = k.store.db.prepare(
          `SELECT count(*) AS total, coalesce(max(duration_us), 0) AS maxN, count(DISTINCT duration_us) AS distinctN,
                  coalesce(sum(duration_us <= ?), 0) AS upToLast
           FROM audit WHERE kind = 'bench.sigkill'`,
        ).get(last);
        await k.close();
        const lost = last - row.upToLast;
        resolve({
          trial, lastReported: last, rows: row.total, maxN: row.maxN, lost, integrity,
          contiguous: row.distinctN === row.total && row.maxN === row.total,
          ok: last > 0 && lost === 0 && integrity === 'ok' && row.distinctN === row.total,
        });
      } catch (err) {
        reject(err);
      }
    });
  });
}

/**
 * Issue #3's number: building a small plugin takes at most a second. The scaffolded plugin is built
 * through the real command (a new process each time, as an author runs it), after one warm-up build.
 */
function benchBuild() {
  const dir = join(tempDir('cad-bench-build-'), 'benchplugin');
  const run = (args) => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['--no-node-snapshot', BIN, ...args], { env: childEnv(), encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`caduceus ${args.join(' ')} failed: ${r.stderr}`);
    return performance.now() - t0;
  };
  run(['plugin', 'new', 'benchplugin', '--dir', dir]);
  run(['plugin', 'build', dir]);
  const times = Array.from({ length: QUICK ? 3 : 9 }, () => run(['plugin', 'build', dir]));
  return summarize(times);
}

async function benchAudit() {
  const rate = await benchAuditRate();
  const kills = [];
  for (let t = 1; t <= KILL_TRIALS; t++) {
    log(`audit: SIGKILL trial ${t}/${KILL_TRIALS} (writer killed after ~${KILL_AFTER_MS} ms)`);
    kills.push(await killTrial(t));
  }
  return { rate, kills, killOk: kills.every((k) => k.ok) };
}

// ---------------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------------
function versionOf(pkg) {
  try {
    return JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return '?';
  }
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    ramGiB: os.totalmem() / 1024 ** 3,
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version,
    ivm: versionOf('isolated-vm'),
    sqlite: versionOf('better-sqlite3'),
    date: new Date().toISOString(),
  };
}

function goals(r) {
  const { calls, list, memory, audit, build } = r;
  return [
    { id: '1', what: 'Sandboxed sync tool call, whole pipeline, guard on — p50', value: fmtUs(calls.guard.sync.p50), goal: `≤ ${GOALS.syncP50} µs (required)`, pass: calls.guard.sync.p50 <= GOALS.syncP50 },
    { id: '1', what: 'Same call — p50 against the aim', value: fmtUs(calls.guard.sync.p50), goal: `≤ ${GOALS.syncAim} µs (aim)`, pass: calls.guard.sync.p50 <= GOALS.syncAim },
    { id: '2', what: 'Tool awaiting a kv syscall (hello_count), guard on — p50', value: fmtUs(calls.guard.async.p50), goal: `≤ ${GOALS.asyncP50} µs`, pass: calls.guard.async.p50 <= GOALS.asyncP50 },
    { id: '3', what: '`caduceus tools list`, 50 plugins ÷ `node --no-node-snapshot -e 0`', value: `${list.ratio[50].toFixed(2)}× (${fmtMs(list.stats.p50.p50)} vs ${fmtMs(list.floor)})`, goal: `≤ ${GOALS.listRatio}×`, pass: list.ratio[50] <= GOALS.listRatio },
    { id: '3', what: '`caduceus tools list` flat in plugin count: 50 plugins ÷ 1 plugin', value: `${list.flat.toFixed(2)}× (${list.perPluginMs >= 0 ? '+' : ''}${list.perPluginMs.toFixed(2)} ms/plugin)`, goal: `≤ ${GOALS.listFlat}×`, pass: list.flat <= GOALS.listFlat },
    { id: '4', what: `Idle active plugin: RSS growth per plugin (${memory.plugins} plugins)`, value: fmtMB(memory.rssPerPlugin), goal: '≤ 2 MB', pass: memory.rssPerPlugin <= GOALS.rssPerPlugin },
    { id: '5', what: 'Audit log sustained throughput', value: `${fmtInt(audit.rate.rate)} events/s`, goal: `≥ ${fmtInt(GOALS.auditRate)} events/s`, pass: audit.rate.rate >= GOALS.auditRate },
    { id: 'SDK', what: '`caduceus plugin build` of the scaffolded plugin (new process) — p50', value: fmtMs(build.p50), goal: `≤ ${GOALS.buildMs} ms`, pass: build.p50 <= GOALS.buildMs },
    mcpRow(r.mcp),
    { id: '7', what: 'Runner overhead, one turn with one tool call, model answering at once — p50', value: fmtMs(r.runner.p50 / 1000), goal: `≤ ${RUNNER_GOAL_MS} ms`, pass: r.runner.p50 / 1000 <= RUNNER_GOAL_MS },
    ...skillsRows(r.skills),
    { id: '5', what: 'Audit rows lost on SIGKILL of the writer', value: `${audit.kills.reduce((a, k) => a + Math.max(0, k.lost), 0)} lost of ${fmtInt(audit.kills.reduce((a, k) => a + k.lastReported, 0))} reported (${audit.kills.length} trials)`, goal: 'none lost', pass: audit.killOk },
  ];
}

function latencyRow(label, s) {
  return `| ${label} | ${s.p50.toFixed(1)} | ${s.p90.toFixed(1)} | ${s.p99.toFixed(1)} | ${s.mean.toFixed(1)} |`;
}

function renderMarkdown(r) {
  const { m, calls, list, memory, audit, loadStart, loadEnd, elapsedS } = r;
  const rows = goals(r);
  // The bench itself keeps about one core busy, so only a high load at the start says others were working.
  const busy = loadStart[0] > m.cores * 0.75;
  const s = calls.steps;
  const stepRows = [
    ['Registry lookup (`kernel.toolView`)', s.lookup],
    ['Args validation (compiled ajv schema)', s.validateArgs],
    ['Args to JSON', s.argsJson],
    ['beforeToolCall hook, total (tapable + tap + guard isolate)', s.hook],
    ['↳ of which the guard isolate call (`invoke("hook")`)', s.guardInvoke],
    ['Tool isolate call (`invoke("tool")`: applySync + JSON decode)', s.toolInvoke],
    ['Result validation (compiled ajv schema)', s.validateResult],
    ['Result to JSON', s.resultJson],
    ['Two sha256 digests (args, result)', s.digests],
    ['Audit row (`kernel.audit`: what the store does before it returns)', s.auditRow],
    ['Timing floor (an empty `await` in the timed loop)', s.awaitFloor],
  ];
  const sumSteps = [s.lookup, s.validateArgs, s.argsJson, s.hook, s.toolInvoke, s.validateResult, s.resultJson, s.digests, s.auditRow].reduce((a, x) => a + x.p50, 0);
  const L = [];
  L.push('# Performance', '');
  L.push(`Measured by \`bench/run.mjs\` on ${m.date.slice(0, 10)} (${m.date}); the run took ${elapsedS.toFixed(0)} s.${QUICK ? ' **Quick mode (`--quick`): fewer iterations, numbers are not representative.**' : ''}`, '');
  L.push('## Machine', '');
  L.push('| | |', '|---|---|');
  L.push(`| CPU | ${m.cpu} |`, `| Cores | ${m.cores} |`, `| RAM | ${m.ramGiB.toFixed(1)} GiB |`, `| OS | ${m.os} |`, `| Node | ${m.node} |`);
  L.push(`| isolated-vm / better-sqlite3 | ${m.ivm} / ${m.sqlite} |`);
  L.push(`| Load average (1 min) at start / end | ${loadStart[0].toFixed(2)} / ${loadEnd[0].toFixed(2)} |`, '');
  if (busy) L.push(`> The machine was busy when this run started (1-minute load average ${loadStart[0].toFixed(2)} on ${m.cores} cores), so timings are noisier and slower than on a quiet machine. Rerun on a quiet machine before comparing against the goals.`, '');
  L.push('## Goals', '');
  L.push('| # | Measure | Measured | Goal | Result |', '|---|---|---|---|---|');
  for (const g of rows) L.push(`| ${g.id} | ${g.what} | ${g.value} | ${g.goal} | **${verdict(g.pass)}** |`);
  L.push('');

  L.push('## 1–2. Tool-call latency', '');
  L.push(`Each call is \`kernel.callTool(name, { name: 'Ada' }, { caller: 'operator' })\` on the public API, awaited one at a time: ${fmtInt(LOOP.warm)} warm-up calls, then ${fmtInt(LOOP.n)} calls each timed with \`process.hrtime.bigint()\`. "Guard on" and "guard off" run in the same period, taking turns in blocks of 500 calls, so a change in machine load hits both alike. The pipeline runs in full: registry lookup, status and trust checks, args validated against the inputSchema, the beforeToolCall hook (the bundled, enabled-by-default tool-policy guard, tapped in its own isolate), the call in the plugin's isolate, result validated against the resultSchema, and the audit row. "Guard off" is a second home where tool-policy was disabled before the kernel opened, so beforeToolCall has no tap at all.`, '');
  L.push('| Call | p50 µs | p90 µs | p99 µs | mean µs |', '|---|---|---|---|---|');
  L.push(latencyRow('`hello_greet` (sync, read-only), guard on', calls.guard.sync));
  L.push(latencyRow('`hello_greet`, guard off', calls.noGuard.sync));
  L.push(latencyRow('`hello_count` (awaits kv.get + kv.set), guard on', calls.guard.async));
  L.push(latencyRow('`hello_count`, guard off', calls.noGuard.async));
  L.push(latencyRow('Bare isolated-vm `applySync` round trip, JSON string in/out', calls.bare.plain));
  L.push(latencyRow('Same, with `{ timeout: 1000 }` (as the sandbox calls it)', calls.bare.timeout));
  L.push('');
  L.push(`The guard adds ${(calls.guard.sync.p50 - calls.noGuard.sync.p50).toFixed(1)} µs to the p50 of \`hello_greet\` and ${(calls.guard.async.p50 - calls.noGuard.async.p50).toFixed(1)} µs to that of \`hello_count\`. One tool call enters an isolate at least twice with the guard on (guard, tool), and a bare round trip costs ${calls.bare.timeout.p50.toFixed(1)} µs here, so the two isolate entries alone take about ${(2 * calls.bare.timeout.p50).toFixed(0)} µs of the ${GOALS.syncP50} µs budget.`, '');
  L.push('### Where the time of a guarded `hello_greet` call goes', '');
  L.push(`Each step of \`runToolCall\` timed on its own (${fmtInt(STEP_LOOP.n)} iterations after ${fmtInt(STEP_LOOP.warm)} warm-up, same inputs as the pipeline; the asynchronous steps — hook, guard call, tool calls — take turns in blocks of 500). Every timed iteration also carries the timer's own cost (the last row). The steps run in a tight loop, so their caches stay warm; inside a whole call they alternate, which is part of why the whole call costs more than the sum of its steps, the rest being the promise hand-offs between them.`, '');
  L.push('| Step | p50 µs | p90 µs | mean µs |', '|---|---|---|---|');
  for (const [label, st] of stepRows) L.push(`| ${label} | ${st.p50.toFixed(2)} | ${st.p90.toFixed(2)} | ${st.mean.toFixed(2)} |`);
  L.push(`| **Sum of the steps' p50 (without the sub-row and the floor)** | **${sumSteps.toFixed(1)}** | | |`);
  L.push(`| **Whole call, p50 (from the table above)** | **${calls.guard.sync.p50.toFixed(1)}** | | |`);
  L.push('');
  L.push('For `hello_count` the steps around the isolate call are the same; the isolate call itself is different:', '');
  L.push('| Step | p50 µs | p90 µs | mean µs |', '|---|---|---|---|');
  for (const [label, st] of [
    ['Tool isolate call of `hello_count` (handler awaits kv.get then kv.set: two host syscalls)', s.countInvoke],
    ['↳ host side of kv.get (`store.kvGet`, SQLite read)', s.kvGet],
    ['↳ host side of kv.set (`store.kvSet`, SQLite write)', s.kvSet],
  ]) L.push(`| ${label} | ${st.p50.toFixed(2)} | ${st.p90.toFixed(2)} | ${st.mean.toFixed(2)} |`);
  L.push('');

  L.push('## 3. `caduceus tools list` wall time', '');
  L.push(`\`node --no-node-snapshot bin/caduceus.js tools list\` run with \`spawnSync\` against homes holding 1, 10 and 50 installed and enabled plugins (distinct copies of examples/hello, two tools each, plus the bundled plugins), against the floor \`node --no-node-snapshot -e 0\` measured in the same run. Two warm-up runs each, then ${CLI_ROUNDS} rounds with the four commands in shuffled order; medians. Each home's listing is checked first (\`--json\`: 2 available tools per hello-NN plugin).`, '');
  L.push('| Command | median ms | p90 ms | min ms | ÷ floor |', '|---|---|---|---|---|');
  L.push(`| \`node --no-node-snapshot -e 0\` (floor) | ${list.stats.floor.p50.toFixed(1)} | ${list.stats.floor.p90.toFixed(1)} | ${list.stats.floor.min.toFixed(1)} | 1.00× |`);
  for (const n of CLI_COUNTS) {
    const st = list.stats[`p${n}`];
    L.push(`| \`caduceus tools list\`, ${n} plugin${n === 1 ? '' : 's'} | ${st.p50.toFixed(1)} | ${st.p90.toFixed(1)} | ${st.min.toFixed(1)} | ${list.ratio[n].toFixed(2)}× |`);
  }
  L.push('', `Flatness: 50 plugins take ${list.flat.toFixed(2)}× the 1-plugin time, ${list.perPluginMs.toFixed(2)} ms per extra plugin (the bench reads "flat" as ≤ ${GOALS.listFlat}×).`, '');

  L.push('## 4. Memory of an idle active plugin', '');
  L.push(`A child process (\`--expose-gc\`) opens a kernel on the 50-plugin home, warms the host up on the first plugin (200 calls: module loading, the guard's isolate, schema compilation), forces GC and reads RSS; then calls \`hello_greet_NN\` of each of the other ${memory.plugins} plugins (starting its isolate), forces GC again and reads RSS. Per plugin = (RSS after − RSS before) / ${memory.plugins}.`, '');
  L.push('| Measure | Value |', '|---|---|');
  L.push(`| RSS before → after | ${fmtMB(memory.before.rss)} → ${fmtMB(memory.after.rss)} |`);
  L.push(`| **RSS growth per idle active plugin** | **${fmtMB(memory.rssPerPlugin)}** |`);
  L.push(`| Isolate heap per plugin (\`kernel.activeHeapBytes(id)\`: total heap + external), mean (min–max) | ${fmtMB(memory.isolateHeapMean)} (${fmtMB(memory.isolateHeapMin)}–${fmtMB(memory.isolateHeapMax)}) |`);
  L.push(`| Host JS heap growth per plugin (\`heapUsed\`) | ${fmtMB(memory.hostHeapPerPlugin)} |`);
  L.push('', 'The isolate heap figure is the heap V8 has committed for the isolate (`total_heap_size` + external), not all of it touched, so it can exceed the RSS an isolate actually adds.', '');

  L.push('## 5. Audit log', '');
  L.push(`Throughput: ${fmtInt(audit.rate.events)} \`tool.call\` events (with args/result digests) appended one at a time through \`kernel.audit()\` (after ${fmtInt(2000)} warm-up events) in ${audit.rate.seconds.toFixed(2)} s, including one event-loop turn at the end so that whatever the store buffers is committed inside the timed region: **${fmtInt(audit.rate.rate)} events/s** (slowest tenth ${fmtInt(audit.rate.minChunkRate)}/s, fastest ${fmtInt(audit.rate.maxChunkRate)}/s). The store is then closed, reopened and the rows counted.`, '');
  L.push(`SIGKILL: a child process appends numbered events in a tight loop through \`kernel.audit()\` and writes the number of the last event whose \`kernel.audit()\` call has returned to a pipe every 250 events; it is SIGKILLed ~${KILL_AFTER_MS} ms after it starts. The store is then reopened through \`new Kernel()\` and every reported event must be there (\`integrity_check\` too).`, '');
  L.push('| Trial | Last reported | Rows in store | Lost | Contiguous 1…N | integrity_check | Result |', '|---|---|---|---|---|---|---|');
  for (const k of audit.kills) L.push(`| ${k.trial} | ${fmtInt(k.lastReported)} | ${fmtInt(k.rows)} | ${k.lost} | ${k.contiguous ? 'yes' : 'no'} | ${k.integrity} | ${verdict(k.ok)} |`);
  L.push('');

  L.push(...mcpMarkdown(r.mcp));
  L.push(...runnerMarkdown(r.runner));
  L.push(...skillsMarkdown(r.skills));
  L.push('## How to reproduce', '');
  L.push('```sh', 'npm run bench            # builds, runs bench/run.mjs, rewrites docs/performance.md', '```', '');
  L.push('`node --no-node-snapshot bench/run.mjs [--out file] [--quick] [--only mcp|skills]` runs it (or only section 6 or 8, printed, not written) without rebuilding (it re-executes itself with `--expose-gc`). It needs about a minute or two, creates its Caduceus homes under the system temp folder and removes them at the end. Close other work first: the numbers are wall-clock times on a shared machine. For a CPU profile of the call loop: `node --no-node-snapshot --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile-call.mjs`.');
  L.push('');
  return L.join('\n');
}

function printSummary(r) {
  const rows = goals(r);
  const out = [];
  out.push('', 'Caduceus benchmark', `${r.m.cpu} × ${r.m.cores}, ${r.m.ramGiB.toFixed(1)} GiB, Node ${r.m.node}, load ${r.loadStart[0].toFixed(2)} → ${r.loadEnd[0].toFixed(2)}`, '');
  const w = Math.max(...rows.map((g) => g.what.length));
  for (const g of rows) out.push(`  ${verdict(g.pass)}  ${g.what.padEnd(w)}  ${g.value}  (goal ${g.goal})`);
  const c = r.calls;
  out.push('', '  context (p50):');
  out.push(`    hello_greet guard off ${fmtUs(c.noGuard.sync.p50)}; hello_count guard off ${fmtUs(c.noGuard.async.p50)}`);
  out.push(`    bare isolated-vm applySync ${fmtUs(c.bare.plain.p50)} (with timeout ${fmtUs(c.bare.timeout.p50)})`);
  out.push(`    hello_count isolate call ${fmtUs(c.steps.countInvoke.p50)} (kv.get ${fmtUs(c.steps.kvGet.p50)}, kv.set ${fmtUs(c.steps.kvSet.p50)} on the host)`);
  out.push(`    steps: hook ${fmtUs(c.steps.hook.p50)} (guard isolate ${fmtUs(c.steps.guardInvoke.p50)}), tool isolate ${fmtUs(c.steps.toolInvoke.p50)}, audit row ${fmtUs(c.steps.auditRow.p50)}, validation ${fmtUs(c.steps.validateArgs.p50 + c.steps.validateResult.p50)}, digests ${fmtUs(c.steps.digests.p50)}`);
  out.push(`    tools list medians: floor ${fmtMs(r.list.floor)}, ${CLI_COUNTS.map((n) => `${n}: ${fmtMs(r.list.stats[`p${n}`].p50)}`).join(', ')}`);
  out.push(`    isolate heap per plugin ${fmtMB(r.memory.isolateHeapMean)}`);
  out.push('');
  process.stdout.write(`${out.join('\n')}\n`);
}

// ---------------------------------------------------------------------------------------------------
function runnerMarkdown(run) {
  const ms = (v) => (v / 1000).toFixed(2);
  return [
    '## 7. The agent runner\'s overhead for one turn', '',
    `One turn of \`caduceus run\` after start-up, in process (\`bench/runner.mjs\`): a new Agent (model resolution, context files, a new session row), the prompt through the \`buildPrompt\` hook, the tool list, two calls to the scripted-llm fixture provider (a real provider plugin in its own isolate that answers at once: first a tool call, then the answer), argument repair, \`hello_greet\` through the whole tool pipeline, and every session and audit row. The provider's own isolate time is included, so this is an upper bound on the runner's share. ${fmtInt(run.warm)} warm-up turns, then ${fmtInt(run.n)} timed turns.`, '',
    '| Turn | p50 ms | p90 ms | p99 ms | mean ms |', '|---|---|---|---|---|',
    `| One turn, one tool call | ${ms(run.p50)} | ${ms(run.p90)} | ${ms(run.p99)} | ${ms(run.mean)} |`, '',
  ];
}

function mcpRow(mcp) {
  return { id: '6', what: 'Tool call through `caduceus mcp serve` (stdio) ÷ plain MCP stdio round trip — p50', value: `${mcp.ratio.toFixed(2)}× (${fmtUs(mcp.serve.p50)} vs ${fmtUs(mcp.plain.p50)})`, goal: `≤ ${MCP_GOAL_RATIO}×`, pass: mcp.ratio <= MCP_GOAL_RATIO };
}

function mcpMarkdown(mcp) {
  const L = ['## 6. A tool call through `caduceus mcp serve`', ''];
  L.push(`Both sides are driven by the official SDK client over stdio, one call at a time, in the same run: a minimal SDK server (\`test/fixtures/mcp/minimal-server.mjs\`, \`McpServer\` with one \`greet\` tool) and \`caduceus mcp serve\` on a home with examples/hello enabled${mcp.guard ? ' and the bundled tool-policy guard tapped' : ''}, calling \`hello_greet\` through the whole pipeline (argument validation, guard, isolate, result schema, audit row). ${fmtInt(mcp.warm)} warm-up calls each, then ${fmtInt(mcp.n)} timed calls each, taking turns in blocks of ${mcp.block}; ${mcp.rounds.length === 1 ? 'one round' : `${mcp.rounds.length} rounds, each with both servers started afresh; the table shows the round with the median ratio (ratios of all rounds: ${mcp.rounds.map((r) => `${r.toFixed(2)}×`).join(', ')})`}.`, '');
  L.push('| Call | p50 µs | p90 µs | p99 µs | mean µs |', '|---|---|---|---|---|');
  L.push(latencyRow('Plain MCP stdio round trip (minimal SDK server)', mcp.plain));
  L.push(latencyRow('`hello_greet` through `caduceus mcp serve`', mcp.serve));
  L.push('', `Ratio of the medians: **${mcp.ratio.toFixed(2)}×** (goal ≤ ${MCP_GOAL_RATIO}×); the pipeline and the sandbox add ${(mcp.serve.p50 - mcp.plain.p50).toFixed(0)} µs to the round trip.`, '');
  return L;
}

async function onlySkills() {
  await loadApi();
  const skills = await benchSkills(api, SKILLS_LOOP, log);
  for (const g of skillsRows(skills)) process.stdout.write(`${verdict(g.pass)}  ${g.what}: ${g.value} (goal ${g.goal})\n`);
  process.stdout.write(`    load ${os.loadavg()[0].toFixed(2)}\n`);
}

async function onlyMcp() {
  await loadApi();
  const mcp = await benchMcp(api, MCP_LOOP, log);
  const g = mcpRow(mcp);
  process.stdout.write(`\n  ${verdict(g.pass)}  ${g.what}  ${g.value}  (goal ${g.goal})\n`);
  process.stdout.write(`    plain p50/p90/p99 ${fmtUs(mcp.plain.p50)} / ${fmtUs(mcp.plain.p90)} / ${fmtUs(mcp.plain.p99)}; serve ${fmtUs(mcp.serve.p50)} / ${fmtUs(mcp.serve.p90)} / ${fmtUs(mcp.serve.p99)}; rounds ${mcp.rounds.map((r) => `${r.toFixed(2)}×`).join(' ')}; load ${os.loadavg()[0].toFixed(2)}\n\n`);
}

async function main() {
  if (ONLY === 'mcp') return onlyMcp();
  if (ONLY === 'skills') return onlySkills();
  const started = performance.now();
  const loadStart = os.loadavg();
  const m = machine();
  log(`${m.cpu} × ${m.cores}, Node ${m.node}${QUICK ? ' (quick mode)' : ''}`);
  await loadApi();
  const calls = await benchCalls();
  settleGc();
  const srcRoot = tempDir('cad-bench-src-');
  const variants = Array.from({ length: Math.max(MEMORY_PLUGINS, ...CLI_COUNTS) }, (_, i) => makeHelloVariant(srcRoot, i + 1));
  const homes = await makeHomes(variants);
  settleGc();
  const list = benchToolsList(homes);
  const memory = benchMemory(homes[50]);
  const audit = await benchAudit();
  const build = benchBuild();
  const mcp = await benchMcp(api, MCP_LOOP, log);
  settleGc();
  const runner = await benchRunner(api, RUNNER_LOOP, log);
  settleGc();
  const skills = await benchSkills(api, SKILLS_LOOP, log);
  const loadEnd = os.loadavg();
  const r = { m, calls, list, memory, audit, build, mcp, runner, skills, loadStart, loadEnd, elapsedS: (performance.now() - started) / 1000 };
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, renderMarkdown(r));
  printSummary(r);
  log(`wrote ${relative(process.cwd(), OUT) || OUT} in ${r.elapsedS.toFixed(0)} s`);
}

let exiting = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (exiting) return;
    exiting = true;
    cleanupTemps();
    process.exit(130);
  });
}

try {
  await main();
} catch (err) {
  process.stderr.write(`[bench] failed: ${err?.stack ?? err}\n`);
  process.exitCode = 1;
} finally {
  cleanupTemps();
}
