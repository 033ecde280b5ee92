/**
 * net.fetch limits a plugin cannot lift and credentials it cannot leak: a redirect to another granted
 * host drops Authorization/Cookie headers (a same-host redirect keeps them), and a plugin asking for an
 * enormous maxBytes still gets the host's ceiling. Real servers on 127.0.0.1 only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { ROOT, buildFixture, copyFixture, tempDir } from '../helpers/cli.js';

const api = await import(join(ROOT, 'dist/core/index.js'));

function serve(handler: (path: string, headers: Record<string, unknown>, res: import('node:http').ServerResponse) => void): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => handler(req.url ?? '/', req.headers, res));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port })));
}

describe('fetch limits and redirect credentials', () => {
  let k: any;
  let a: { server: Server; port: number };
  let b: { server: Server; port: number };
  const echo = (headers: Record<string, unknown>, res: import('node:http').ServerResponse) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ authorization: headers.authorization ?? null, cookie: headers.cookie ?? null, accept: headers.accept ?? null }));
  };

  beforeAll(async () => {
    b = await serve((path, headers, res) => echo(headers, res));
    a = await serve((path, headers, res) => {
      if (path === '/to-b') { res.statusCode = 302; res.setHeader('location', `http://127.0.0.1:${b.port}/echo`); res.end(); return; }
      if (path === '/to-self') { res.statusCode = 302; res.setHeader('location', '/echo'); res.end(); return; }
      if (path === '/huge') {
        // 60 MiB in 1 MiB chunks, more than the 50 MiB ceiling; stops when the client hangs up.
        const chunk = Buffer.alloc(1024 * 1024, 97);
        let sent = 0;
        const pump = () => { while (sent < 60 && res.write(chunk)) sent++; if (sent >= 60) res.end(); else res.once('drain', pump); };
        res.on('close', () => { sent = 60; });
        pump();
        return;
      }
      echo(headers, res);
    });
    const dir = copyFixture('fetch-probe');
    const mf = join(dir, 'caduceus.plugin.json');
    const m = JSON.parse(readFileSync(mf, 'utf8'));
    m.permissions = [`net:127.0.0.1:${a.port}`, `net:127.0.0.1:${b.port}`];
    writeFileSync(mf, JSON.stringify(m));
    await buildFixture(dir);
    k = new api.Kernel({ home: tempDir('cad-fetch-'), bundledDir: join(ROOT, 'plugins') });
    await api.installPlugin(k, dir);
    await api.enablePlugin(k, 'fetch-probe', { yes: true });
  });
  afterAll(async () => {
    await k?.close();
    a?.server.close();
    b?.server.close();
  });

  const fetch = (args: object) => k.callTool('fp_fetch', args, { caller: 'operator' });
  const secret = { authorization: 'Bearer s3cret', cookie: 'session=abc', accept: 'application/json' };

  it('drops credential headers on a redirect to another host, keeping the rest', async () => {
    const r = await fetch({ url: `http://127.0.0.1:${a.port}/to-b`, headers: secret });
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect(r.result.url).toBe(`http://127.0.0.1:${b.port}/echo`);
    expect(JSON.parse(r.result.body)).toEqual({ authorization: null, cookie: null, accept: 'application/json' });
  });

  it('keeps them on a redirect within the same host', async () => {
    const r = await fetch({ url: `http://127.0.0.1:${a.port}/to-self`, headers: secret });
    expect(JSON.parse(r.result.body)).toEqual({ authorization: 'Bearer s3cret', cookie: 'session=abc', accept: 'application/json' });
  });

  it('holds a body to the 50 MiB ceiling whatever maxBytes the plugin asks for', async () => {
    const r = await fetch({ url: `http://127.0.0.1:${a.port}/huge`, maxBytes: 1e12 });
    expect(r.result.code).toBe('CAD_ERR_NET_FAILED');
    expect(r.result.message).toContain(`${50 * 1024 * 1024} bytes`);
  });
});
