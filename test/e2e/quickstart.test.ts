/**
 * The operator's first five minutes, exactly as issue #2 and the README describe them, through the built
 * `caduceus` command against a fresh home: install the SDK-built hello example, enable it, list, call,
 * read the audit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHome, type Home } from '../helpers/cli.js';

describe('quickstart through the caduceus CLI', () => {
  let home: Home;
  beforeAll(() => {
    home = makeHome();
  });
  afterAll(() => home.cleanup());

  it('installs examples/hello into the home, disabled until enabled', () => {
    const r = home.run(['plugins', 'install', 'examples/hello', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = r.json();
    expect(out).toMatchObject({ ok: true, id: 'hello', version: '1.0.0', enabled: false });
    expect(out.integrity).toMatch(/^sha256-/);
    const list = home.run(['plugins', 'list', '--json']).json<any[]>();
    expect(list.find((p) => p.id === 'hello')).toMatchObject({ enabled: false, bundled: false });
  });

  it('refuses to enable without consent when nothing can ask, granting nothing', () => {
    const r = home.run(['plugins', 'enable', 'hello']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CAD_ERR_PERMISSION_CONSENT_REQUIRED');
    expect(r.stderr).toContain("'hello'");
    const info = home.run(['plugins', 'info', 'hello', '--json']).json();
    expect(info.enabled).toBe(false);
    expect(info.permissions).toEqual([{ permission: 'kv', meaning: expect.stringContaining('key-value'), granted: false }]);
  });

  it('enables with --yes, granting the requested permissions', () => {
    const r = home.run(['plugins', 'enable', 'hello', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('enabled hello');
    expect(home.run(['plugins', 'info', 'hello', '--json']).json().permissions[0].granted).toBe(true);
  });

  it('lists the tools with their status', () => {
    const r = home.run(['tools', 'list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const tools = r.json<any[]>();
    const greet = tools.find((t) => t.name === 'hello_greet');
    expect(greet).toMatchObject({ plugin: 'hello', status: 'available', mutating: false, idempotent: true, visibility: 'prompt' });
    expect(greet.inputSchema).toMatchObject({ type: 'object', required: ['name'] });
    const human = home.run(['tools', 'list']);
    expect(human.stdout).toMatch(/hello_greet\s+hello\s+available/);
  });

  it('lists plugins and tools from manifests only, starting no isolate', () => {
    const loads = () => home.run(['audit', 'tail', '-n', '1000', '--json']).json<any[]>().filter((x) => x.kind === 'plugin.load').length;
    const before = loads();
    expect(home.run(['tools', 'list']).code).toBe(0);
    expect(home.run(['tools', 'list', '--json']).code).toBe(0);
    expect(home.run(['plugins', 'list']).code).toBe(0);
    expect(loads()).toBe(before);
  });

  it('calls hello_greet in a sandbox and returns a greeting with the name', () => {
    const r = home.run(['tools', 'call', 'hello_greet', '{"name":"Ada"}', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, tool: 'hello_greet', plugin: 'hello', result: { greeting: expect.stringContaining('Ada') } });
  });

  it('keeps kv state across processes (hello_count awaits the kv syscall)', () => {
    expect(home.run(['tools', 'call', 'hello_count', '{"name":"Bo"}', '--json']).json().result).toEqual({ name: 'Bo', count: 1 });
    expect(home.run(['tools', 'call', 'hello_count', '{"name":"Bo"}', '--json']).json().result).toEqual({ name: 'Bo', count: 2 });
  });

  it('writes audit rows for install, load, enable, grant and calls, with digests not raw args', () => {
    const r = home.run(['audit', 'tail', '-n', '100', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.json<any[]>();
    const kinds = rows.filter((x) => x.plugin === 'hello').map((x) => x.kind);
    for (const k of ['plugin.install', 'plugin.load', 'plugin.enable', 'plugin.grant', 'tool.call', 'plugin.unload']) expect(kinds).toContain(k);
    const call = rows.find((x) => x.kind === 'tool.call' && x.tool === 'hello_greet');
    expect(call).toMatchObject({ outcome: 'ok', caller: 'operator', argsDigest: expect.stringMatching(/^sha256:/), resultDigest: expect.stringMatching(/^sha256:/) });
    expect(call.durationUs).toBeGreaterThan(0);
    expect(JSON.stringify(rows)).not.toContain('Ada');
    const human = home.run(['audit', 'tail', '-n', '5']);
    expect(human.stdout).toContain('tool.call');
  });
});
