/**
 * The same hostile cases through the real entry point: the built `caduceus` command against a fresh home.
 * Each `tools call` is its own process, so "contained" here means the process answers a structured JSON
 * error and exits 1 (no signal, no internal error, no stack), the next process's call to another plugin
 * succeeds, and `caduceus audit tail --json` holds the rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildFixture, copyFixture, makeHome, type CliResult, type Home } from '../helpers/cli.js';

describe('hostile plugins through the caduceus CLI', () => {
  let home: Home;
  const copies: string[] = [];
  const copy = (name: string) => {
    const dir = copyFixture(name);
    copies.push(dir);
    return dir;
  };

  const ok = (r: CliResult) => expect(r.code, r.stderr).toBe(0);
  /** One contained failure: exit 1, a JSON error with code and plugin on stdout, a one-line error on stderr. */
  const expectContained = (r: CliResult, code: string, plugin: string, tool: string) => {
    expect(r.code, r.stderr).toBe(1);
    const out = r.json();
    expect(out).toMatchObject({ ok: false, tool, plugin, error: { code, plugin, tool, message: expect.any(String) } });
    expect(r.stderr).toContain(`error ${code}:`);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  };
  const helloServes = () => {
    const r = home.run(['tools', 'call', 'hello_greet', '{"name":"Ada"}', '--json']);
    ok(r);
    expect(r.json()).toMatchObject({ ok: true, plugin: 'hello', result: { greeting: 'Hello, Ada!' } });
  };

  beforeAll(async () => {
    home = makeHome('cad-sec-cli-');
    const sandbox = copy('hostile-sandbox');
    const denied = copy('hostile-denied');
    await buildFixture(sandbox);
    await buildFixture(denied);
    for (const source of ['examples/hello', sandbox, denied]) ok(home.run(['plugins', 'install', source, '--json']));
    for (const id of ['hello', 'hostile-sandbox', 'hostile-denied']) ok(home.run(['plugins', 'enable', id, '--yes']));
  });
  afterAll(() => {
    home?.cleanup();
    for (const dir of copies) rmSync(dir, { recursive: true, force: true });
  });

  it('a synchronous infinite loop → CAD_ERR_SANDBOX_TIMEOUT, exit 1, and the next call serves', () => {
    const t0 = Date.now();
    const r = home.run(['tools', 'call', 'hs_spin', '{}', '--json']);
    expectContained(r, 'CAD_ERR_SANDBOX_TIMEOUT', 'hostile-sandbox', 'hs_spin');
    expect(Date.now() - t0).toBeLessThan(10_000);
    helloServes();
  });

  it('a promise that never settles → the watchdog answers CAD_ERR_SANDBOX_TIMEOUT and the process exits', () => {
    const r = home.run(['tools', 'call', 'hs_never', '{}', '--json']);
    expectContained(r, 'CAD_ERR_SANDBOX_TIMEOUT', 'hostile-sandbox', 'hs_never');
    expect(r.stderr).not.toContain('never settled before shutdown');
    helloServes();
  });

  it('allocating 1 GB → CAD_ERR_SANDBOX_MEMORY; the host process is not killed', () => {
    const r = home.run(['tools', 'call', 'hs_alloc', '{}', '--json']);
    expectContained(r, 'CAD_ERR_SANDBOX_MEMORY', 'hostile-sandbox', 'hs_alloc');
    helloServes();
  });

  it('throwing a Symbol → CAD_ERR_TOOL_FAILED describing it', () => {
    const r = home.run(['tools', 'call', 'hs_throw', '{"kind":"symbol"}', '--json']);
    expectContained(r, 'CAD_ERR_TOOL_FAILED', 'hostile-sandbox', 'hs_throw');
    expect(r.json().error.message).toContain('Symbol(hostile)');
  });

  it('an ungranted kv syscall → the tool fails with CAD_ERR_PERMISSION_DENIED as its cause', () => {
    const r = home.run(['tools', 'call', 'hd_syscall', '{"op":"kv.get","mode":"throw"}', '--json']);
    expectContained(r, 'CAD_ERR_TOOL_FAILED', 'hostile-denied', 'hd_syscall');
    expect(r.json().error.details.pluginError.code).toBe('CAD_ERR_PERMISSION_DENIED');
    helloServes();
  });

  it('`caduceus audit tail --json` holds a row for every contained failure', () => {
    const r = home.run(['audit', 'tail', '-n', '500', '--json']);
    ok(r);
    const rows = r.json<any[]>();
    const call = (tool: string) => rows.filter((x) => x.kind === 'tool.call' && x.tool === tool).at(-1);
    expect(call('hs_spin')).toMatchObject({ plugin: 'hostile-sandbox', outcome: 'timeout', code: 'CAD_ERR_SANDBOX_TIMEOUT' });
    expect(call('hs_never')).toMatchObject({ outcome: 'timeout', code: 'CAD_ERR_SANDBOX_TIMEOUT' });
    expect(call('hs_alloc')).toMatchObject({ outcome: 'crash', code: 'CAD_ERR_SANDBOX_MEMORY' });
    expect(call('hs_throw')).toMatchObject({ outcome: 'error', code: 'CAD_ERR_TOOL_FAILED' });
    expect(call('hd_syscall')).toMatchObject({ plugin: 'hostile-denied', outcome: 'error', code: 'CAD_ERR_TOOL_FAILED' });
    const of = (kind: string) => rows.filter((x) => x.kind === kind && x.plugin?.startsWith('hostile-'));
    expect(of('plugin.timeout').length).toBeGreaterThanOrEqual(2);
    expect(of('plugin.crash')).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'CAD_ERR_SANDBOX_MEMORY' })]));
    expect(of('syscall.denied')).toEqual(expect.arrayContaining([
      expect.objectContaining({ plugin: 'hostile-denied', code: 'CAD_ERR_PERMISSION_DENIED', detail: { syscall: 'kv.get', permission: 'kv' } }),
    ]));
    const filtered = home.run(['audit', 'tail', '--kind', 'syscall.denied', '--plugin', 'hostile-denied', '--json']).json<any[]>();
    expect(filtered.length).toBeGreaterThanOrEqual(1);
  });

  it('`caduceus plugin build` refuses a plugin importing fs, naming the syscall to use', () => {
    const dir = copy('hostile-import-fs');
    const r = home.run(['plugin', 'build', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CAD_ERR_BUILD_UNSANDBOXABLE');
    expect(r.stderr).toContain("imports 'fs'");
    expect(r.stderr).toContain('ctx.fs.read');
    expect(existsSync(join(dir, 'dist/index.js'))).toBe(false);
  });
});
