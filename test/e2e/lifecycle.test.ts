/**
 * The plugin lifecycle an operator drives with the built CLI: disable and re-enable, revoke and grant,
 * upgrade with a widened permission ceiling (re-consent), remove (folder, grants and kv gone), doctor,
 * and the bundled tool-policy guard configured to deny and to ask (non-interactive ask = deny).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, makeHome, tempDir, type Home } from '../helpers/cli.js';

describe('plugin lifecycle through the CLI', () => {
  let home: Home;
  beforeAll(() => {
    home = makeHome();
    expect(home.run(['plugins', 'install', 'examples/hello']).code).toBe(0);
    expect(home.run(['plugins', 'enable', 'hello', '--yes']).code).toBe(0);
  });
  afterAll(() => home.cleanup());

  const greet = () => home.run(['tools', 'call', 'hello_greet', '{"name":"Ada"}', '--json']);
  const tool = (name: string) => home.run(['tools', 'list', '--json']).json<any[]>().find((t) => t.name === name);

  it('discovers bundled plugins: the tool-policy guard enabled by default, clock opt-in', () => {
    const plugins = home.run(['plugins', 'list', '--json']).json<any[]>();
    expect(plugins.find((p) => p.id === 'tool-policy')).toMatchObject({ bundled: true, enabled: true });
    expect(plugins.find((p) => p.id === 'clock')).toMatchObject({ bundled: true, enabled: false });
    expect(home.run(['tools', 'list', '--json']).json<any[]>().find((t) => t.name === 'clock_now').status).toBe('disabled');
    // It requests no permissions, so enabling needs no consent.
    expect(home.run(['plugins', 'enable', 'clock']).code).toBe(0);
    const now = home.run(['tools', 'call', 'clock_now', '{"timeZone":"Asia/Kolkata"}', '--json']).json();
    expect(now.result).toMatchObject({ timeZone: 'Asia/Kolkata', offset: '+05:30' });
    expect(Math.abs(now.result.unixMs - Date.now())).toBeLessThan(60_000);
    expect(home.run(['plugins', 'disable', 'clock']).code).toBe(0);
  });

  it('disable makes tools disabled and calls fail with the fix; enable brings them back', () => {
    expect(home.run(['plugins', 'disable', 'hello']).code).toBe(0);
    expect(tool('hello_greet')).toMatchObject({ status: 'disabled', fix: 'caduceus plugins enable hello' });
    const r = greet();
    expect(r.code).toBe(1);
    expect(r.json().error).toMatchObject({ code: 'CAD_ERR_TOOL_UNAVAILABLE', plugin: 'hello' });
    expect(r.stderr).toContain('caduceus plugins enable hello');
    // Grants survive a disable, so re-enabling needs no new consent.
    expect(home.run(['plugins', 'enable', 'hello']).code).toBe(0);
    expect(greet().json().ok).toBe(true);
  });

  it('revoke makes a tool that needs the permission unavailable; grant restores it', () => {
    expect(home.run(['plugins', 'revoke', 'hello', 'kv']).code).toBe(0);
    expect(tool('hello_count')).toMatchObject({ status: 'unavailable', reason: "permission 'kv' is not granted", fix: 'caduceus plugins grant hello kv' });
    expect(tool('hello_greet').status).toBe('available');
    const denied = home.run(['tools', 'call', 'hello_count', '{"name":"x"}', '--json']);
    expect(denied.json().error.code).toBe('CAD_ERR_TOOL_UNAVAILABLE');
    expect(home.run(['plugins', 'grant', 'hello', 'kv']).code).toBe(0);
    expect(home.run(['tools', 'call', 'hello_count', '{"name":"x"}', '--json']).json().result).toEqual({ name: 'x', count: 1 });
  });

  it('upgrading to a version that asks for more leaves it disabled until the operator consents to the new permission', () => {
    const v2 = tempDir('cad-hello-v2-');
    cpSync(join(ROOT, 'examples/hello'), v2, { recursive: true });
    const m = JSON.parse(readFileSync(join(v2, 'caduceus.plugin.json'), 'utf8'));
    m.version = '1.1.0';
    m.permissions = ['kv', 'env:HELLO_STYLE'];
    writeFileSync(join(v2, 'caduceus.plugin.json'), JSON.stringify(m, null, 2));
    const r = home.run(['plugins', 'install', v2, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ id: 'hello', version: '1.1.0', previousVersion: '1.0.0', newPermissions: ['env:HELLO_STYLE'], widenedPermissions: ['env:HELLO_STYLE'], enabled: false });
    const info = home.run(['plugins', 'info', 'hello', '--json']).json();
    expect(info).toMatchObject({ version: '1.1.0', enabled: false });
    expect(info.permissions).toEqual([
      expect.objectContaining({ permission: 'kv', granted: true }),
      expect.objectContaining({ permission: 'env:HELLO_STYLE', granted: false }),
    ]);
    expect(greet().json().error).toMatchObject({ code: 'CAD_ERR_TOOL_UNAVAILABLE' });
    // Nothing can ask here, so enabling without --yes refuses and names the new permission.
    const refused = home.run(['plugins', 'enable', 'hello']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('CAD_ERR_PERMISSION_CONSENT_REQUIRED');
    expect(refused.stderr).toContain('env:HELLO_STYLE');
    expect(home.run(['plugins', 'enable', 'hello', '--yes']).code).toBe(0);
    expect(home.run(['plugins', 'info', 'hello', '--json']).json().permissions.every((p: any) => p.granted)).toBe(true);
    expect(greet().json().ok).toBe(true);
    // kv data survived the upgrade
    expect(home.run(['tools', 'call', 'hello_count', '{"name":"x"}', '--json']).json().result.count).toBe(2);
  });

  it('doctor reports every plugin and tool healthy, as text and JSON', () => {
    const r = home.run(['doctor', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const d = r.json();
    expect(d.ok).toBe(true);
    const installed = home.run(['plugins', 'list', '--json']).json<any[]>().map((p) => p.id).sort();
    expect(installed).toEqual(expect.arrayContaining(['clock', 'hello', 'tool-policy']));
    expect(d.plugins.map((p: any) => p.plugin).sort()).toEqual(installed);
    expect(home.run(['doctor']).stdout).toContain('All checks passed.');
  });

  it('tool-policy denies tools matching plugins.tool-policy.deny, and the denial is audited', () => {
    writeFileSync(join(home.dir, 'config.json'), JSON.stringify({ plugins: { 'tool-policy': { deny: ['hello_g*'] } } }));
    const r = greet();
    expect(r.code).toBe(1);
    expect(r.json().error).toMatchObject({ code: 'CAD_ERR_TOOL_DENIED' });
    expect(r.json().error.message).toContain("matches deny pattern 'hello_g*'");
    const rows = home.run(['audit', 'tail', '-n', '5', '--json']).json<any[]>();
    expect(rows.find((x) => x.kind === 'tool.call' && x.tool === 'hello_greet')).toMatchObject({ outcome: 'denied', code: 'CAD_ERR_TOOL_DENIED' });
    expect(home.run(['tools', 'call', 'hello_count', '{"name":"x"}']).code).toBe(0);
  });

  it('tool-policy ask is a denial when nothing can ask (non-interactive never grants)', () => {
    writeFileSync(join(home.dir, 'config.json'), JSON.stringify({ plugins: { 'tool-policy': { ask: ['hello_*'] } } }));
    const r = greet();
    expect(r.code).toBe(1);
    expect(r.json().error.message).toContain('nothing could ask');
    expect(home.run(['audit', 'tail', '-n', '5', '--json']).json<any[]>().some((x) => x.kind === 'approval' && x.outcome === 'denied'
      && x.detail.request === 'tool' && x.detail.subject === 'hello_greet' && x.detail.answer === 'no-one-to-ask')).toBe(true);
  });

  it('an invalid plugin config is reported with the field, and the guard fails closed', () => {
    writeFileSync(join(home.dir, 'config.json'), JSON.stringify({ plugins: { 'tool-policy': { deny: 'hello_*' } } }));
    const r = greet();
    expect(r.code).toBe(1);
    expect(r.json().error.code).toBe('CAD_ERR_TOOL_DENIED');
    expect(r.json().error.message).toContain('CAD_ERR_CONFIG_INVALID');
    writeFileSync(join(home.dir, 'config.json'), '{}');
    expect(greet().json().ok).toBe(true);
  });

  it('remove deletes the folder, grants and kv data', () => {
    const r = home.run(['plugins', 'remove', 'hello', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(home.dir, 'plugins/hello'))).toBe(false);
    const left = home.run(['plugins', 'list', '--json']).json<any[]>();
    expect(left.map((p) => p.id)).toEqual(expect.arrayContaining(['clock', 'tool-policy']));
    expect(left.every((p) => p.bundled)).toBe(true);
    expect(home.run(['tools', 'call', 'hello_greet', '{"name":"Ada"}', '--json']).json().error.code).toBe('CAD_ERR_TOOL_NOT_FOUND');
    // reinstalling starts from a clean slate: no grants, no kv
    home.run(['plugins', 'install', 'examples/hello']);
    expect(home.run(['plugins', 'info', 'hello', '--json']).json().permissions[0].granted).toBe(false);
    home.run(['plugins', 'enable', 'hello', '--yes']);
    expect(home.run(['tools', 'call', 'hello_count', '{"name":"x"}', '--json']).json().result.count).toBe(1);
  });
});

describe('upgrades that widen hooks', () => {
  it('leave the plugin disabled until the operator consents again', () => {
    const home = makeHome();
    try {
      expect(home.run(['plugins', 'install', 'examples/hello']).code).toBe(0);
      expect(home.run(['plugins', 'enable', 'hello', '--yes']).code).toBe(0);
      const v2 = tempDir('cad-hello-hooks-');
      cpSync(join(ROOT, 'examples/hello'), v2, { recursive: true });
      const m = JSON.parse(readFileSync(join(v2, 'caduceus.plugin.json'), 'utf8'));
      m.version = '1.2.0';
      m.contributes.hooks = [{ name: 'afterToolCall', stage: 'DEFAULT', scope: 'call' }];
      writeFileSync(join(v2, 'caduceus.plugin.json'), JSON.stringify(m, null, 2));
      const r = home.run(['plugins', 'install', v2, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json()).toMatchObject({ version: '1.2.0', newHooks: ['afterToolCall:call'], enabled: false });
      const refused = home.run(['plugins', 'enable', 'hello']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('hook:afterToolCall');
      expect(home.run(['plugins', 'enable', 'hello', '--yes']).code).toBe(0);
    } finally {
      home.cleanup();
    }
  });
});

describe('upgrades that narrow permissions', () => {
  it('drop grants the new version no longer requests', () => {
    const home = makeHome();
    try {
      home.run(['plugins', 'install', 'examples/hello']);
      expect(home.run(['plugins', 'enable', 'hello', '--yes']).code).toBe(0);
      const v2 = tempDir('cad-hello-narrow-');
      cpSync(join(ROOT, 'examples/hello'), v2, { recursive: true });
      const m = JSON.parse(readFileSync(join(v2, 'caduceus.plugin.json'), 'utf8'));
      m.version = '1.3.0';
      m.permissions = [];
      writeFileSync(join(v2, 'caduceus.plugin.json'), JSON.stringify(m, null, 2));
      expect(home.run(['plugins', 'install', v2]).code).toBe(0);
      const info = home.run(['plugins', 'info', 'hello', '--json']).json();
      expect(info).toMatchObject({ version: '1.3.0', enabled: true, permissions: [] });
      const count = home.run(['tools', 'list', '--json']).json<any[]>().find((t) => t.name === 'hello_count');
      expect(count).toMatchObject({ status: 'unavailable', reason: "permission 'kv' is not granted" });
      // and granting it back is refused: the new version does not ask for it
      expect(home.run(['plugins', 'grant', 'hello', 'kv']).stderr).toContain('CAD_ERR_PERMISSION_NOT_REQUESTED');
    } finally {
      home.cleanup();
    }
  });
});
