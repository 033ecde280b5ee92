/**
 * The fs syscalls confine a plugin to its granted roots on the host: `..` and symlink escapes are
 * refused, credential files are never writable even inside a granted root, writes are atomic, and a
 * refusal is an audit row. Driven through the public kernel API with a real isolate and real files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, buildFixture, copyFixture, tempDir } from '../helpers/cli.js';

const api = await import(join(ROOT, 'dist/core/index.js'));

describe('fs syscall containment', () => {
  let k: any;
  let ws: string;
  let outside: string;
  const call = (tool: string, args: object) => k.callTool(tool, args, { caller: 'operator' });

  beforeAll(async () => {
    ws = tempDir('cad-ws-');
    outside = tempDir('cad-outside-');
    writeFileSync(join(ws, 'notes.txt'), 'inside');
    writeFileSync(join(outside, 'secret.txt'), 'outside');
    mkdirSync(join(ws, 'out'));
    symlinkSync(outside, join(ws, 'escape'));
    symlinkSync(join(outside, 'secret.txt'), join(ws, 'out', 'link.txt'));
    const dir = copyFixture('files-probe');
    await buildFixture(dir);
    k = new api.Kernel({ home: tempDir('cad-home-'), workspace: ws, bundledDir: join(ROOT, 'plugins') });
    await api.installPlugin(k, dir);
    await api.enablePlugin(k, 'files-probe', { yes: true });
  });
  afterAll(() => k?.close());

  it('reads and lists inside the granted root', async () => {
    expect(await call('probe_read', { path: 'notes.txt' })).toMatchObject({ ok: true, result: 'inside' });
    const list = await call('probe_list', { path: '.' });
    expect(list.result).toEqual(expect.arrayContaining([{ name: 'notes.txt', type: 'file' }, { name: 'out', type: 'dir' }]));
    expect((await call('probe_stat', { path: 'missing.txt' })).result).toBeNull();
  });

  it('refuses .. and absolute paths outside the root', async () => {
    for (const path of ['../' + outside.split('/').pop() + '/secret.txt', join(outside, 'secret.txt'), '/etc/passwd']) {
      const r = await call('probe_read', { path });
      expect(r.ok, path).toBe(false);
      expect(r.error.code).toBe('CAD_ERR_TOOL_FAILED');
      expect(r.error.details.pluginError.code).toBe('CAD_ERR_FS_OUTSIDE_ROOT');
    }
  });

  it('refuses symlinks that leave the root, for reads and writes', async () => {
    const read = await call('probe_read', { path: 'escape/secret.txt' });
    expect(read.error.details.pluginError.code).toBe('CAD_ERR_FS_OUTSIDE_ROOT');
    const write = await call('probe_write', { path: 'out/link.txt', content: 'pwned' });
    expect(write.error.details.pluginError.code).toBe('CAD_ERR_FS_OUTSIDE_ROOT');
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('outside');
  });

  it('writes only under the write root, atomically, leaving no temp files', async () => {
    expect((await call('probe_write', { path: 'out/a.txt', content: 'hello' })).result).toEqual({ bytes: 5 });
    expect(readFileSync(join(ws, 'out/a.txt'), 'utf8')).toBe('hello');
    expect(readdirSync(join(ws, 'out')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const r = await call('probe_write', { path: 'notes.txt', content: 'overwrite' });
    expect(r.error.details.pluginError.code).toBe('CAD_ERR_FS_OUTSIDE_ROOT');
    expect(readFileSync(join(ws, 'notes.txt'), 'utf8')).toBe('inside');
  });

  it('never writes credential files, even inside a granted write root', async () => {
    for (const path of ['out/.env', 'out/.env.local', 'out/.npmrc', 'out/.git-credentials', 'out/.netrc']) {
      const r = await call('probe_write', { path, content: 'x' });
      expect(r.error.details.pluginError.code, path).toBe('CAD_ERR_FS_PROTECTED');
    }
  });

  it('reads only granted environment variables', async () => {
    process.env.FILES_PROBE_TOKEN = 'granted-value';
    process.env.FILES_PROBE_OTHER = 'secret';
    expect((await call('probe_env', { name: 'FILES_PROBE_TOKEN' })).result).toBe('granted-value');
    const r = await call('probe_env', { name: 'FILES_PROBE_OTHER' });
    expect(r.error.details.pluginError.code).toBe('CAD_ERR_PERMISSION_DENIED');
    expect(r.error.message).toContain('caduceus plugins grant files-probe env:FILES_PROBE_OTHER');
  });

  it('writes an audit row for each refusal', () => {
    const denied = k.tailAudit(200, { kind: 'syscall.denied' });
    const codes = new Set(denied.map((r: any) => r.code));
    expect(codes).toEqual(new Set(['CAD_ERR_FS_OUTSIDE_ROOT', 'CAD_ERR_FS_PROTECTED', 'CAD_ERR_PERMISSION_DENIED']));
    expect(denied.every((r: any) => r.plugin === 'files-probe')).toBe(true);
  });
});
