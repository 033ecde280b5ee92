/**
 * The syscalls added for skills and plugin commands, attacked from a plugin through the built CLI:
 * fs.watch only inside granted roots (realpath checked), fs.stage only inside a command run and only for
 * a path the operator typed, hooks.emit only with an `emit:<hook>` grant and a well-formed payload,
 * fs.skillDirs only with `fs.read:$PLUGIN_SKILLS`, fs.removeDir never on a root or a non-empty folder,
 * writes inside the Caduceus home only in folders granted by name that the kernel does not own, and
 * host.probe answering yes/no without values. Denials are audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeHome, tempDir, type Home } from '../helpers/cli.js';
import { writePlugin } from '../helpers/plugin-folder.js';

const SOURCE = `import { defineCommand, definePlugin, defineTool, z } from 'caduceus/sdk';
const attempt = async (fn: () => Promise<unknown>) => {
  try { return { ok: true, value: await fn() }; } catch (e) { const err = e as { code?: string; message?: string }; return { ok: false, code: err.code, message: err.message }; }
};
const path = z.object({ path: z.string() });
export default definePlugin({
  tools: [
    defineTool({ name: 'probe_watch', description: 'd', input: path, handler: ({ path }, ctx) => attempt(async () => {
      const w = await ctx.fs.watch(path, () => undefined);
      await w.close();
      return { path: w.path, mode: w.mode };
    }) }),
    defineTool({ name: 'probe_stage', description: 'd', input: path, handler: ({ path }, ctx) => attempt(() => ctx.fs.stage(path)) }),
    defineTool({ name: 'probe_emit', description: 'd', input: z.object({ hook: z.string(), payload: z.unknown() }), handler: ({ hook, payload }, ctx) => attempt(() => ctx.emit(hook as 'skillsChanged', payload as never)) }),
    defineTool({ name: 'probe_skilldirs', description: 'd', input: z.object({}), handler: (_a, ctx) => attempt(() => ctx.fs.skillDirs()) }),
    defineTool({ name: 'probe_rmdir', description: 'd', input: path, handler: ({ path }, ctx) => attempt(() => ctx.fs.removeDir(path)) }),
    defineTool({ name: 'probe_write', description: 'd', input: path, handler: ({ path }, ctx) => attempt(() => ctx.fs.write(path, 'written by the probe')) }),
    defineTool({ name: 'probe_probe', description: 'd', input: z.object({ req: z.unknown() }), handler: ({ req }, ctx) => attempt(() => ctx.probe(req as never)) }),
  ],
  commands: [defineCommand({ name: 'probe-stage', description: 'stage what the operator names', run: async (argv, ctx, io) => {
    io.print(JSON.stringify(await attempt(() => ctx.fs.stage(argv[0]!))));
    io.print(JSON.stringify(await attempt(() => ctx.fs.stage(argv[1] ?? '/etc/hostname'))));
    return 0;
  } })],
});`;

describe('syscalls for skills and commands, from a hostile plugin', () => {
  let home: Home;
  let work: string;
  const call = (tool: string, args: unknown) => {
    const r = home.run(['tools', 'call', tool, JSON.stringify(args)], { cwd: work });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { ok: boolean; value?: any; code?: string; message?: string };
  };
  beforeAll(() => {
    home = makeHome();
    work = tempDir('cad-skills-sec-');
    mkdirSync(join(work, 'in', 'sub'), { recursive: true });
    mkdirSync(join(work, 'out', 'full'), { recursive: true });
    writeFileSync(join(work, 'out', 'full', 'f.txt'), 'x');
    mkdirSync(join(work, 'elsewhere'));
    symlinkSync(join(work, 'elsewhere'), join(work, 'in', 'link-out'));
    const dir = writePlugin(tempDir('cad-probe-'), 'probe', SOURCE, {
      permissions: ['fs.read:$WORKSPACE/in', 'fs.write:$WORKSPACE/out', 'fs.write:$CADUCEUS_HOME/notes', 'fs.write:$CADUCEUS_HOME/plugins', 'fs.write:$PLUGIN_DATA', 'emit:skillsChanged', 'fs.read:$PLUGIN_SKILLS'],
    });
    const built = home.run(['plugin', 'build', dir]);
    expect(built.code, built.stderr).toBe(0);
    expect(home.run(['plugins', 'install', dir]).code).toBe(0);
    expect(home.run(['plugins', 'enable', 'probe', '--yes']).code).toBe(0);
  });
  afterAll(() => home.cleanup());

  it('fs.watch: inside a granted root only; symlinks and .. out are refused and audited', () => {
    expect(call('probe_watch', { path: 'in' })).toMatchObject({ ok: true, value: { path: join(work, 'in'), mode: 'native' } });
    expect(call('probe_watch', { path: '$WORKSPACE/in/not-yet' })).toMatchObject({ ok: true, value: { mode: 'waiting' } });
    expect(call('probe_watch', { path: 'in/link-out' })).toMatchObject({ ok: false, code: 'CAD_ERR_FS_OUTSIDE_ROOT' });
    expect(call('probe_watch', { path: 'in/../elsewhere' })).toMatchObject({ ok: false, code: 'CAD_ERR_FS_OUTSIDE_ROOT' });
    expect(call('probe_watch', { path: '/' })).toMatchObject({ ok: false, code: 'CAD_ERR_FS_OUTSIDE_ROOT' });
    const rows = home.run(['audit', 'tail', '-n', '50', '--json', '--kind', 'syscall.denied', '--plugin', 'probe']).json<{ detail: { syscall: string } }[]>();
    expect(rows.filter((r) => r.detail.syscall === 'fs.watch').length).toBeGreaterThanOrEqual(3);
  });

  it('fs.stage: refused outside a command, and for anything the operator did not type', () => {
    writeFileSync(join(work, 'staged.txt'), 'operator file');
    expect(call('probe_stage', { path: 'staged.txt' })).toMatchObject({ ok: false, code: 'CAD_ERR_PERMISSION_DENIED', message: expect.stringContaining('outside a command run') });
    const r = home.run(['probe-stage', 'staged.txt'], { cwd: work });
    expect(r.code, r.stderr).toBe(0);
    const [named, other] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(named).toMatchObject({ ok: true, value: { kind: 'file', files: [{ path: 'staged.txt', size: 13, binary: false }] } });
    expect(other).toMatchObject({ ok: false, code: 'CAD_ERR_PERMISSION_DENIED', message: expect.stringContaining('did not name on the command line') });
    // The staged copy lives in the plugin's data folder and is gone after the run.
    expect(named.value.root.startsWith(join(home.dir, 'data', 'probe', 'staged'))).toBe(true);
    expect(existsSync(named.value.root)).toBe(false);
  });

  it('hooks.emit: only with the emit grant, only notification hooks, only well-formed payloads', () => {
    expect(call('probe_emit', { hook: 'skillsChanged', payload: { added: ['x'], changed: [], removed: [] } })).toMatchObject({ ok: true });
    expect(call('probe_emit', { hook: 'skillsChanged', payload: { added: 'x' } })).toMatchObject({ ok: false, code: 'CAD_ERR_SYSCALL_INVALID' });
    expect(call('probe_emit', { hook: 'beforeToolCall', payload: {} })).toMatchObject({ ok: false, code: 'CAD_ERR_SYSCALL_INVALID', message: expect.stringContaining('only skillsChanged') });
    expect(home.run(['plugins', 'revoke', 'probe', 'emit:skillsChanged']).code).toBe(0);
    expect(call('probe_emit', { hook: 'skillsChanged', payload: { added: [], changed: [], removed: [] } })).toMatchObject({ ok: false, code: 'CAD_ERR_PERMISSION_DENIED', message: expect.stringContaining('caduceus plugins grant probe emit:skillsChanged') });
    const audit = home.run(['audit', 'tail', '-n', '100', '--json', '--plugin', 'probe']).json<{ kind: string; detail: Record<string, unknown> }[]>();
    expect(audit.some((r) => r.kind === 'hook.emit' && r.detail.hook === 'skillsChanged')).toBe(true);
  });

  it('an emit: permission for a hook plugins may not fire is refused at install', () => {
    const bad = writePlugin(tempDir('cad-probe-bad-'), 'bad-emit', `import { definePlugin } from 'caduceus/sdk';\nexport default definePlugin({});`, { permissions: ['emit:beforeToolCall'] });
    const r = home.run(['plugin', 'build', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/CAD_ERR_MANIFEST_SCHEMA.*"beforeToolCall" is not a hook a plugin may fire/);
  });

  it('fs.skillDirs needs fs.read:$PLUGIN_SKILLS, which cannot be widened', () => {
    expect(call('probe_skilldirs', {})).toMatchObject({ ok: true, value: [] });
    expect(home.run(['plugins', 'revoke', 'probe', 'fs.read:$PLUGIN_SKILLS']).code).toBe(0);
    expect(call('probe_skilldirs', {})).toMatchObject({ ok: false, code: 'CAD_ERR_PERMISSION_DENIED' });
    const bad = writePlugin(tempDir('cad-probe-bad-'), 'bad-skills', `import { definePlugin } from 'caduceus/sdk';\nexport default definePlugin({});`, { permissions: ['fs.write:$PLUGIN_SKILLS'] });
    expect(home.run(['plugin', 'build', bad]).stderr).toMatch(/\$PLUGIN_SKILLS is read-only/);
  });

  it('fs.removeDir: never a granted root or a folder with files in it', () => {
    mkdirSync(join(work, 'out', 'empty'));
    expect(call('probe_rmdir', { path: 'out/empty' })).toMatchObject({ ok: true, value: { removed: true } });
    expect(call('probe_rmdir', { path: 'out/empty' })).toMatchObject({ ok: true, value: { removed: false } });
    expect(call('probe_rmdir', { path: 'out/full' })).toMatchObject({ ok: false, code: 'CAD_ERR_FS_FAILED', message: expect.stringContaining('is not empty') });
    expect(call('probe_rmdir', { path: 'out' })).toMatchObject({ ok: false, code: 'CAD_ERR_FS_FAILED', message: expect.stringContaining('is a granted root') });
    expect(call('probe_rmdir', { path: 'in/sub' })).toMatchObject({ ok: false, code: 'CAD_ERR_FS_OUTSIDE_ROOT' });
  });

  it('inside the Caduceus home: a folder granted by name is writable, a kernel folder never', () => {
    expect(call('probe_write', { path: '$CADUCEUS_HOME/notes/a.txt' })).toMatchObject({ ok: true });
    expect(readFileSync(join(home.dir, 'notes', 'a.txt'), 'utf8')).toBe('written by the probe');
    expect(call('probe_write', { path: '$CADUCEUS_HOME/plugins/probe/dist/index.js' })).toMatchObject({ ok: false, code: 'CAD_ERR_FS_PROTECTED' });
    expect(call('probe_write', { path: '$CADUCEUS_HOME/config.json' })).toMatchObject({ ok: false, code: 'CAD_ERR_FS_OUTSIDE_ROOT' });
    expect(call('probe_write', { path: '$PLUGIN_DATA/own.txt' })).toMatchObject({ ok: true });
  });

  it('host.probe answers yes or no, never values, and caps what it is asked', () => {
    const r = call('probe_probe', { req: { bins: ['sh', 'no-such-program-xyz'], env: ['PATH', 'NO_SUCH_VAR_XYZ'], tools: ['probe_write', 'nope'] } });
    expect(r).toMatchObject({ ok: true, value: { platform: process.platform, bins: { sh: true, 'no-such-program-xyz': false }, env: { PATH: true, NO_SUCH_VAR_XYZ: false }, tools: { probe_write: true, nope: false } } });
    expect(JSON.stringify(r)).not.toContain(process.env.PATH!);
    expect(call('probe_probe', { req: { bins: Array.from({ length: 65 }, (_, i) => `b${i}`) } })).toMatchObject({ ok: false, code: 'CAD_ERR_SYSCALL_INVALID' });
    expect(call('probe_probe', { req: { env: ['BAD NAME'] } })).toMatchObject({ ok: false, code: 'CAD_ERR_SYSCALL_INVALID' });
  });
});
