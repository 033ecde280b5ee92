/**
 * The `fs.remove` and `fs.realpath` syscalls and the atomic `fs.write`, through the public kernel API with a
 * real isolate and real files: remove works only under a write root, deletes a symlink itself and never
 * what it points to, refuses folders and credential files; realpath answers only inside the roots; a write
 * keeps the target's permission bits and leaves no temp file behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tempDir } from '../helpers/cli.js';
import { writePlugin } from '../helpers/plugin-folder.js';

const SOURCE = `import { definePlugin, defineTool, z } from 'caduceus/sdk';
const path = z.object({ path: z.string() });
const coded = async (fn) => { try { return await fn(); } catch (e) { return { code: e.code, message: e.message }; } };
export default definePlugin({ tools: [
  defineTool({ name: 'rm_remove', description: 'remove', input: path, handler: ({ path }, ctx) => coded(() => ctx.fs.remove(path)) }),
  defineTool({ name: 'rm_realpath', description: 'realpath', input: path, handler: ({ path }, ctx) => coded(() => ctx.fs.realpath(path)) }),
  defineTool({ name: 'rm_write', description: 'write', input: z.object({ path: z.string(), content: z.string() }), handler: ({ path, content }, ctx) => coded(() => ctx.fs.write(path, content)) }),
] });`;

const api = await import(join(ROOT, 'dist/core/index.js'));

describe('fs.remove, fs.realpath and atomic writes', () => {
  let k: any;
  let ws: string;
  let outside: string;
  const call = async (tool: string, args: object) => {
    const r = await k.callTool(tool, args, { caller: 'operator' });
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    return r.result;
  };

  beforeAll(async () => {
    ws = tempDir('cad-rm-ws-');
    outside = tempDir('cad-rm-out-');
    mkdirSync(join(ws, 'out/sub'), { recursive: true });
    writeFileSync(join(ws, 'readonly.txt'), 'read root only');
    writeFileSync(join(ws, 'out/a.txt'), 'a');
    writeFileSync(join(outside, 'target.txt'), 'outside');
    writeFileSync(join(ws, 'out/inner.txt'), 'inner');
    symlinkSync(join(outside, 'target.txt'), join(ws, 'out/link-out'));
    symlinkSync(join(ws, 'out/inner.txt'), join(ws, 'out/link-in'));
    const dir = writePlugin(tempDir('cad-rm-plugin-'), 'rmprobe', SOURCE, { permissions: ['fs.read:$WORKSPACE', 'fs.write:$WORKSPACE/out'] });
    const { buildPlugin } = await import(join(ROOT, 'dist/sdk/build.js'));
    await buildPlugin(dir);
    k = new api.Kernel({ home: tempDir('cad-rm-home-'), workspace: ws });
    await api.installPlugin(k, dir);
    await api.enablePlugin(k, 'rmprobe', { yes: true });
  });
  afterAll(() => k?.close());

  it('removes a file under the write root, and says false when nothing is there', async () => {
    expect(await call('rm_remove', { path: 'out/a.txt' })).toEqual({ removed: true });
    expect(existsSync(join(ws, 'out/a.txt'))).toBe(false);
    expect(await call('rm_remove', { path: 'out/a.txt' })).toEqual({ removed: false });
  });

  it('refuses outside the write root, even where it may read', async () => {
    expect((await call('rm_remove', { path: 'readonly.txt' })).code).toBe('CAD_ERR_FS_OUTSIDE_ROOT');
    expect((await call('rm_remove', { path: join(outside, 'target.txt') })).code).toBe('CAD_ERR_FS_OUTSIDE_ROOT');
    expect(existsSync(join(ws, 'readonly.txt'))).toBe(true);
    expect(existsSync(join(outside, 'target.txt'))).toBe(true);
  });

  it('deletes a symlink itself, never its target, wherever the target is', async () => {
    expect(await call('rm_remove', { path: 'out/link-out' })).toEqual({ removed: true });
    expect(existsSync(join(ws, 'out/link-out'))).toBe(false);
    expect(readFileSync(join(outside, 'target.txt'), 'utf8')).toBe('outside');
    expect(await call('rm_remove', { path: 'out/link-in' })).toEqual({ removed: true });
    expect(readFileSync(join(ws, 'out/inner.txt'), 'utf8')).toBe('inner');
  });

  it('refuses folders and credential files', async () => {
    const dir = await call('rm_remove', { path: 'out/sub' });
    expect(dir.code).toBe('CAD_ERR_FS_FAILED');
    expect(dir.message).toContain('is a directory');
    expect(lstatSync(join(ws, 'out/sub')).isDirectory()).toBe(true);
    writeFileSync(join(ws, 'out/.env'), 'TOKEN=1');
    expect((await call('rm_remove', { path: 'out/.env' })).code).toBe('CAD_ERR_FS_PROTECTED');
    expect(existsSync(join(ws, 'out/.env'))).toBe(true);
  });

  it('answers realpath inside the roots only, for files that do not exist yet too', async () => {
    const real = realpathSync(ws);
    expect(await call('rm_realpath', { path: 'readonly.txt' })).toBe(join(real, 'readonly.txt'));
    expect(await call('rm_realpath', { path: 'out/new/file.txt' })).toBe(join(real, 'out/new/file.txt'));
    expect((await call('rm_realpath', { path: '../' })).code).toBe('CAD_ERR_FS_OUTSIDE_ROOT');
  });

  it('keeps the permission bits of a replaced file and leaves no temp file', async () => {
    writeFileSync(join(ws, 'out/run.sh'), 'echo 1\n');
    chmodSync(join(ws, 'out/run.sh'), 0o750);
    expect(await call('rm_write', { path: 'out/run.sh', content: 'echo 2\n' })).toEqual({ bytes: 7 });
    expect(statSync(join(ws, 'out/run.sh')).mode & 0o777).toBe(0o750);
    expect(readFileSync(join(ws, 'out/run.sh'), 'utf8')).toBe('echo 2\n');
    expect(readdirSync(join(ws, 'out')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('audits each refusal', () => {
    const denied = k.tailAudit(100, { kind: 'syscall.denied' }).filter((r: any) => r.plugin === 'rmprobe');
    expect(denied.map((r: any) => r.detail.syscall)).toEqual(expect.arrayContaining(['fs.remove', 'fs.realpath']));
  });
});
