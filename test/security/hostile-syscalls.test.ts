/**
 * A hostile plugin against the host API: syscalls it was not granted (kv, an env name, another tool, the
 * network), the raw bridge the prelude removes, and SSRF through net.fetch. Denials are checked on the
 * host, come back as coded errors, and leave a `syscall.denied` audit row. The network cases only ever
 * reach a server this test runs on 127.0.0.1; every other target (169.254.169.254 included) must be
 * refused by the policy before a connection is attempted, which a guard on net.Socket#connect verifies
 * (and enforces, so a policy bug could not send traffic anywhere). DNS is stubbed for the same reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import {
  addFixture, auditRows, call, closeKernel, expectCallAudited, expectCoded, expectHostServes, lastCallRow, openKernel,
} from './hostile-helpers.js';

const require = createRequire(import.meta.url);
const D = 'hostile-denied';
const N = 'hostile-net';
const METADATA_URL = 'http://169.254.169.254/latest/meta-data/';

/** The newest syscall.denied row of a plugin. */
function lastDenial(k: any, plugin: string): any {
  return auditRows(k, plugin, 'syscall.denied').at(-1);
}

describe('hostile plugin against the host API', () => {
  let k: any;
  let server: http.Server;
  let port = 0;
  const hits: string[] = [];
  const connects: string[] = [];
  const refusedConnects: string[] = [];
  const originalConnect = net.Socket.prototype.connect;
  const dnsPromises = require('node:dns/promises');
  const originalLookup = dnsPromises.lookup;
  const savedEnv = process.env.CAD_HOSTILE_ALLOWED;

  beforeAll(async () => {
    process.env.CAD_HOSTILE_ALLOWED = 'allowed-value';
    server = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/redirect-metadata') {
        res.writeHead(302, { location: METADATA_URL }).end();
      } else if (req.url === '/redirect-other-port') {
        res.writeHead(302, { location: 'http://127.0.0.1:9/' }).end();
      } else {
        res.end(`hello from 127.0.0.1 (${req.headers.host})`);
      }
    });
    server.keepAliveTimeout = 100;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;

    // Guard: only 127.0.0.1 (directly or through the names stubbed below) may be connected to.
    net.Socket.prototype.connect = function guarded(this: net.Socket, ...args: any[]) {
      const o = typeof args[0] === 'object' && args[0] !== null ? (Array.isArray(args[0]) ? args[0][0] : args[0]) : { port: args[0], host: args[1] };
      const target = `${o.host ?? ''}:${o.port ?? ''}`;
      if (o.path == null) connects.push(target);
      if (o.path == null && !['127.0.0.1', 'loop.localhost'].includes(o.host)) {
        refusedConnects.push(target);
        process.nextTick(() => this.destroy(new Error(`test guard refused a connection to ${target}`)));
        return this;
      }
      return (originalConnect as any).apply(this, args);
    } as any;
    // Stub DNS: a few names under .localhost resolve as the cases need; everything else fails, so no
    // lookup ever leaves the machine.
    dnsPromises.lookup = async (host: string, opts: any) => {
      const table: Record<string, string> = { 'a.wild.localhost': '127.0.0.1', 'loop.localhost': '127.0.0.1', 'meta.localhost': '169.254.169.254' };
      const address = table[host];
      if (!address) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host} (stubbed)`), { code: 'ENOTFOUND' });
      return opts?.all ? [{ address, family: 4 }] : { address, family: 4 };
    };
    syncBuiltinESMExports();

    k = await openKernel();
    await addFixture(k, D);
    await addFixture(k, N, (m) => {
      // Exactly the test server's host and port; a wildcard; and two exact names for the DNS cases.
      m.permissions = [`net:127.0.0.1:${port}`, `net:*.wild.localhost:${port}`, `net:loop.localhost:${port}`, `net:meta.localhost:${port}`];
    });
  });

  afterAll(async () => {
    await closeKernel(k);
    net.Socket.prototype.connect = originalConnect;
    dnsPromises.lookup = originalLookup;
    syncBuiltinESMExports();
    await new Promise((r) => server?.close(r));
    if (savedEnv === undefined) delete process.env.CAD_HOSTILE_ALLOWED;
    else process.env.CAD_HOSTILE_ALLOWED = savedEnv;
  });

  describe('9. syscalls that were not granted', () => {
    it('kv without the kv permission: the plugin sees CAD_ERR_PERMISSION_DENIED, nothing is stored', async () => {
      for (const op of ['kv.get', 'kv.set']) {
        const r = await call(k, 'hd_syscall', { op, arg: 'x', mode: 'catch' });
        expect(r.ok, JSON.stringify(r)).toBe(true);
        expect(r.result.code, op).toBe('CAD_ERR_PERMISSION_DENIED');
        expect(r.result.message).toContain(`called ${op} without the permission 'kv'`);
        expect(lastDenial(k, D)).toMatchObject({ kind: 'syscall.denied', plugin: D, outcome: 'denied', code: 'CAD_ERR_PERMISSION_DENIED', detail: { syscall: op, permission: 'kv' } });
      }
      expect(k.store.kvGet(D, 'x')).toBeUndefined();
      await expectHostServes(k);
    });

    it('an uncaught denial is the tool failing with the denial as its cause (a plugin cannot forge host codes)', async () => {
      const r = await call(k, 'hd_syscall', { op: 'kv.get', mode: 'throw' });
      expectCoded(r, 'CAD_ERR_TOOL_FAILED', D, 'hd_syscall');
      expect(r.error.details.pluginError.code).toBe('CAD_ERR_PERMISSION_DENIED');
      expectCallAudited(k, D, 'hd_syscall', 'CAD_ERR_TOOL_FAILED', 'error');
      expect(lastDenial(k, D)).toMatchObject({ code: 'CAD_ERR_PERMISSION_DENIED', detail: { syscall: 'kv.get' } });
      await expectHostServes(k);
    });

    it('env.get of an ungranted name is denied and leaks nothing; the granted name reads', async () => {
      const denied = await call(k, 'hd_syscall', { op: 'env', arg: 'HOME', mode: 'catch' });
      expect(denied.result).toMatchObject({ code: 'CAD_ERR_PERMISSION_DENIED' });
      expect(denied.result.value).toBeUndefined();
      expect(JSON.stringify(denied)).not.toContain(String(process.env.HOME));
      expect(lastDenial(k, D)).toMatchObject({ code: 'CAD_ERR_PERMISSION_DENIED', detail: { syscall: 'env.get', permission: 'env:HOME' } });
      const allowed = await call(k, 'hd_syscall', { op: 'env', arg: 'CAD_HOSTILE_ALLOWED', mode: 'catch' });
      expect(allowed.result).toEqual({ value: 'allowed-value' });
      await expectHostServes(k);
    });

    it('tools.call of an ungranted tool is denied before the tool runs; the granted one runs', async () => {
      const denied = await call(k, 'hd_syscall', { op: 'tool', arg: 'hello_count', mode: 'catch' });
      expect(denied.result).toMatchObject({ code: 'CAD_ERR_PERMISSION_DENIED' });
      expect(lastDenial(k, D)).toMatchObject({ code: 'CAD_ERR_PERMISSION_DENIED', detail: { syscall: 'tools.call', permission: 'tools.call:hello_count' } });
      expect(auditRows(k, 'hello', 'tool.call').filter((r) => r.tool === 'hello_count')).toEqual([]);
      const allowed = await call(k, 'hd_syscall', { op: 'tool', arg: 'hello_greet', mode: 'catch' });
      expect(allowed.result).toEqual({ value: { greeting: 'Hello, Eve!' } });
      expect(lastCallRow(k, 'hello', 'hello_greet')).toMatchObject({ caller: `plugin:${D}`, outcome: 'ok' });
      await expectHostServes(k);
    });

    it('the raw bridge is gone: typeof __cadSys and __cadSettle are undefined', async () => {
      const r = await call(k, 'hd_bridge');
      expect(r.result).toEqual({ typeofCadSys: 'undefined', typeofCadSettle: 'undefined', cadGlobals: [] });
    });
  });

  describe('10. the network', () => {
    it('without any net grant, loopback and the metadata address are denied before any connection', async () => {
      const before = connects.length;
      // Loopback is merely not granted; the metadata endpoint is refused as such, with no "grant it" advice.
      for (const [url, code] of [[`http://127.0.0.1:${port}/`, 'CAD_ERR_PERMISSION_DENIED'], [METADATA_URL, 'CAD_ERR_NET_BLOCKED']] as const) {
        const r = await call(k, 'hd_syscall', { op: 'fetch', arg: url, mode: 'catch' });
        expect(r.result.code, url).toBe(code);
        expect(lastDenial(k, D)).toMatchObject({ code, detail: { syscall: 'net.fetch' } });
      }
      expect(connects.length).toBe(before);
      expect(hits).toEqual([]);
      await expectHostServes(k);
    });

    it('with net:127.0.0.1:<port> granted exactly, the local server answers', async () => {
      const r = await call(k, 'hn_fetch', { url: `http://127.0.0.1:${port}/ok`, mode: 'throw' });
      expect(r, JSON.stringify(r)).toMatchObject({ ok: true, plugin: N, result: { status: 200, body: `hello from 127.0.0.1 (127.0.0.1:${port})`, redirected: false } });
      expect(hits).toEqual(['/ok']);
    });

    it('the metadata address is CAD_ERR_NET_BLOCKED, also as an IPv4-mapped IPv6 literal, with no connection', async () => {
      const before = connects.length;
      for (const url of [METADATA_URL, 'http://[::ffff:169.254.169.254]/latest/meta-data/']) {
        const r = await call(k, 'hn_fetch', { url, mode: 'throw' });
        expectCoded(r, 'CAD_ERR_TOOL_FAILED', N, 'hn_fetch');
        expect(r.error.details.pluginError.code, url).toBe('CAD_ERR_NET_BLOCKED');
        expect(r.error.message).toContain('metadata');
        expect(lastDenial(k, N)).toMatchObject({ kind: 'syscall.denied', code: 'CAD_ERR_NET_BLOCKED', detail: { syscall: 'net.fetch' } });
      }
      expect(connects.length).toBe(before);
      await expectHostServes(k);
    });

    it('a redirect from the granted server to 169.254.169.254 is refused with CAD_ERR_NET_BLOCKED before connecting', async () => {
      const before = connects.length;
      const r = await call(k, 'hn_fetch', { url: `http://127.0.0.1:${port}/redirect-metadata`, mode: 'catch' });
      expect(r.ok).toBe(true);
      expect(r.result.code).toBe('CAD_ERR_NET_BLOCKED');
      expect(r.result.message).toContain('169.254.169.254');
      expect(hits.at(-1)).toBe('/redirect-metadata');
      // Whatever connection was made went to the granted server; none followed the redirect.
      expect(connects.slice(before).filter((c) => c !== `127.0.0.1:${port}`)).toEqual([]);
      expect(lastDenial(k, N)).toMatchObject({ code: 'CAD_ERR_NET_BLOCKED', detail: { url: `http://127.0.0.1:${port}/redirect-metadata` } });
      await expectHostServes(k);
    });

    it('other loopback targets need their own exact grant: another port, 127.0.0.2, localhost', async () => {
      const before = connects.length;
      const r1 = await call(k, 'hn_fetch', { url: `http://127.0.0.1:${port}/redirect-other-port`, mode: 'catch' });
      expect(r1.result.code).toBe('CAD_ERR_PERMISSION_DENIED');
      for (const url of [`http://127.0.0.2:${port}/`, `http://localhost:${port}/`]) {
        const r = await call(k, 'hn_fetch', { url, mode: 'catch' });
        expect(r.result.code, url).toBe('CAD_ERR_PERMISSION_DENIED');
      }
      expect(connects.slice(before).filter((c) => c !== `127.0.0.1:${port}`)).toEqual([]);
      expect(lastDenial(k, N)).toMatchObject({ code: 'CAD_ERR_PERMISSION_DENIED' });
    });

    it('a wildcard grant does not reach loopback; an exact name resolving to the metadata address is blocked', async () => {
      const before = connects.length;
      const wild = await call(k, 'hn_fetch', { url: `http://a.wild.localhost:${port}/`, mode: 'catch' });
      expect(wild.result.code).toBe('CAD_ERR_NET_BLOCKED');
      expect(wild.result.message).toContain('only a grant naming');
      const meta = await call(k, 'hn_fetch', { url: `http://meta.localhost:${port}/`, mode: 'catch' });
      expect(meta.result.code).toBe('CAD_ERR_NET_BLOCKED');
      expect(meta.result.message).toContain('metadata');
      expect(connects.length).toBe(before);
      // An exact name that resolves to loopback is allowed, and the connection goes to the checked address.
      const loop = await call(k, 'hn_fetch', { url: `http://loop.localhost:${port}/named`, mode: 'catch' });
      expect(loop.result).toMatchObject({ status: 200, body: `hello from 127.0.0.1 (loop.localhost:${port})` });
      await expectHostServes(k);
    });

    it('non-http schemes are blocked', async () => {
      const r = await call(k, 'hn_fetch', { url: 'file:///etc/passwd', mode: 'catch' });
      expect(r.result.code).toBe('CAD_ERR_NET_BLOCKED');
      expect(r.result.body).toBeUndefined();
    });

    it('nothing was ever sent anywhere but 127.0.0.1', () => {
      expect(connects.length, 'the connect guard saw the allowed connections').toBeGreaterThan(0);
      expect(refusedConnects).toEqual([]);
      for (const c of connects) expect(c).toMatch(/^(127\.0\.0\.1|loop\.localhost):\d+$/);
    });
  });
});
