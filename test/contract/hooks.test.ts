/**
 * Hook contracts through the public kernel API: stages order taps whatever the install order, plugin
 * taps are named and lazily activated, beforeToolCall fails closed on a hanging or throwing guard,
 * resolveTools may drop tools but never invent one, and a plugin that registers more than its manifest
 * declares is refused at enable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ROOT, buildFixture, copyFixture, tempDir } from '../helpers/cli.js';

const api = await import(join(ROOT, 'dist/core/index.js'));

async function kernelWith(fixtures: string[]) {
  const home = tempDir('cad-hooks-');
  const k = new api.Kernel({ home, bundledDir: join(ROOT, 'plugins') });
  await api.installPlugin(k, join(ROOT, 'examples/hello'));
  await api.enablePlugin(k, 'hello', { yes: true });
  for (const f of fixtures) {
    const dir = copyFixture(f);
    await buildFixture(dir);
    await api.installPlugin(k, dir);
    await api.enablePlugin(k, f, { yes: true });
  }
  return k;
}

describe('hook stages and waterfalls', () => {
  let k: any;
  beforeAll(async () => {
    // AUDIT-stage plugin installed first: order must come from stages, not registration order.
    k = await kernelWith(['guard-audit', 'guard-first']);
  });
  afterAll(() => k?.close());

  it('runs afterToolCall taps GUARD before AUDIT regardless of install order', async () => {
    const r = await k.callTool('hello_greet', { name: 'Ada' }, { caller: 'operator' });
    expect(r).toMatchObject({ ok: true, result: { greeting: 'Hello, Ada![guard][audit]' } });
  });

  it('names each tap after its plugin (the kernel names taps, not the plugin)', () => {
    const names = k.hooks.afterToolCall.taps.map((t: { name: string; stage: number }) => [t.name, t.stage]);
    expect(names).toEqual(expect.arrayContaining([['plugin:guard-first', -100], ['plugin:guard-audit', 100]]));
    expect(Object.isFrozen(k.hooks)).toBe(true);
  });

  it('lets resolveTools drop tools but never add one', async () => {
    const visible = (await k.resolveToolsForModel()).map((t: { name: string }) => t.name);
    expect(visible).toContain('hello_greet');
    expect(visible).not.toContain('hello_count');
    expect(visible).not.toContain('invented_tool');
  });

  it('never shows a model a tool that cannot run', async () => {
    await api.revokePermissions(k, 'hello', ['kv']);
    await api.disablePlugin(k, 'guard-first');
    const tools = await k.resolveToolsForModel();
    // Bundled plugins on by default (files, …) add their own tools; of the installed ones only hello_greet can run.
    const bundled = new Set(k.plugins().filter((p: { bundled: boolean }) => p.bundled).map((p: { id: string }) => p.id));
    expect(tools.filter((t: { plugin: string }) => !bundled.has(t.plugin)).map((t: { name: string }) => t.name)).toEqual(['hello_greet']);
    expect(tools.every((t: { status: string }) => t.status === 'available')).toBe(true);
    const all = k.listTools();
    expect(all.find((t: { name: string }) => t.name === 'hello_count')).toMatchObject({ status: 'unavailable', fix: 'caduceus plugins grant hello kv' });
  });
});

describe('beforeToolCall fails closed', () => {
  it('denies the call when a guard throws, and audits it', async () => {
    const k = await kernelWith(['guard-throw']);
    try {
      const r = await k.callTool('hello_greet', { name: 'Ada' }, { caller: 'operator' });
      expect(r.ok).toBe(false);
      expect(r.error.code).toBe('CAD_ERR_TOOL_DENIED');
      expect(r.error.message).toContain("guard 'guard-throw' failed");
      expect(r.error.message).toContain('guard exploded');
      const rows = k.tailAudit(20);
      expect(rows.find((x: any) => x.kind === 'tool.call' && x.tool === 'hello_greet')).toMatchObject({ outcome: 'denied', code: 'CAD_ERR_TOOL_DENIED' });
      expect(rows.find((x: any) => x.kind === 'hook.error')).toMatchObject({ plugin: 'guard-throw', code: 'CAD_ERR_HOOK_FAILED' });
      // The guard lets other tools through, and the plugin that threw is still serving.
      expect((await k.callTool('hello_count', { name: 'Ada' }, { caller: 'operator' })).ok).toBe(true);
    } finally {
      await k.close();
    }
  });

  it('denies the call when a guard never answers (hook timeout)', async () => {
    const k = await kernelWith(['guard-hang']);
    try {
      const r = await k.callTool('hello_greet', { name: 'Ada' }, { caller: 'operator' });
      expect(r.ok).toBe(false);
      expect(r.error.code).toBe('CAD_ERR_TOOL_DENIED');
      expect(r.error.message).toContain('CAD_ERR_HOOK_TIMEOUT');
      expect(k.tailAudit(20).some((x: any) => x.kind === 'hook.error' && x.code === 'CAD_ERR_HOOK_TIMEOUT' && x.plugin === 'guard-hang')).toBe(true);
    } finally {
      await k.close();
    }
  });
});

describe('declared vs registered capabilities', () => {
  it('refuses to enable a plugin whose code registers an undeclared tool, leaving it disabled', async () => {
    const k = await kernelWith([]);
    try {
      await api.installPlugin(k, join(ROOT, 'test/fixtures/plugins/undeclared-tool'));
      await expect(api.enablePlugin(k, 'undeclared-tool', { yes: true })).rejects.toMatchObject({
        code: 'CAD_ERR_REGISTRY_UNDECLARED', plugin: 'undeclared-tool', message: expect.stringContaining("'sneaky_tool'"),
      });
      expect(k.plugin('undeclared-tool').enabled).toBe(false);
      expect((await k.callTool('hello_greet', { name: 'Ada' }, { caller: 'operator' })).ok).toBe(true);
    } finally {
      await k.close();
    }
  });
});

describe('pluginLoad vetting', () => {
  it('two vetting plugins do not wait on each other, and a veto refuses the load', async () => {
    const k = await kernelWith(['load-vetter-a', 'load-vetter-b']);
    try {
      const r = await k.callTool('hello_greet', { name: 'Ada' }, { caller: 'operator' });
      expect(r.ok).toBe(true);
      await expect(api.enablePlugin(k, 'clock', { yes: true })).rejects.toMatchObject({
        code: 'CAD_ERR_PLUGIN_LOAD_FAILED', message: expect.stringContaining("clock is not allowed here (veto by 'load-vetter-a')"),
      });
      expect(k.plugin('clock').enabled).toBe(false);
    } finally {
      await k.close();
    }
  });
});

describe('consent covers hooks', () => {
  it('refuses to enable a plugin that taps hooks without consent, naming the hooks', async () => {
    const k = await kernelWith([]);
    try {
      const dir = copyFixture('guard-throw');
      await buildFixture(dir);
      await api.installPlugin(k, dir);
      await expect(api.enablePlugin(k, 'guard-throw', {})).rejects.toMatchObject({
        code: 'CAD_ERR_PERMISSION_CONSENT_REQUIRED', message: expect.stringContaining('hook:beforeToolCall'),
      });
      let shown: { permission: string; meaning: string }[] = [];
      await expect(api.enablePlugin(k, 'guard-throw', { ask: async (_id: string, items: typeof shown) => { shown = items; return false; } }))
        .rejects.toMatchObject({ code: 'CAD_ERR_PERMISSION_CONSENT_REQUIRED' });
      expect(shown).toEqual([{ permission: 'hook:beforeToolCall', meaning: expect.stringContaining('see every tool call') }]);
      expect(k.plugin('guard-throw').enabled).toBe(false);
    } finally {
      await k.close();
    }
  });
});

describe('tool-scoped guards', () => {
  it('are asked once per tool and caller, never see arguments, and their denials still hold', async () => {
    const k = await kernelWith(['scoped-guard']);
    try {
      for (let i = 0; i < 3; i++) expect((await k.callTool('hello_greet', { name: `n${i}` }, { caller: 'operator' })).ok).toBe(true);
      for (let i = 0; i < 2; i++) {
        const denied = await k.callTool('hello_count', { name: 'x' }, { caller: 'operator' });
        expect(denied.error).toMatchObject({ code: 'CAD_ERR_TOOL_DENIED', message: expect.stringContaining('counting is off') });
      }
      expect((await k.callTool('hello_greet', { name: 'y' }, { caller: 'model' })).ok).toBe(true);
      const stats = await k.callTool('scoped_stats', {}, { caller: 'operator' });
      // hello_greet/operator, hello_count/operator, hello_greet/model, scoped_stats/operator
      expect(stats.result).toEqual({ asked: 4, sawArgs: false });
    } finally {
      await k.close();
    }
  });
});

describe('bundled guards', () => {
  it('are tapped in the very first kernel of a fresh home (regression: bundled sync once built hooks too early)', async () => {
    const home = tempDir('cad-first-kernel-');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(home, 'config.json'), JSON.stringify({ plugins: { 'tool-policy': { deny: ['hello_greet'] } } }));
    const k = new api.Kernel({ home, bundledDir: join(ROOT, 'plugins') });
    try {
      expect(k.hooks.beforeToolCall.taps.map((t: { name: string }) => t.name)).toEqual(['plugin:tool-policy']);
      await api.installPlugin(k, join(ROOT, 'examples/hello'));
      await api.enablePlugin(k, 'hello', { yes: true });
      const r = await k.callTool('hello_greet', { name: 'Ada' }, { caller: 'operator' });
      expect(r.error).toMatchObject({ code: 'CAD_ERR_TOOL_DENIED', message: expect.stringContaining("matches deny pattern 'hello_greet'") });
    } finally {
      await k.close();
    }
  });
});

describe('model-facing tool list', () => {
  it('hides the tools of a plugin whose bundle changed since install', async () => {
    const k = await kernelWith([]);
    try {
      expect((await k.resolveToolsForModel()).map((t: { name: string }) => t.name)).toContain('hello_greet');
      const { appendFileSync } = await import('node:fs');
      appendFileSync(join(k.home, 'plugins/hello/dist/index.js'), '\n// tampered\n');
      k.invalidate();
      expect((await k.resolveToolsForModel()).map((t: { name: string }) => t.name)).not.toContain('hello_greet');
    } finally {
      await k.close();
    }
  });
});
