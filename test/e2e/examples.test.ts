/**
 * The example plugins besides hello, each built by `npm run build`, installed from its folder, enabled and
 * called through the built `caduceus` command: ollama-models fetches from a granted loopback host (a fake
 * Ollama on 127.0.0.1:11434 replaying the documented /api/tags answer), and greet-many calls hello's tool
 * through ctx.tools.call. Both are checked again after their grant is revoked, denial audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { makeHome, type Home } from '../helpers/cli.js';

/** Ollama's documented GET /api/tags answer; the last model's details carry no family. */
const TAGS = {
  models: [
    {
      name: 'llama3:latest', model: 'llama3:latest', modified_at: '2024-05-20T10:20:30.123456789+02:00', size: 4661224676,
      digest: '365c0bd3c000a25d28ddbf732fe1c6add414de7275464c4e4d1c3b5fcb5d8ad1',
      details: { parent_model: '', format: 'gguf', family: 'llama', families: ['llama'], parameter_size: '8.0B', quantization_level: 'Q4_0' },
    },
    {
      name: 'codellama:13b', model: 'codellama:13b', modified_at: '2023-11-04T14:56:49.277302595-07:00', size: 7365960935,
      digest: '9f438cb9cd581fc025612d27f7c1a6669ff83a8bb0ed86c94fcf4c5440555697',
      details: { format: 'gguf', family: 'llama', families: null, parameter_size: '13B', quantization_level: 'Q4_0' },
    },
    {
      name: 'all-minilm:latest', model: 'all-minilm:latest', modified_at: '2024-06-01T08:00:00Z', size: 45960996,
      digest: '1b226e2802dbb772b5fc32a58f103ca1804ef7501331012de126ab22f67475ef',
      details: { format: 'gguf' },
    },
  ],
};

const LLAMA3 = { name: 'llama3:latest', sizeBytes: 4661224676, modifiedAt: '2024-05-20T10:20:30.123456789+02:00', family: 'llama' };
const CODELLAMA = { name: 'codellama:13b', sizeBytes: 7365960935, modifiedAt: '2023-11-04T14:56:49.277302595-07:00', family: 'llama' };
const MINILM = { name: 'all-minilm:latest', sizeBytes: 45960996, modifiedAt: '2024-06-01T08:00:00Z' };

/** A fake Ollama on the real port; fails with the reason when something already listens there. */
function startFakeOllama(requests: string[]): Promise<Server> {
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.method === 'GET' && req.url === '/api/tags') {
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(JSON.stringify(TAGS));
      return;
    }
    res.statusCode = 404;
    res.end('404 page not found');
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE'
      ? new Error('Port 127.0.0.1:11434 is taken (a real Ollama?); examples.test.ts needs it for its fake Ollama server. Stop whatever listens there (`ollama` service, `lsof -i :11434`) and re-run.')
      : err));
    server.listen(11434, '127.0.0.1', () => resolve(server));
  });
}

const stop = (server: Server | undefined) => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
const rowsOf = (home: Home, plugin: string) => home.run(['audit', 'tail', '-n', '1000', '--plugin', plugin, '--json']).json<any[]>();

describe('examples/ollama-models: fetching from a granted loopback host', () => {
  let home: Home;
  let server: Server | undefined;
  const requests: string[] = [];
  beforeAll(async () => {
    home = makeHome();
    server = await startFakeOllama(requests);
  });
  afterAll(async () => {
    await stop(server);
    home?.cleanup();
  });

  // The CLI fetches from this process's fake server, so it must run without blocking the event loop.
  const models = (args: string) => home.runAsync(['tools', 'call', 'ollama_models', args, '--json']);

  it('installs from its folder and enables with --yes, granting exactly net:127.0.0.1:11434', () => {
    const install = home.run(['plugins', 'install', 'examples/ollama-models', '--json']);
    expect(install.code, install.stderr).toBe(0);
    expect(install.json()).toMatchObject({ ok: true, id: 'ollama-models', version: '1.0.0', enabled: false });
    const enable = home.run(['plugins', 'enable', 'ollama-models', '--yes']);
    expect(enable.code, enable.stderr).toBe(0);
    expect(home.run(['plugins', 'info', 'ollama-models', '--json']).json().permissions).toEqual([
      { permission: 'net:127.0.0.1:11434', meaning: 'make HTTP(S) requests to 127.0.0.1:11434', granted: true },
    ]);
    const tool = home.run(['tools', 'list', '--json']).json<any[]>().find((t) => t.name === 'ollama_models');
    expect(tool).toMatchObject({ plugin: 'ollama-models', status: 'available', mutating: false, idempotent: true });
  });

  it('lists the models, mapped from Ollama\'s /api/tags answer', async () => {
    const r = await models('{}');
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, tool: 'ollama_models', plugin: 'ollama-models' });
    expect(r.json().result).toEqual({ models: [LLAMA3, CODELLAMA, MINILM] });
    expect(requests).toContain('GET /api/tags');
  });

  it('filters by name, case-insensitively', async () => {
    expect((await models('{"filter":"LLAMA"}')).json().result).toEqual({ models: [LLAMA3, CODELLAMA] });
    expect((await models('{"filter":"minilm"}')).json().result).toEqual({ models: [MINILM] });
    expect((await models('{"filter":"mistral"}')).json().result).toEqual({ models: [] });
  });

  it('after revoking the grant, the fetch is denied with CAD_ERR_PERMISSION_DENIED, nothing is sent, and the denial is audited', async () => {
    const revoke = home.run(['plugins', 'revoke', 'ollama-models', 'net:127.0.0.1:11434']);
    expect(revoke.code, revoke.stderr).toBe(0);
    const sent = requests.length;
    const r = await models('{}');
    expect(r.code).toBe(1);
    // The plugin rethrows the host error; the kernel wraps it once as the tool's failure, keeping its code.
    expect(r.json().error).toMatchObject({
      code: 'CAD_ERR_TOOL_FAILED', plugin: 'ollama-models', tool: 'ollama_models',
      details: { pluginError: { code: 'CAD_ERR_PERMISSION_DENIED' } },
    });
    expect(r.stderr).toContain('net.fetch without the permission');
    expect(requests.length).toBe(sent);
    const rows = rowsOf(home, 'ollama-models');
    expect(rows.find((x) => x.kind === 'syscall.denied')).toMatchObject({
      plugin: 'ollama-models', outcome: 'denied', code: 'CAD_ERR_PERMISSION_DENIED', detail: { syscall: 'net.fetch' },
    });
    expect(rows.filter((x) => x.kind === 'tool.call' && x.tool === 'ollama_models').at(-1)).toMatchObject({ outcome: 'error', code: 'CAD_ERR_TOOL_FAILED', caller: 'operator' });
    expect(rows.find((x) => x.kind === 'plugin.revoke')).toMatchObject({ detail: { permission: 'net:127.0.0.1:11434' } });
  });

  it('with the grant back and Ollama stopped, the call fails with the "not running" message', async () => {
    expect(home.run(['plugins', 'grant', 'ollama-models', 'net:127.0.0.1:11434']).code).toBe(0);
    expect((await models('{}')).json().result.models).toHaveLength(3);
    await stop(server);
    server = undefined;
    const r = await models('{}');
    expect(r.code).toBe(1);
    expect(r.json().error).toMatchObject({ code: 'CAD_ERR_TOOL_FAILED', plugin: 'ollama-models', details: { pluginError: { code: 'OLLAMA_NOT_RUNNING' } } });
    expect(r.stderr).toContain('Ollama is not running on 127.0.0.1:11434; start it with `ollama serve`');
  });
});

describe('examples/greet-many: calling another plugin\'s tool', () => {
  let home: Home;
  beforeAll(() => {
    home = makeHome();
  });
  afterAll(() => home.cleanup());

  const greetMany = (names: string[]) => home.run(['tools', 'call', 'greet_many', JSON.stringify({ names }), '--json']);
  const nestedCalls = () => rowsOf(home, 'hello').filter((x) => x.kind === 'tool.call' && x.tool === 'hello_greet');

  it('installs without hello, but will not enable until hello is installed and enabled', () => {
    const install = home.run(['plugins', 'install', 'examples/greet-many', '--json']);
    expect(install.code, install.stderr).toBe(0);
    expect(install.json()).toMatchObject({ ok: true, id: 'greet-many', enabled: false });
    expect(home.run(['tools', 'list', '--json']).json<any[]>().find((t) => t.name === 'greet_many')).toMatchObject({
      status: 'disabled', reason: expect.stringContaining("requires 'hello' ^1.0.0, which is not installed"), fix: expect.stringContaining("install and enable 'hello' ^1.0.0"),
    });
    const enable = home.run(['plugins', 'enable', 'greet-many', '--yes', '--json']);
    expect(enable.code).toBe(1);
    expect(enable.json()).toMatchObject({ ok: false, error: { code: 'CAD_ERR_DEPENDENCY_MISSING', plugin: 'greet-many' } });
    expect(enable.stderr).toContain("requires plugin 'hello' (^1.0.0)");
    // Nothing was granted or enabled.
    expect(home.run(['plugins', 'info', 'greet-many', '--json']).json()).toMatchObject({
      enabled: false, permissions: [{ permission: 'tools.call:hello_greet', granted: false }],
    });
  });

  it('after hello is installed and enabled, greet_many returns both greetings through hello_greet', () => {
    expect(home.run(['plugins', 'install', 'examples/hello']).code).toBe(0);
    expect(home.run(['plugins', 'enable', 'hello', '--yes']).code).toBe(0);
    const enable = home.run(['plugins', 'enable', 'greet-many', '--yes']);
    expect(enable.code, enable.stderr).toBe(0);
    const r = greetMany(['Ada', 'Grace']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, tool: 'greet_many', plugin: 'greet-many', result: { greetings: ['Hello, Ada!', 'Hello, Grace!'] } });
  });

  it('audits each nested hello_greet call with caller plugin:greet-many', () => {
    const nested = nestedCalls();
    expect(nested).toHaveLength(2);
    for (const row of nested) expect(row).toMatchObject({ plugin: 'hello', caller: 'plugin:greet-many', outcome: 'ok', argsDigest: expect.stringMatching(/^sha256:/) });
    const outer = rowsOf(home, 'greet-many').filter((x) => x.kind === 'tool.call');
    expect(outer.at(-1)).toMatchObject({ tool: 'greet_many', caller: 'operator', outcome: 'ok' });
  });

  it('validates the names against its schema before anything runs (1 to 20)', () => {
    expect(greetMany([]).json().error.code).toBe('CAD_ERR_TOOL_ARGS_INVALID');
    expect(greetMany(Array.from({ length: 21 }, (_, i) => `n${i}`)).json().error.code).toBe('CAD_ERR_TOOL_ARGS_INVALID');
    expect(nestedCalls()).toHaveLength(2);
  });

  it('keeps hello enabled while greet-many depends on it', () => {
    const r = home.run(['plugins', 'disable', 'hello', '--json']);
    expect(r.code).toBe(1);
    expect(r.json().error).toMatchObject({ code: 'CAD_ERR_DEPENDENCY_DEPENDENT', plugin: 'hello' });
    expect(r.stderr).toContain("'greet-many'");
  });

  it('after revoking tools.call:hello_greet, the nested call is denied with CAD_ERR_PERMISSION_DENIED and audited', () => {
    expect(home.run(['plugins', 'revoke', 'greet-many', 'tools.call:hello_greet']).code).toBe(0);
    const r = greetMany(['Ada']);
    expect(r.code).toBe(1);
    expect(r.json().error).toMatchObject({
      code: 'CAD_ERR_TOOL_FAILED', plugin: 'greet-many', tool: 'greet_many',
      details: { pluginError: { code: 'CAD_ERR_PERMISSION_DENIED' } },
    });
    expect(r.stderr).toContain('caduceus plugins grant greet-many tools.call:hello_greet');
    expect(rowsOf(home, 'greet-many').find((x) => x.kind === 'syscall.denied')).toMatchObject({
      outcome: 'denied', code: 'CAD_ERR_PERMISSION_DENIED', detail: { syscall: 'tools.call', permission: 'tools.call:hello_greet' },
    });
    // hello_greet never ran.
    expect(nestedCalls()).toHaveLength(2);
    expect(home.run(['plugins', 'grant', 'greet-many', 'tools.call:hello_greet']).code).toBe(0);
    expect(greetMany(['Ada']).json().result).toEqual({ greetings: ['Hello, Ada!'] });
  });
});
