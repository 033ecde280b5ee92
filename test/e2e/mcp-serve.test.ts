/**
 * `caduceus mcp serve`, driven by the official SDK client and by the MCP Inspector's CLI mode: over stdio
 * and over Streamable HTTP (127.0.0.1, bearer token). Offered: enabled, available tools with visibility
 * `prompt` and `mcp-client` in their trust classes, with input schema, output schema and annotations.
 * Calls run the whole pipeline as caller `mcp-client`; an approval nobody can give over MCP is refused and
 * audited. Requests without the token (or with a foreign Host/Origin) are refused and audited. Finally a
 * second Caduceus home consumes the first one's HTTP server as an MCP server of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { BIN, ROOT, makeHome, tempDir, type Home } from '../helpers/cli.js';
import { writePlugin } from '../helpers/plugin-folder.js';

const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
const INSPECTOR = join(ROOT, 'node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js');

const SOURCE = `import { definePlugin, defineTool, z } from 'caduceus/sdk';
export default definePlugin({ tools: [
  defineTool({ name: 'svc_greet', description: 'Greets someone.', input: z.object({ name: z.string().min(1) }), output: z.object({ greeting: z.string() }),
    mutating: false, idempotent: true, handler: ({ name }, _ctx, call) => ({ greeting: 'Hello, ' + name + '! (' + call.caller + ')' }) }),
  defineTool({ name: 'svc_note', description: 'Writes a note (mutating).', input: z.object({ text: z.string() }), mutating: true,
    handler: ({ text }) => ({ saved: text }) }),
  defineTool({ name: 'svc_admin', description: 'Operator only.', input: z.object({}), visibility: 'operator', handler: () => ({ ok: true }) }),
  defineTool({ name: 'svc_inside', description: 'Not for MCP clients.', input: z.object({}), trustClasses: ['model', 'operator'], handler: () => ({ ok: true }) }),
] });`;

function newHome(): Home {
  const home = makeHome();
  const dir = writePlugin(tempDir('cad-mcp-serve-'), 'svc', SOURCE);
  for (const args of [['plugin', 'build', dir], ['plugins', 'install', dir], ['plugins', 'enable', 'svc', '--yes']]) {
    const r = home.run(args);
    expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  }
  return home;
}

async function stdioClient(home: Home) {
  const client = new Client({ name: 'caduceus-test', version: '0' });
  await client.connect(new StdioClientTransport({ command: BIN, args: ['mcp', 'serve'], env: home.env, stderr: 'pipe' }));
  return client;
}

function auditRows(home: Home): any[] {
  return home.run(['audit', 'tail', '-n', '300', '--json']).json<any[]>();
}

describe('caduceus mcp serve over stdio, with the official SDK client', () => {
  let home: Home;
  beforeAll(() => { home = newHome(); }, 120_000);
  afterAll(() => home.cleanup());

  it('lists the tools an MCP client may call, with schemas and annotations, and nothing else', async () => {
    const client = await stdioClient(home);
    try {
      expect(client.getServerVersion()).toMatchObject({ name: 'caduceus' });
      const { tools } = await client.listTools();
      const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
      expect(byName.svc_greet).toMatchObject({
        description: 'Greets someone.',
        inputSchema: { type: 'object', properties: { name: { type: 'string', minLength: 1 } }, required: ['name'] },
        outputSchema: { type: 'object', properties: { greeting: { type: 'string' } } },
        annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
      });
      expect(byName.svc_note.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: false });
      expect(byName.svc_admin).toBeUndefined();
      expect(byName.svc_inside).toBeUndefined();
    } finally {
      await client.close();
    }
  });

  it('calls run through the pipeline as mcp-client: results, argument errors and refusals come back as tool results', async () => {
    const client = await stdioClient(home);
    try {
      const ok = await client.callTool({ name: 'svc_greet', arguments: { name: 'Ada' } });
      expect(ok.isError).toBeFalsy();
      expect(ok.structuredContent).toEqual({ greeting: 'Hello, Ada! (mcp-client)' });
      expect(JSON.parse((ok.content as any[])[0].text)).toEqual({ greeting: 'Hello, Ada! (mcp-client)' });
      const bad = await client.callTool({ name: 'svc_greet', arguments: { name: '' } });
      expect(bad.isError).toBe(true);
      expect((bad.content as any[])[0].text).toMatch(/^CAD_ERR_TOOL_ARGS_INVALID: .*field 'name'/);
      const admin = await client.callTool({ name: 'svc_admin', arguments: {} });
      expect((admin.content as any[])[0].text).toMatch(/^CAD_ERR_TOOL_TRUST: .*visibility "operator"/);
      const inside = await client.callTool({ name: 'svc_inside', arguments: {} });
      expect((inside.content as any[])[0].text).toMatch(/^CAD_ERR_TOOL_TRUST: .*may not be called by 'mcp-client'/);
      const unknown = await client.callTool({ name: 'nope', arguments: {} });
      expect((unknown.content as any[])[0].text).toMatch(/^CAD_ERR_TOOL_NOT_FOUND/);
    } finally {
      await client.close();
    }
    const rows = auditRows(home).filter((e) => e.kind === 'tool.call' && e.caller === 'mcp-client');
    expect(rows.map((e) => [e.tool, e.outcome])).toEqual(expect.arrayContaining([
      ['svc_greet', 'ok'], ['svc_greet', 'error'], ['svc_admin', 'denied'], ['svc_inside', 'denied'], ['nope', 'error'],
    ]));
    expect(rows.find((e) => e.tool === 'svc_greet' && e.outcome === 'ok').detail.session).toMatch(/^mcp-stdio-/);
  });

  it('an approval cannot be asked over MCP: the call is refused and the refusal audited', async () => {
    const cfg = join(home.dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ plugins: { 'tool-policy': { askMutating: true } } }));
    const client = await stdioClient(home);
    try {
      const r = await client.callTool({ name: 'svc_note', arguments: { text: 'x' } });
      expect(r.isError).toBe(true);
      expect((r.content as any[])[0].text).toMatch(/^CAD_ERR_TOOL_DENIED: .*needs approval/);
      // Read-only tools are not asked about, so they still run.
      expect((await client.callTool({ name: 'svc_greet', arguments: { name: 'B' } })).isError).toBeFalsy();
    } finally {
      await client.close();
      writeFileSync(cfg, '{}');
    }
    const rows = auditRows(home);
    expect(rows.some((e) => e.kind === 'approval' && e.tool === 'svc_note' && e.caller === 'mcp-client' && e.outcome === 'denied' && e.detail.answer === 'no-one-to-ask')).toBe(true);
    expect(rows.some((e) => e.kind === 'tool.call' && e.tool === 'svc_note' && e.caller === 'mcp-client' && e.outcome === 'denied')).toBe(true);
  });

  it('the MCP Inspector CLI lists and calls the tools', () => {
    const base = [INSPECTOR, '--cli', BIN, 'mcp', 'serve', '-e', `CADUCEUS_HOME=${home.dir}`, '-e', 'NO_COLOR=1'];
    const list = spawnSync(process.execPath, [...base, '--method', 'tools/list'], { encoding: 'utf8', timeout: 60_000, cwd: ROOT });
    expect(list.status, list.stderr).toBe(0);
    const names = (JSON.parse(list.stdout).tools as any[]).map((t) => t.name);
    expect(names).toContain('svc_greet');
    expect(names).not.toContain('svc_admin');
    const call = spawnSync(process.execPath, [...base, '--method', 'tools/call', '--tool-name', 'svc_greet', '--tool-arg', 'name=Inspector'], { encoding: 'utf8', timeout: 60_000, cwd: ROOT });
    expect(call.status, call.stderr).toBe(0);
    expect(JSON.parse(call.stdout).structuredContent).toEqual({ greeting: 'Hello, Inspector! (mcp-client)' });
  });

  it('answers the calls already sent when the client closes stdin, then exits', () => {
    const input = ['Ada', 'Grace'].map((name, i) => JSON.stringify({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'svc_greet', arguments: { name } } })).join('\n') + '\n';
    const r = home.run(['mcp', 'serve'], { input });
    expect(r.code, r.stderr).toBe(0);
    const answers = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(answers.map((a) => [a.id, a.result.structuredContent.greeting])).toEqual([[0, 'Hello, Ada! (mcp-client)'], [1, 'Hello, Grace! (mcp-client)']]);
  });

  it('answers raw JSON-RPC lines: calls pipelined in one write, malformed params and unknown methods as JSON-RPC errors', async () => {
    const child = spawn(BIN, ['mcp', 'serve'], { env: home.env, stdio: ['pipe', 'pipe', 'pipe'] });
    try {
      const replies = new Map<unknown, any>();
      let buffered = '';
      child.stdout!.on('data', (d: Buffer) => {
        buffered += d.toString('utf8');
        for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
          const m = JSON.parse(buffered.slice(0, i));
          buffered = buffered.slice(i + 1);
          replies.set(m.id, m);
        }
      });
      const send = (...ms: unknown[]) => child.stdin!.write(ms.map((m) => `${JSON.stringify(m)}\n`).join(''));
      const waitFor = async (ids: unknown[]) => {
        for (let i = 0; i < 300 && !ids.every((id) => replies.has(id)); i++) await new Promise((r) => setTimeout(r, 50));
        return ids.map((id) => replies.get(id));
      };
      send({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
      const [init] = await waitFor([0]);
      expect(init.result.serverInfo.name).toBe('caduceus');
      send({ jsonrpc: '2.0', method: 'notifications/initialized' },
        ...['Ada', 'Grace', 'Linus'].map((name, i) => ({ jsonrpc: '2.0', id: `call-${i}`, method: 'tools/call', params: { name: 'svc_greet', arguments: { name } } })),
        { jsonrpc: '2.0', id: 'bad-args', method: 'tools/call', params: { name: 'svc_greet', arguments: ['Ada'] } },
        { jsonrpc: '2.0', id: 'no-such-method', method: 'tools/teleport', params: {} });
      const [a, b, c, bad, unknown] = await waitFor(['call-0', 'call-1', 'call-2', 'bad-args', 'no-such-method']);
      expect([a, b, c].map((r) => r.result.structuredContent.greeting)).toEqual(['Hello, Ada! (mcp-client)', 'Hello, Grace! (mcp-client)', 'Hello, Linus! (mcp-client)']);
      expect(a.result.content).toEqual([{ type: 'text', text: JSON.stringify({ greeting: 'Hello, Ada! (mcp-client)' }) }]);
      // Arguments that are not an object never reach the pipeline: the SDK's own validation answers (the
      // SDK reports it as an internal error whose message names the field).
      expect(bad.error).toMatchObject({ code: -32603, message: expect.stringMatching(/arguments[\s\S]*expected record, received array/) });
      expect(unknown.error.code).toBe(-32601);
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin!.end();
      await exited;
    }
    const calls = auditRows(home).filter((r) => r.kind === 'tool.call' && r.tool === 'svc_greet' && r.caller === 'mcp-client');
    expect(calls.length).toBeGreaterThanOrEqual(3);
  });
});

interface HttpServer { child: ChildProcess; port: number; token: string; stderr: () => string; stop: () => Promise<void> }

function startHttp(home: Home, env: Record<string, string> = {}): Promise<HttpServer> {
  const child = spawn(BIN, ['mcp', 'serve', '--http', '0'], { env: { ...home.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mcp serve --http did not start: ${err}`)), 30_000);
    child.stderr!.on('data', (d) => {
      err += d;
      const port = /http:\/\/127\.0\.0\.1:(\d+)\/mcp/.exec(err)?.[1];
      const token = /bearer token: (\S+)/.exec(err)?.[1];
      if (port && token && err.includes('\n', err.indexOf('bearer token:'))) {
        clearTimeout(timer);
        resolve({
          child, port: Number(port), token, stderr: () => err,
          stop: () => new Promise((r) => { child.once('exit', () => r()); child.kill('SIGTERM'); }),
        });
      }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`mcp serve --http exited ${code}: ${err}`)); });
  });
}

function post(port: number, headers: Record<string, string>): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } } });
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/mcp', method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function httpClient(port: number, token: string) {
  const client = new Client({ name: 'caduceus-test', version: '0' });
  const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  return { client, transport };
}

describe('caduceus mcp serve --http (Streamable HTTP on 127.0.0.1, bearer token)', () => {
  let home: Home;
  let server: HttpServer;
  beforeAll(async () => {
    home = newHome();
    server = await startHttp(home);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    home.cleanup();
  });

  it('prints a generated token and refuses requests without it, with a wrong one, or from a foreign Host or Origin', async () => {
    expect(server.token.length).toBeGreaterThanOrEqual(16);
    expect(server.stderr()).toContain('generated for this run');
    const none = await post(server.port, {});
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="caduceus"');
    expect(none.body).toContain('CAD_ERR_MCP_UNAUTHORIZED');
    expect((await post(server.port, { authorization: 'Bearer wrong-token-wrong-token' })).status).toBe(401);
    expect((await post(server.port, { authorization: `Bearer ${server.token}`, host: `evil.example:${server.port}` })).status).toBe(403);
    expect((await post(server.port, { authorization: `Bearer ${server.token}`, origin: 'https://evil.example' })).status).toBe(403);
    const ok = await post(server.port, { authorization: `Bearer ${server.token}` });
    expect(ok.status, ok.body).toBe(200);
  });

  it('the SDK client lists and calls tools with the token; the Inspector CLI does too', async () => {
    const { client, transport } = httpClient(server.port, server.token);
    await client.connect(transport);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('svc_greet');
      expect(names).not.toContain('svc_inside');
      const r = await client.callTool({ name: 'svc_greet', arguments: { name: 'Http' } });
      expect(r.structuredContent).toEqual({ greeting: 'Hello, Http! (mcp-client)' });
    } finally {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    }
    const insp = spawnSync(process.execPath, [INSPECTOR, '--cli', `http://127.0.0.1:${server.port}/mcp`, '--transport', 'http',
      '--header', `Authorization: Bearer ${server.token}`, '--method', 'tools/call', '--tool-name', 'svc_greet', '--tool-arg', 'name=Insp'], { encoding: 'utf8', timeout: 60_000, cwd: ROOT });
    expect(insp.status, insp.stderr + insp.stdout).toBe(0);
    expect(JSON.parse(insp.stdout).structuredContent).toEqual({ greeting: 'Hello, Insp! (mcp-client)' });
  });

  it('another Caduceus consumes it as an MCP server over Streamable HTTP, token from its secret store', () => {
    const other = makeHome();
    try {
      expect(other.run(['secrets', 'set', 'UPSTREAM_TOKEN'], { input: server.token }).code).toBe(0);
      const add = other.run(['mcp', 'add', 'upstream', '--url', `http://127.0.0.1:${server.port}/mcp`, '-H', 'Authorization: Bearer ${secret:UPSTREAM_TOKEN}']);
      expect(add.code, add.stderr).toBe(0);
      expect(add.stderr).toBe('');
      expect(add.stdout).toContain('mcp__upstream__svc_greet');
      const call = other.run(['tools', 'call', 'mcp__upstream__svc_greet', '{"name":"Chain"}', '--json']);
      expect(call.code, call.stderr).toBe(0);
      expect(call.json().result.structuredContent).toEqual({ greeting: 'Hello, Chain! (mcp-client)' });
      // Without the token the upstream refuses, and the error says so.
      other.run(['mcp', 'add', 'nokey', '--url', `http://127.0.0.1:${server.port}/mcp`, '--no-connect']);
      const refused = other.run(['mcp', 'test', 'nokey']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('CAD_ERR_MCP_CONNECT');
      expect(refused.stderr).toContain('HTTP 401');
    } finally {
      other.cleanup();
    }
  });

  it('refusals are audited', async () => {
    await server.stop();
    const rows = auditRows(home).filter((e) => e.kind === 'mcp.serve.refused');
    expect(rows.length).toBeGreaterThanOrEqual(4);
    expect(rows.map((e) => e.detail.reason)).toEqual(expect.arrayContaining(['no bearer token', 'wrong bearer token']));
    expect(rows.every((e) => e.outcome === 'denied' && e.code === 'CAD_ERR_MCP_UNAUTHORIZED')).toBe(true);
    server = await startHttp(home);
  });
});

describe('mcp serve --http token settings', () => {
  it('takes the token from CADUCEUS_MCP_TOKEN or mcpServe.token, and refuses one that is too short', async () => {
    const home = makeHome();
    try {
      const fromEnv = await startHttp(home, { CADUCEUS_MCP_TOKEN: 'env-token-0123456789' });
      try {
        expect(fromEnv.stderr()).toContain('bearer token: from CADUCEUS_MCP_TOKEN');
        expect((await post(fromEnv.port, { authorization: 'Bearer env-token-0123456789' })).status).toBe(200);
      } finally {
        await fromEnv.stop();
      }
      expect(home.run(['secrets', 'set', 'SERVE_TOKEN'], { input: 'secret-token-abcdefghij' }).code).toBe(0);
      writeFileSync(join(home.dir, 'config.json'), JSON.stringify({ mcpServe: { token: '${secret:SERVE_TOKEN}' } }));
      const fromConfig = await startHttp(home);
      try {
        expect(fromConfig.stderr()).toContain('bearer token: from mcpServe.token in config.json');
        expect(fromConfig.stderr()).not.toContain('secret-token-abcdefghij');
        expect((await post(fromConfig.port, { authorization: 'Bearer secret-token-abcdefghij' })).status).toBe(200);
      } finally {
        await fromConfig.stop();
      }
      const short = home.run(['mcp', 'serve', '--http', '0'], { env: { CADUCEUS_MCP_TOKEN: 'short' } });
      expect(short.code).toBe(1);
      expect(short.stderr).toContain('CAD_ERR_MCP_SERVE_FAILED');
      expect(JSON.parse(readFileSync(join(home.dir, 'config.json'), 'utf8'))).toEqual({ mcpServe: { token: '${secret:SERVE_TOKEN}' } });
    } finally {
      home.cleanup();
    }
  }, 60_000);
});
