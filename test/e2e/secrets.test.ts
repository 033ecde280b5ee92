/**
 * Secrets through the CLI: stored from stdin, read by a plugin only with a secret:<NAME> grant, audited
 * by name and never by value, and out of reach of the fs syscalls even with a grant that covers the home.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { makeHome, tempDir, type Home } from '../helpers/cli.js';
import { writePlugin } from '../helpers/plugin-folder.js';

const VALUE = 'sk-test-5f0c1d2e3a4b';

describe('caduceus secrets', () => {
  let home: Home;
  beforeAll(() => {
    home = makeHome();
    const dir = writePlugin(tempDir('cad-secret-'), 'vault', `import { definePlugin, defineTool, z } from 'caduceus/sdk';
export default definePlugin({ tools: [
  defineTool({ name: 'vault_peek', description: 'd', input: z.object({ name: z.string() }),
    handler: async ({ name }, ctx) => { try { const v = await ctx.secrets.get(name); return { length: v === null ? null : v.length, prefix: v?.slice(0, 3) ?? null }; } catch (e) { return { code: (e as { code?: string }).code }; } } }),
  defineTool({ name: 'vault_read_file', description: 'd', input: z.object({ path: z.string() }),
    handler: async ({ path }, ctx) => { try { return { text: await ctx.fs.read(path) }; } catch (e) { return { code: (e as { code?: string }).code }; } } }),
  defineTool({ name: 'vault_write_file', description: 'd', input: z.object({ path: z.string() }),
    handler: async ({ path }, ctx) => { try { return await ctx.fs.write(path, 'x'); } catch (e) { return { code: (e as { code?: string }).code }; } } }),
] });`, { permissions: ['secret:API_TOKEN', 'fs.read:/', 'fs.write:/'] });
    expect(home.run(['plugin', 'build', dir]).code).toBe(0);
    expect(home.run(['plugins', 'install', dir]).code).toBe(0);
    expect(home.run(['plugins', 'enable', 'vault', '--yes']).code).toBe(0);
  });
  afterAll(() => home.cleanup());

  it('stores a value from stdin in a 0600 file inside a 0700 folder, and lists names only', () => {
    const r = home.run(['secrets', 'set', 'API_TOKEN'], { input: `${VALUE}\n` });
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(join(home.dir, 'secrets')).mode & 0o777).toBe(0o700);
    expect(statSync(join(home.dir, 'secrets/secrets.json')).mode & 0o777).toBe(0o600);
    const list = home.run(['secrets', 'list', '--json']);
    expect(list.json()).toEqual([{ name: 'API_TOKEN', readableBy: ['vault'] }]);
    expect(list.stdout).not.toContain(VALUE);
  });

  it('a plugin with the grant reads it; each read is audited by name, and the value is in no audit row', () => {
    const r = home.run(['tools', 'call', 'vault_peek', '{"name":"API_TOKEN"}']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ length: VALUE.length, prefix: 'sk-' });
    const rows = home.run(['audit', 'tail', '-n', '100', '--json']);
    expect(rows.json<any[]>().some((row) => row.kind === 'secret.read' && row.plugin === 'vault' && row.detail.name === 'API_TOKEN')).toBe(true);
    expect(rows.stdout).not.toContain(VALUE);
    const journal = join(home.dir, 'audit-journal');
    for (const f of readdirSync(journal)) expect(readFileSync(join(journal, f), 'utf8')).not.toContain(VALUE);
  });

  it('a secret the plugin has no grant for is denied, with the grant to add', () => {
    home.run(['secrets', 'set', 'OTHER'], { input: 'x' });
    const r = home.run(['tools', 'call', 'vault_peek', '{"name":"OTHER"}']);
    expect(JSON.parse(r.stdout)).toEqual({ code: 'CAD_ERR_PERMISSION_DENIED' });
  });

  it('fs.read cannot reach the secrets file or the store, even with fs.read:/', () => {
    for (const path of [join(home.dir, 'secrets/secrets.json'), join(home.dir, 'caduceus.db')]) {
      const r = home.run(['tools', 'call', 'vault_read_file', JSON.stringify({ path })]);
      expect(JSON.parse(r.stdout), path).toEqual({ code: 'CAD_ERR_FS_PROTECTED' });
    }
  });

  it('fs.write inside the Caduceus home reaches only the plugin\'s own data folder, even with fs.write:/', () => {
    for (const rel of ['config.json', 'audit-journal/1-2-x.jsonl', 'plugins/vault/caduceus.plugin.json', 'data/other/x']) {
      const r = home.run(['tools', 'call', 'vault_write_file', JSON.stringify({ path: join(home.dir, rel) })]);
      expect(JSON.parse(r.stdout), rel).toEqual({ code: 'CAD_ERR_FS_PROTECTED' });
    }
    const own = home.run(['tools', 'call', 'vault_write_file', JSON.stringify({ path: join(home.dir, 'data/vault/notes.txt') })]);
    expect(JSON.parse(own.stdout)).toEqual({ bytes: 1 });
  });

  it('refuses bad names and empty values, and removes', () => {
    const bad = home.run(['secrets', 'set', 'not-a-name'], { input: 'x' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('CAD_ERR_SECRET_INVALID');
    const empty = home.run(['secrets', 'set', 'EMPTY'], { input: '' });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('is empty');
    expect(home.run(['secrets', 'remove', 'OTHER']).code).toBe(0);
    expect(home.run(['secrets', 'list', '--json']).json()).toEqual([{ name: 'API_TOKEN', readableBy: ['vault'] }]);
    expect(home.run(['secrets', 'remove', 'OTHER']).code).toBe(1);
  });
});
