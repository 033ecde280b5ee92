/**
 * The dev loop and the testing kit (issue #3): hot reload swaps a whole generation (a call already
 * running finishes on the old code, the next call runs the new code, a broken change leaves the old
 * generation serving), through the public API and through `caduceus plugin dev`; and
 * `caduceus/sdk/testing` runs a plugin in a real isolate with chosen grants and fake syscalls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BIN, ROOT, makeHome, tempDir } from '../helpers/cli.js';
import { writePlugin } from '../helpers/plugin-folder.js';

const dist = (p: string) => import(join(ROOT, 'dist', p));

const versioned = (version: string) => `import { definePlugin, defineTool, z } from 'caduceus/sdk';
export default definePlugin({ tools: [defineTool({
  name: 'slow_version', description: 'waits on a fetch, then says which code answered', input: z.object({}),
  output: z.object({ version: z.string() }), timeoutMs: 10_000,
  handler: async (_args, ctx) => { await ctx.fetch('https://slow.example/'); return { version: '${version}' }; },
})] });`;

describe('hot reload through the public API (startDev + Kernel.reload)', () => {
  let dir: string;
  let home: string;
  beforeAll(() => {
    dir = writePlugin(tempDir('cad-dev-'), 'slow', versioned('v1'), { permissions: ['net:slow.example'] });
    home = mkdtempSync(join(tmpdir(), 'cad-dev-home-'));
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('finishes in-flight calls on the old generation, sends new calls to the new one, and keeps the old one on a bad change', async () => {
    const { Kernel } = await dist('core/index.js');
    const { startDev } = await dist('sdk/dev.js');
    let release: (() => void) | undefined;
    const k = new Kernel({ home, workspace: home, fakes: { fetch: () => new Promise((r) => { release = () => r('ok'); }) } });
    const events: any[] = [];
    const dev = await startDev(k, dir, { consent: { yes: true }, onEvent: (e: unknown) => events.push(e), debounceMs: 10_000 });
    try {
      expect(events[0]).toMatchObject({ type: 'ready', id: 'slow', tools: ['slow_version'] });
      const first = events[0].generation as number;

      const inFlight = k.callTool('slow_version', {}, { caller: 'operator' });
      await new Promise((r) => setTimeout(r, 50));
      expect(release).toBeTypeOf('function');
      const releaseOld = release!;
      writeFileSync(join(dir, 'src/index.ts'), versioned('v2'));
      await dev.rebuild();
      expect(events.at(-1)).toMatchObject({ type: 'reloaded', generation: first + 1, previous: first });

      const next = k.callTool('slow_version', {}, { caller: 'operator' });
      await new Promise((r) => setTimeout(r, 50));
      release!();
      releaseOld();
      expect(await inFlight).toMatchObject({ ok: true, result: { version: 'v1' } });
      expect(await next).toMatchObject({ ok: true, result: { version: 'v2' } });
      await new Promise((r) => setTimeout(r, 50));
      const unloads = k.tailAudit(100, { plugin: 'slow', kind: 'plugin.unload' });
      expect(unloads.map((u: any) => u.detail.generation)).toEqual([first]);

      // A change that does not build: reported, and generation first+1 keeps serving.
      writeFileSync(join(dir, 'src/index.ts'), `${versioned('v3')}\nthis is not typescript (`);
      await dev.rebuild();
      expect(events.at(-1)).toMatchObject({ type: 'failed', stage: 'build', live: first + 1, error: { code: 'CAD_ERR_BUILD_BUNDLE' } });
      // A change that builds but fails in the isolate (zod parsing is build-time only): also reported,
      // also leaves v2 live.
      writeFileSync(join(dir, 'src/index.ts'), `${versioned('v4')}\nz.string().parse('x');`);
      await dev.rebuild();
      expect(events.at(-1)).toMatchObject({ type: 'failed', stage: 'load', live: first + 1 });
      expect(events.at(-1).error.message).toContain('not available inside the Caduceus sandbox');
      const still = k.callTool('slow_version', {}, { caller: 'operator' });
      await new Promise((r) => setTimeout(r, 50));
      release!();
      expect(await still).toMatchObject({ ok: true, result: { version: 'v2' } });
    } finally {
      await dev.stop();
      await k.close();
    }
  });
});

describe('caduceus plugin dev', () => {
  it('rebuilds on save, hot-reloads, reports a broken save and keeps serving the last good generation', async () => {
    const home = makeHome();
    const work = tempDir('cad-dev-cli-');
    expect(home.run(['plugin', 'new', 'live'], { cwd: work }).code).toBe(0);
    const src = join(work, 'live/src/index.ts');
    const original = readFileSync(src, 'utf8');
    const child = spawn(BIN, ['plugin', 'dev', join(work, 'live'), '--yes', '--json'], { env: home.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const lines: any[] = [];
    const waiters: { test: (e: any) => boolean; done: (e: any) => void }[] = [];
    createInterface({ input: child.stdout }).on('line', (l) => {
      const e = JSON.parse(l);
      lines.push(e);
      for (const w of [...waiters]) if (w.test(e)) { waiters.splice(waiters.indexOf(w), 1); w.done(e); }
    });
    const next = (test: (e: any) => boolean) => new Promise<any>((done, fail) => {
      const seen = lines.find(test);
      if (seen) { lines.splice(lines.indexOf(seen), 1); return done(seen); }
      const t = setTimeout(() => fail(new Error(`timed out; saw ${JSON.stringify(lines)}; stderr ${stderr}`)), 20_000);
      waiters.push({ test, done: (e) => { clearTimeout(t); lines.splice(lines.indexOf(e), 1); done(e); } });
    });
    try {
      const ready = await next((e) => e.type === 'ready');
      child.stdin.write('live_greet {"name":"Ada"}\n');
      expect(await next((e) => e.type === 'result')).toMatchObject({ ok: true, result: { greeting: 'Hello, Ada!' }, generation: ready.generation });

      writeFileSync(src, original.replace('Hello, ', 'Hej, '));
      const reloaded = await next((e) => e.type === 'reloaded');
      expect(reloaded.generation).toBe(ready.generation + 1);
      child.stdin.write('live_greet {"name":"Ada"}\n');
      expect(await next((e) => e.type === 'result')).toMatchObject({ ok: true, result: { greeting: 'Hej, Ada!' } });

      writeFileSync(src, `${original}\nexport const = ;`);
      const failed = await next((e) => e.type === 'failed');
      expect(failed).toMatchObject({ stage: 'build', live: reloaded.generation, error: { code: 'CAD_ERR_BUILD_BUNDLE' } });
      expect(failed.error.message).toMatch(/src\/index\.ts:\d+:\d+/);
      child.stdin.write('live_greet {"name":"Bo"}\n');
      expect(await next((e) => e.type === 'result')).toMatchObject({ ok: true, result: { greeting: 'Hej, Bo!' }, generation: reloaded.generation });

      child.stdin.write('quit\n');
      const code = await new Promise((r) => child.on('close', r));
      expect(code, stderr).toBe(0);
    } finally {
      child.kill();
      home.cleanup();
    }
  });
});

describe('caduceus/sdk/testing', () => {
  let dir: string;
  beforeAll(async () => {
    dir = writePlugin(tempDir('cad-kit-'), 'probe', `import { definePlugin, defineTool, z } from 'caduceus/sdk';
export default definePlugin({ tools: [
  defineTool({ name: 'probe_weather', description: 'd', input: z.object({ city: z.string() }), output: z.object({ temp: z.number() }),
    handler: async ({ city }, ctx) => JSON.parse((await ctx.fetch('https://api.example.com/w?city=' + encodeURIComponent(city))).body) }),
  defineTool({ name: 'probe_env', description: 'd', input: z.object({}), handler: async (_a, ctx) => ({ key: await ctx.env.get('PROBE_KEY') }) }),
  defineTool({ name: 'probe_greet', description: 'd', input: z.object({ name: z.string() }), handler: (a, ctx) => ctx.tools.call('hello_greet', a) }),
  defineTool({ name: 'probe_config', description: 'd', input: z.object({}), handler: (_a, ctx) => ({ units: ctx.config.units ?? null }) }),
] });`, {
      permissions: ['net:api.example.com', 'env:PROBE_KEY', 'tools.call:hello_greet'],
      configSchema: { type: 'object', properties: { units: { enum: ['metric', 'imperial'] } }, additionalProperties: false },
    });
  });

  it('runs a tool in a real isolate against a fake fetch, past the real grant check', async () => {
    const { loadPlugin } = await dist('sdk/testing.js');
    const seen: string[] = [];
    const p = await loadPlugin(dir, { fakes: { fetch: (url: string) => { seen.push(url); return { json: { temp: 21 } }; } } });
    try {
      expect(await p.run('probe_weather', { city: 'Oslo' })).toEqual({ temp: 21 });
      expect(seen).toEqual(['https://api.example.com/w?city=Oslo']);
      expect(p.denied()).toEqual([]);
      const bad = await p.call('probe_weather', { city: 42 });
      expect(bad).toMatchObject({ ok: false, error: { code: 'CAD_ERR_TOOL_ARGS_INVALID' } });
      expect(p.audit().some((r: any) => r.kind === 'tool.call' && r.tool === 'probe_weather' && r.outcome === 'ok')).toBe(true);
    } finally {
      await p.close();
    }
  });

  it('records denied syscalls when a test withholds a grant, and the fake is never reached', async () => {
    const { loadPlugin } = await dist('sdk/testing.js');
    let reached = false;
    const p = await loadPlugin(dir, { build: false, grants: ['env:PROBE_KEY'], fakes: { fetch: () => { reached = true; return 'x'; }, env: { PROBE_KEY: 'k-123' } } });
    try {
      const r = await p.call('probe_weather', { city: 'Oslo' });
      expect(r.ok).toBe(false);
      expect(reached).toBe(false);
      expect(p.denied()).toEqual([{ syscall: 'net.fetch', permission: 'net:api.example.com', code: 'CAD_ERR_PERMISSION_DENIED' }]);
      expect(await p.run('probe_env')).toEqual({ key: 'k-123' });
      await p.setGrants([]);
      expect((await p.call('probe_env')).ok).toBe(false);
      expect(p.denied().map((d: any) => d.permission)).toEqual(['net:api.example.com', 'env:PROBE_KEY']);
    } finally {
      await p.close();
    }
  });

  it('calls another plugin: a fake tool, or the real plugin loaded alongside', async () => {
    const { loadPlugin } = await dist('sdk/testing.js');
    const fake = await loadPlugin(dir, { build: false, fakes: { tools: { hello_greet: (a: any) => ({ greeting: `fake ${a.name}` }) } } });
    try {
      expect(await fake.run('probe_greet', { name: 'Ada' })).toEqual({ greeting: 'fake Ada' });
    } finally {
      await fake.close();
    }
    const real = await loadPlugin(dir, { build: false, with: [join(ROOT, 'examples/hello')] });
    try {
      expect(await real.run('probe_greet', { name: 'Ada' })).toEqual({ greeting: 'Hello, Ada!' });
    } finally {
      await real.close();
    }
  });

  it('passes config through the plugin configSchema, and refuses a grant the manifest does not request', async () => {
    const { loadPlugin } = await dist('sdk/testing.js');
    const p = await loadPlugin(dir, { build: false, config: { units: 'metric' } });
    try {
      expect(await p.run('probe_config')).toEqual({ units: 'metric' });
    } finally {
      await p.close();
    }
    await expect(loadPlugin(dir, { build: false, grants: ['net:evil.example'] })).rejects.toThrow(/does not request 'net:evil.example'/);
    await expect(loadPlugin(dir, { build: false, config: { units: 'kelvin' } })).rejects.toMatchObject({ code: 'CAD_ERR_CONFIG_INVALID' });
  });
});
