/**
 * security.blockedDomains through a real plugin's ctx.fetch and the built CLI: a blocked host is refused
 * with CAD_ERR_NET_BLOCKED naming the config entry even when a grant covers it, before any DNS; on every
 * redirect hop; for plugins with no net grant at all; and an invalid entry fails closed. A server on
 * 127.0.0.1 shows that hosts not on the list still work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { makeHome, tempDir, type Home } from '../helpers/cli.js';
import { writePlugin } from '../helpers/plugin-folder.js';

const SOURCE = (prefix: string) => `import { definePlugin, defineTool, z } from 'caduceus/sdk';
export default definePlugin({ tools: [
  defineTool({ name: '${prefix}_fetch', description: 'd', input: z.object({ url: z.string() }),
    handler: async ({ url }, ctx) => {
      try { const r = await ctx.fetch(url); return { status: r.status, url: r.url, body: r.body }; }
      catch (e) { const err = e as { code?: string; message?: string }; return { code: err.code, message: err.message }; }
    } }),
] });`;

describe('security.blockedDomains', () => {
  let home: Home;
  let server: Server;
  let port: number;
  let hits: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/to-localhost') { res.statusCode = 302; res.setHeader('location', `http://localhost:${port}/ok`); res.end(); return; }
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    home = makeHome();
    const net = writePlugin(tempDir('cad-blocklist-'), 'netprobe', SOURCE('nb'), {
      permissions: ['net:blocked.example', 'net:*.wild.example', `net:127.0.0.1:${port}`, `net:localhost:${port}`],
    });
    const none = writePlugin(tempDir('cad-blocklist-none-'), 'nonet', SOURCE('nn'));
    for (const [dir, id] of [[net, 'netprobe'], [none, 'nonet']] as const) {
      expect(home.run(['plugin', 'build', dir]).code).toBe(0);
      expect(home.run(['plugins', 'install', dir]).code).toBe(0);
      expect(home.run(['plugins', 'enable', id, '--yes']).code).toBe(0);
    }
  });
  afterAll(() => {
    home?.cleanup();
    server?.close();
  });

  const block = (entries: unknown) => writeFileSync(join(home.dir, 'config.json'), JSON.stringify({ security: { blockedDomains: entries } }));
  const call = async (tool: string, url: string) => {
    const r = await home.runAsync(['tools', 'call', tool, JSON.stringify({ url })]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  };

  it('refuses a granted host on the list, naming the entry, and audits it', async () => {
    block(['blocked.example']);
    const r = await call('nb_fetch', 'https://blocked.example/data');
    expect(r.code).toBe('CAD_ERR_NET_BLOCKED');
    expect(r.message).toContain("Plugin 'netprobe' may not fetch \"https://blocked.example/data\"");
    expect(r.message).toContain('"blocked.example" in security.blockedDomains');
    const rows = home.run(['audit', 'tail', '-n', '20', '--json']).json<any[]>();
    expect(rows.find((row) => row.kind === 'syscall.denied' && row.plugin === 'netprobe')).toMatchObject({
      code: 'CAD_ERR_NET_BLOCKED', detail: { syscall: 'net.fetch', url: 'https://blocked.example/data', blockedBy: 'blocked.example' },
    });
  });

  it('a *.suffix entry blocks the suffix and every name under it, whatever the spelling', async () => {
    block(['*.Wild.Example.']);
    for (const url of ['https://api.wild.example/', 'https://EU.API.wild.example./x']) {
      const r = await call('nb_fetch', url);
      expect(r, url).toMatchObject({ code: 'CAD_ERR_NET_BLOCKED' });
      expect(r.message).toContain('"*.wild.example"');
    }
  });

  it('an IP entry blocks that address even with a grant naming it exactly; other hosts still work', async () => {
    block(['localhost']);
    expect(await call('nb_fetch', `http://127.0.0.1:${port}/ok`)).toMatchObject({ status: 200, body: 'ok' });
    block(['127.0.0.1']);
    const r = await call('nb_fetch', `http://127.0.0.1:${port}/ok`);
    expect(r.code).toBe('CAD_ERR_NET_BLOCKED');
    expect(r.message).toContain('"127.0.0.1" in security.blockedDomains');
  });

  it('checks every redirect hop: a redirect to a blocked host is refused after the first hop', async () => {
    block(['localhost']);
    hits = [];
    const r = await call('nb_fetch', `http://127.0.0.1:${port}/to-localhost`);
    expect(hits).toEqual(['/to-localhost']);
    expect(r.code).toBe('CAD_ERR_NET_BLOCKED');
    expect(r.message).toContain(`may not fetch "http://localhost:${port}/ok"`);
    expect(r.message).toContain('"localhost" in security.blockedDomains');
  });

  it('a plugin with no net grant is told the host is blocked, not to ask for a grant', async () => {
    rmSync(join(home.dir, 'config.json'), { force: true });
    expect(await call('nn_fetch', 'https://blocked.example/')).toMatchObject({ code: 'CAD_ERR_PERMISSION_DENIED' });
    block(['blocked.example']);
    const r = await call('nn_fetch', 'https://blocked.example/');
    expect(r.code).toBe('CAD_ERR_NET_BLOCKED');
    expect(r.message).toContain('security.blockedDomains');
  });

  it('an invalid entry fails closed: no fetch runs, and the error names the field', async () => {
    block(['ok.example', 42]);
    hits = [];
    const r = await call('nb_fetch', `http://127.0.0.1:${port}/ok`);
    expect(hits).toEqual([]);
    expect(r.code).toBe('CAD_ERR_CONFIG_INVALID');
    expect(r.message).toContain('security.blockedDomains[1]');
    rmSync(join(home.dir, 'config.json'), { force: true });
  });
});
