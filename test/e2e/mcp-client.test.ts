/**
 * External MCP servers as tools, through the built CLI, against the official reference server
 * (`@modelcontextprotocol/server-everything` from npm) over stdio: `mcp add` connects once and caches the
 * tool list; `tools list` shows the tools with full descriptors without connecting; `tools call` runs them
 * through the same pipeline as plugin tools (validation, guards, approvals, audit); the server process gets
 * a filtered environment; include/exclude filters, disable/enable, remove and `mcp import`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, makeHome, tempDir, type Home } from '../helpers/cli.js';
import { writePlugin } from '../helpers/plugin-folder.js';

const EVERYTHING = join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');
const MINIMAL = join(ROOT, 'test/fixtures/mcp/minimal-server.mjs');
const NODE = process.execPath;

function config(home: Home): Record<string, any> {
  return JSON.parse(readFileSync(join(home.dir, 'config.json'), 'utf8'));
}

function editConfig(home: Home, change: (c: Record<string, any>) => void): void {
  const c = config(home);
  change(c);
  writeFileSync(join(home.dir, 'config.json'), JSON.stringify(c, null, 2));
}

function audit(home: Home): any[] {
  const r = home.run(['audit', 'tail', '-n', '500', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return r.json<any[]>();
}

describe('MCP servers as tools: server-everything over stdio', () => {
  let home: Home;
  beforeAll(() => {
    home = makeHome();
    expect(home.run(['secrets', 'set', 'EVERY_TOKEN'], { input: 'tok-5f0c1d' }).code).toBe(0);
    const r = home.run(['mcp', 'add', 'everything', '-e', 'CONFIGURED=yes', '-e', 'FROM_SECRET=${secret:EVERY_TOKEN}', '--', NODE, EVERYTHING, 'stdio']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/added MCP server 'everything' \(stdio: .*\): \d+ tools/);
  }, 60_000);
  afterAll(() => home.cleanup());

  it('mcp add writes the Claude Desktop shape to config.json and caches the tool list', () => {
    expect(config(home).mcpServers.everything).toEqual({
      command: NODE, args: [EVERYTHING, 'stdio'], env: { CONFIGURED: 'yes', FROM_SECRET: '${secret:EVERY_TOKEN}' },
    });
    const list = home.run(['mcp', 'list', '--json']).json<any[]>();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ name: 'everything', transport: 'stdio', enabled: true, state: 'listed', env: ['CONFIGURED', 'FROM_SECRET'] });
    expect(list[0].tools).toBeGreaterThanOrEqual(10);
    // Values of env entries are never listed, only their names.
    expect(JSON.stringify(list)).not.toContain('EVERY_TOKEN}');
    expect(home.run(['mcp', 'add', 'everything', '--', NODE, EVERYTHING]).stderr).toContain('CAD_ERR_MCP_SERVER_EXISTS');
  });

  it('tools list shows them with full descriptors from the MCP annotations, without connecting', () => {
    const connects = audit(home).filter((e) => e.kind === 'mcp.connect').length;
    const r = home.run(['tools', 'list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const tools = r.json<any[]>().filter((t) => t.origin === 'mcp');
    const echo = tools.find((t) => t.name === 'mcp__everything__echo');
    expect(echo).toMatchObject({
      plugin: 'mcp:everything', origin: 'mcp', status: 'available', mutating: false, idempotent: true, visibility: 'prompt',
      trustClasses: ['model', 'operator', 'plugin'], timeoutMs: 60_000, auditKind: 'mcp', toolset: 'mcp',
      mcp: { server: 'everything', tool: 'echo', annotations: { readOnlyHint: true, idempotentHint: true } },
    });
    expect(echo.inputSchema).toMatchObject({ type: 'object', required: ['message'] });
    expect(echo.inputSchema.$schema).toBeUndefined();
    // A tool without readOnlyHint is mutating.
    expect(tools.find((t) => t.name === 'mcp__everything__toggle-simulated-logging')).toMatchObject({ mutating: true, idempotent: false });
    expect(audit(home).filter((e) => e.kind === 'mcp.connect').length).toBe(connects);
    const text = home.run(['tools', 'list']);
    expect(text.stdout).toMatch(/mcp__everything__get-sum\s+mcp:everything\s+available\s+read-only/);
  });

  it('tools call runs them through the pipeline and audits each call under mcp:<server>', () => {
    const r = home.run(['tools', 'call', 'mcp__everything__echo', '{"message":"hello over stdio"}']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ content: [{ type: 'text', text: 'Echo: hello over stdio' }] });
    const sum = home.run(['tools', 'call', 'mcp__everything__get-sum', '{"a":2,"b":40}', '--json']);
    expect(sum.json()).toMatchObject({ ok: true, plugin: 'mcp:everything', result: { content: [{ type: 'text', text: expect.stringContaining('42') }] } });
    const structured = home.run(['tools', 'call', 'mcp__everything__get-structured-content', '{"location":"Chicago"}', '--json']).json();
    expect(structured.result.structuredContent).toMatchObject({ temperature: expect.any(Number) });
    const rows = audit(home).filter((e) => e.kind === 'tool.call' && e.plugin === 'mcp:everything');
    expect(rows.map((e) => [e.tool, e.caller, e.outcome])).toEqual(expect.arrayContaining([
      ['mcp__everything__echo', 'operator', 'ok'], ['mcp__everything__get-sum', 'operator', 'ok'],
    ]));
    expect(rows.every((e) => typeof e.argsDigest === 'string' && typeof e.resultDigest === 'string')).toBe(true);
  });

  it('arguments are validated against the server schema before the server is started', () => {
    const connects = audit(home).filter((e) => e.kind === 'mcp.connect').length;
    const r = home.run(['tools', 'call', 'mcp__everything__get-sum', '{"a":"two"}']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CAD_ERR_TOOL_ARGS_INVALID');
    expect(r.stderr).toContain("of MCP server 'everything'");
    expect(audit(home).filter((e) => e.kind === 'mcp.connect').length).toBe(connects);
  });

  it('the server process gets a filtered environment: configured values and referenced secrets, nothing else', () => {
    const r = home.run(['tools', 'call', 'mcp__everything__get-env', '{}'], { env: { OPENAI_API_KEY: 'sk-must-not-leak', CADUCEUS_TEST_LEAK: 'leaky' } });
    expect(r.code, r.stderr).toBe(0);
    const env = JSON.parse(JSON.parse(r.stdout).content[0].text);
    expect(env).toMatchObject({ CONFIGURED: 'yes', FROM_SECRET: 'tok-5f0c1d' });
    expect(env.PATH).toBeTruthy();
    for (const leaked of ['OPENAI_API_KEY', 'CADUCEUS_TEST_LEAK', 'CADUCEUS_HOME', 'NO_COLOR']) expect(env[leaked]).toBeUndefined();
    // The secret's value stays out of the audit log.
    expect(JSON.stringify(audit(home))).not.toContain('tok-5f0c1d');
  });

  it('guards on beforeToolCall apply to MCP tools: deny, and an ask that nobody can answer', () => {
    editConfig(home, (c) => { c.plugins = { 'tool-policy': { deny: ['mcp__everything__get-sum'], ask: ['mcp__everything__echo'] } }; });
    const denied = home.run(['tools', 'call', 'mcp__everything__get-sum', '{"a":1,"b":2}']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('CAD_ERR_TOOL_DENIED');
    const asked = home.run(['tools', 'call', 'mcp__everything__echo', '{"message":"x"}']);
    expect(asked.code).toBe(1);
    expect(asked.stderr).toContain('needs approval');
    const rows = audit(home);
    expect(rows.some((e) => e.kind === 'tool.call' && e.tool === 'mcp__everything__get-sum' && e.outcome === 'denied')).toBe(true);
    expect(rows.some((e) => e.kind === 'approval' && e.tool === 'mcp__everything__echo' && e.outcome === 'denied' && e.detail.answer === 'no-one-to-ask')).toBe(true);
    editConfig(home, (c) => { delete c.plugins; });
  });

  it('tools.include and tools.exclude: filtered tools list as disabled and do not run; include wins', () => {
    editConfig(home, (c) => { c.mcpServers.everything.tools = { include: ['echo', 'get-*'], exclude: ['get-sum'] }; });
    const tools = home.run(['tools', 'list', '--json']).json<any[]>().filter((t) => t.origin === 'mcp');
    const status = Object.fromEntries(tools.map((t) => [t.mcp.tool, t.status]));
    expect(status).toMatchObject({ 'echo': 'available', 'get-sum': 'available', 'get-env': 'available', 'toggle-simulated-logging': 'disabled' });
    const toggle = tools.find((t) => t.mcp.tool === 'toggle-simulated-logging');
    expect(toggle.reason).toContain('mcpServers.everything.tools.include');
    const r = home.run(['tools', 'call', 'mcp__everything__toggle-simulated-logging', '{}']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CAD_ERR_TOOL_UNAVAILABLE');
    const forModel = home.run(['tools', 'list', '--for-model', '--json']).json<any[]>().map((t) => t.name);
    expect(forModel).toContain('mcp__everything__echo');
    expect(forModel).not.toContain('mcp__everything__toggle-simulated-logging');
    editConfig(home, (c) => { c.mcpServers.everything.tools = { exclude: ['get-sum'] }; });
    const after = home.run(['tools', 'list', '--json']).json<any[]>();
    expect(after.find((t) => t.name === 'mcp__everything__get-sum').status).toBe('disabled');
    expect(after.find((t) => t.name === 'mcp__everything__toggle-simulated-logging').status).toBe('available');
    editConfig(home, (c) => { delete c.mcpServers.everything.tools; });
  });

  it('the model-facing list includes MCP tools, with the trust class model', () => {
    const r = home.run(['tools', 'list', '--for-model', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const echo = r.json<any[]>().find((t) => t.name === 'mcp__everything__echo');
    expect(echo.trustClasses).toContain('model');
  });

  it('a plugin reaches an MCP tool through ctx.tools.call with a tools.call grant, as caller plugin:<id>', () => {
    const dir = writePlugin(tempDir('cad-mcp-bridge-'), 'bridge', `import { definePlugin, defineTool, z } from 'caduceus/sdk';
export default definePlugin({ tools: [
  defineTool({ name: 'bridge_sum', description: 'Adds through an MCP tool.', input: z.object({ a: z.number(), b: z.number() }),
    handler: async ({ a, b }, ctx) => ({ answer: await ctx.tools.call('mcp__everything__get-sum', { a, b }) }) }),
] });`, { permissions: ['tools.call:mcp__everything__get-sum'] });
    for (const args of [['plugin', 'build', dir], ['plugins', 'install', dir], ['plugins', 'enable', 'bridge', '--yes']]) {
      const r = home.run(args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    const r = home.run(['tools', 'call', 'bridge_sum', '{"a":20,"b":22}', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.stringify(r.json().result)).toContain('42');
    expect(audit(home).some((e) => e.kind === 'tool.call' && e.tool === 'mcp__everything__get-sum' && e.caller === 'plugin:bridge' && e.outcome === 'ok')).toBe(true);
  });

  it('caduceus types includes MCP tools, so a plugin calling one through ctx.tools.call is type-checked', () => {
    const out = join(tempDir('cad-mcp-types-'), 'tools.d.ts');
    const r = home.run(['types', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().tools.find((t: any) => t.name === 'mcp__everything__get-sum')).toMatchObject({ plugin: 'mcp:everything' });
    const dts = readFileSync(out, 'utf8');
    expect(dts).toContain('mcp__everything__get-sum, from MCP server everything');
    expect(dts).toContain('"mcp__everything__get-sum": { args: McpEverythingGetSumArgs;');
    expect(dts).toMatch(/interface McpEverythingGetSumArgs \{[^}]*a: number;[^}]*b: number;/);
  });

  it('disable, enable and remove', () => {
    expect(home.run(['mcp', 'disable', 'everything']).code).toBe(0);
    expect(config(home).mcpServers.everything.enabled).toBe(false);
    const disabled = home.run(['tools', 'call', 'mcp__everything__echo', '{"message":"x"}']);
    expect(disabled.stderr).toContain('CAD_ERR_TOOL_UNAVAILABLE');
    expect(disabled.stderr).toContain('caduceus mcp enable everything');
    expect(home.run(['mcp', 'enable', 'everything']).code).toBe(0);
    expect(config(home).mcpServers.everything.enabled).toBeUndefined();
    expect(home.run(['tools', 'call', 'mcp__everything__echo', '{"message":"back"}']).stdout).toContain('Echo: back');
    const removed = home.run(['mcp', 'remove', 'everything', '--json']);
    expect(removed.json()).toEqual({ ok: true, server: 'everything', removed: true });
    expect(config(home).mcpServers).toEqual({});
    expect(home.run(['tools', 'list', '--json']).json<any[]>().some((t) => t.origin === 'mcp')).toBe(false);
    const again = home.run(['mcp', 'remove', 'everything']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('CAD_ERR_MCP_SERVER_NOT_FOUND');
  });
});

describe('caduceus mcp import', () => {
  it('imports a claude_desktop_config.json: valid entries in, invalid ones named with their field, foreign fields dropped', () => {
    const home = makeHome();
    try {
      const file = join(tempDir('cad-mcp-import-'), 'claude_desktop_config.json');
      writeFileSync(file, JSON.stringify({
        globalShortcut: 'Ctrl+Space',
        mcpServers: {
          minimal: { command: NODE, args: [MINIMAL] },
          'my server': { command: NODE, args: [MINIMAL], autoApprove: ['greet'], disabled: true },
          remote: { url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer ${secret:REMOTE}' } },
          broken: { command: 'node', url: 'https://x.example/mcp' },
          old: { url: 'https://old.example/sse', type: 'sse' },
        },
      }));
      const r = home.run(['mcp', 'import', file, '--json']);
      expect(r.code).toBe(1);
      const out = r.json();
      expect(out.imported.map((i: any) => i.name).sort()).toEqual(['minimal', 'my-server', 'remote']);
      expect(out.imported.find((i: any) => i.name === 'my-server').notes).toEqual(expect.arrayContaining(['renamed from "my server"', 'dropped "autoApprove"']));
      expect(out.skipped).toEqual(expect.arrayContaining([
        expect.objectContaining({ name: 'broken', code: 'CAD_ERR_MCP_CONFIG', reason: expect.stringContaining("field 'url'") }),
        expect.objectContaining({ name: 'old', code: 'CAD_ERR_MCP_CONFIG', reason: expect.stringContaining("field 'type'") }),
      ]));
      const servers = JSON.parse(readFileSync(join(home.dir, 'config.json'), 'utf8')).mcpServers;
      expect(servers['my-server']).toEqual({ command: NODE, args: [MINIMAL], enabled: false });
      // Importing again skips what exists; --force replaces.
      const again = home.run(['mcp', 'import', file, '--json']).json();
      expect(again.imported).toEqual([]);
      expect(again.skipped.filter((s: any) => s.code === 'CAD_ERR_MCP_SERVER_EXISTS').map((s: any) => s.name).sort()).toEqual(['minimal', 'my server', 'remote']);
      // An imported server works: its tool is listed on first use.
      const call = home.run(['tools', 'call', 'mcp__minimal__greet', '{"name":"Ada"}']);
      expect(call.code, call.stderr).toBe(0);
      expect(call.stdout).toContain('Hello, Ada!');
      const missing = home.run(['mcp', 'import', join(tempDir(), 'nope.json')]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('CAD_ERR_MCP_IMPORT');
    } finally {
      home.cleanup();
    }
  }, 60_000);
});
