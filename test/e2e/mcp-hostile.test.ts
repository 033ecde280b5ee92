/**
 * MCP servers that misbehave, through the built CLI and the public kernel API: a server that dies
 * mid-call (restarted with backoff, then off for the run, its tools unavailable rather than failing turns),
 * one that never answers (timeouts), one that cannot start, bad config (errors naming the server and the
 * field, other servers unaffected), tool names that collide after sanitising, notifications/tools/
 * list_changed, a bounded stderr log and results over the size cap. The servers are real processes built
 * on the official SDK (test/fixtures/mcp/).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, makeHome, type Home } from '../helpers/cli.js';

const NODE = process.execPath;
const FLAKY = join(ROOT, 'test/fixtures/mcp/flaky-server.mjs');
const SILENT = join(ROOT, 'test/fixtures/mcp/silent-server.mjs');
const { Kernel } = await import(join(ROOT, 'dist/core/index.js')) as { Kernel: any };
const FAST_STRIKES = { maxStrikes: 3, windowMs: 60_000, backoffMs: 50, maxBackoffMs: 200 };

function writeServers(home: Home, servers: Record<string, unknown>, extra: Record<string, unknown> = {}): void {
  writeFileSync(join(home.dir, 'config.json'), JSON.stringify({ ...extra, mcpServers: servers }, null, 2));
}

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('a server that dies', () => {
  let home: Home;
  beforeAll(() => {
    home = makeHome();
    writeServers(home, { flaky: { command: NODE, args: [FLAKY] } });
  });
  afterAll(() => home.cleanup());

  it('through the CLI: the call fails with CAD_ERR_MCP_SERVER_EXITED quoting its last words, audited as a crash', () => {
    const r = home.run(['tools', 'call', 'mcp__flaky__crash', '{}']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CAD_ERR_MCP_SERVER_EXITED');
    expect(r.stderr).toContain('crashing on purpose');
    const rows = home.run(['audit', 'tail', '-n', '50', '--json']).json<any[]>();
    expect(rows.some((e) => e.kind === 'tool.call' && e.tool === 'mcp__flaky__crash' && e.outcome === 'crash' && e.code === 'CAD_ERR_MCP_SERVER_EXITED')).toBe(true);
    expect(rows.some((e) => e.kind === 'mcp.exit' && e.plugin === 'mcp:flaky')).toBe(true);
  });

  it('in one kernel: restarted with backoff after each death, then off for the run, its tools unavailable and hidden from models', async () => {
    const k = new Kernel({ home: home.dir, strikePolicy: FAST_STRIKES });
    try {
      for (let strike = 1; strike <= 3; strike++) {
        const crash = await k.callTool('mcp__flaky__crash', {}, { caller: 'model' });
        expect(crash.ok).toBe(false);
        expect(crash.error.code).toBe('CAD_ERR_MCP_SERVER_EXITED');
        if (strike < 3) {
          // In backoff its tools are degraded, still offered; the next call restarts it.
          expect(k.toolView('mcp__flaky__echo').status).toBe('degraded');
          const echo = await k.callTool('mcp__flaky__echo', { message: `after ${strike}` }, { caller: 'model' });
          expect(echo.ok, JSON.stringify(echo)).toBe(true);
          expect(echo.result.content[0].text).toBe(`echo: after ${strike}`);
        }
      }
      const view = k.toolView('mcp__flaky__echo');
      expect(view.status).toBe('unavailable');
      expect(view.reason).toContain('failed 3 times');
      expect((await k.resolveToolsForModel()).some((t: any) => t.plugin === 'mcp:flaky')).toBe(false);
      const t0 = Date.now();
      const after = await k.callTool('mcp__flaky__echo', { message: 'x' }, { caller: 'model' });
      expect(after.ok).toBe(false);
      expect(after.error.code).toBe('CAD_ERR_TOOL_UNAVAILABLE');
      expect(Date.now() - t0).toBeLessThan(1000);
      const rows = k.tailAudit(100, { kind: 'mcp.down' });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ plugin: 'mcp:flaky', detail: { strikes: 3 } });
    } finally {
      await k.close();
    }
  });

  it('a tool that reports an error, and a result over the size cap, are coded failures; the server keeps serving', async () => {
    const k = new Kernel({ home: home.dir, strikePolicy: FAST_STRIKES });
    try {
      const fail = await k.callTool('mcp__flaky__fail', {}, { caller: 'operator' });
      expect(fail.error).toMatchObject({ code: 'CAD_ERR_TOOL_FAILED', message: expect.stringContaining('the widget is broken') });
      const big = await k.callTool('mcp__flaky__big', { kb: 5 * 1024 }, { caller: 'operator' });
      expect(big.error.code).toBe('CAD_ERR_SANDBOX_RESULT_TOO_LARGE');
      expect((await k.callTool('mcp__flaky__echo', { message: 'still here' }, { caller: 'operator' })).ok).toBe(true);
    } finally {
      await k.close();
    }
  });
});

describe('a server that never answers', () => {
  let home: Home;
  beforeAll(() => {
    home = makeHome();
    writeServers(home, {
      silent: { command: NODE, args: [SILENT], timeout: 800 },
      flaky: { command: NODE, args: [FLAKY], timeout: 1000 },
    });
  });
  afterAll(() => home.cleanup());

  it('initialize times out with CAD_ERR_MCP_TIMEOUT naming the timeout to raise, and the process is ended', () => {
    const t0 = Date.now();
    const r = home.run(['mcp', 'test', 'silent']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CAD_ERR_MCP_TIMEOUT');
    expect(r.stderr).toContain("MCP server 'silent' did not answer initialize within 800 ms");
    expect(r.stderr).toContain('mcpServers.silent.timeout');
    expect(Date.now() - t0).toBeLessThan(15_000);
  });

  it('a tool call that hangs times out (audited as timeout) and the server still answers the next call', async () => {
    const r = home.run(['tools', 'call', 'mcp__flaky__hang', '{}']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CAD_ERR_MCP_TIMEOUT');
    const rows = home.run(['audit', 'tail', '-n', '30', '--json']).json<any[]>();
    expect(rows.some((e) => e.kind === 'tool.call' && e.tool === 'mcp__flaky__hang' && e.outcome === 'timeout')).toBe(true);
    const k = new Kernel({ home: home.dir });
    try {
      expect((await k.callTool('mcp__flaky__hang', {}, { caller: 'operator' })).error.code).toBe('CAD_ERR_MCP_TIMEOUT');
      expect((await k.callTool('mcp__flaky__echo', { message: 'ok' }, { caller: 'operator' })).ok).toBe(true);
    } finally {
      await k.close();
    }
  });
});

describe('a server that cannot start', () => {
  it('mcp add keeps the entry and warns with the server\'s own words; mcp test fails; a missing program is named', () => {
    const home = makeHome();
    try {
      const add = home.run(['mcp', 'add', 'broken', '--', NODE, '-e', "process.stderr.write('cannot start: MISSING_API_KEY is not set\\n'); process.exit(2)"]);
      expect(add.code, add.stderr).toBe(0);
      expect(add.stderr).toContain('CAD_ERR_MCP_CONNECT');
      expect(add.stderr).toContain('MISSING_API_KEY is not set');
      const test = home.run(['mcp', 'test', 'broken']);
      expect(test.code).toBe(1);
      expect(test.stderr).toContain('CAD_ERR_MCP_CONNECT');
      const nope = home.run(['mcp', 'add', 'nope', '--', '/nonexistent/mcp-server-bin']);
      expect(nope.stderr).toContain("cannot run the command '/nonexistent/mcp-server-bin' (not found)");
      expect(nope.stderr).toContain('mcpServers.nope.command');
      // The failures are audited, and a listing still works.
      expect(home.run(['tools', 'list']).code).toBe(0);
      const rows = home.run(['audit', 'tail', '-n', '30', '--json']).json<any[]>();
      expect(rows.filter((e) => e.kind === 'mcp.connect' && e.outcome === 'error').map((e) => e.plugin)).toEqual(expect.arrayContaining(['mcp:broken', 'mcp:nope']));
    } finally {
      home.cleanup();
    }
  });
});

describe('bad config', () => {
  let home: Home;
  beforeAll(() => {
    home = makeHome();
    writeServers(home, {
      good: { command: NODE, args: [FLAKY] },
      both: { command: 'node', url: 'https://example.com/mcp' },
      slow: { command: 'node', timeout: 5 },
      filters: { command: 'node', tools: { include: 'echo' } },
      typo: { comand: 'node' },
      secretive: { command: NODE, args: [FLAKY], env: { TOKEN: '${secret:NOT_STORED}' } },
    });
  });
  afterAll(() => home.cleanup());

  it('tools list still works and warns, naming each bad server and its field', () => {
    expect(home.run(['mcp', 'test', 'good']).code).toBe(0);
    const r = home.run(['tools', 'list']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('mcp__good__echo');
    for (const [server, field] of [['both', 'url'], ['slow', 'timeout'], ['filters', 'tools.include'], ['typo', 'comand']]) {
      expect(r.stderr).toContain(`MCP server '${server}' in $CADUCEUS_HOME/config.json: field '${field}'`);
    }
    expect(r.stderr).toContain('CAD_ERR_MCP_CONFIG');
  });

  it('mcp test of a bad server fails with CAD_ERR_MCP_CONFIG; a missing secret names the secret and the fix', () => {
    const slow = home.run(['mcp', 'test', 'slow']);
    expect(slow.code).toBe(1);
    expect(slow.stderr).toContain("field 'timeout' must be a whole number of milliseconds from 100 to 600000 (it is 5)");
    const secretive = home.run(['mcp', 'test', 'secretive']);
    expect(secretive.code).toBe(1);
    expect(secretive.stderr).toContain("MCP server 'secretive': field 'env.TOKEN' names the secret 'NOT_STORED'");
    expect(secretive.stderr).toContain('caduceus secrets set NOT_STORED');
    const missing = home.run(['mcp', 'test', 'nosuch']);
    expect(missing.stderr).toContain('CAD_ERR_MCP_SERVER_NOT_FOUND');
  });

  it('mcp list and doctor report the invalid entries; mcp add refuses a bad entry without touching config.json', () => {
    const list = home.run(['mcp', 'list', '--json']).json<any[]>();
    expect(list.filter((s) => s.state === 'invalid').map((s) => s.name).sort()).toEqual(['both', 'filters', 'slow', 'typo']);
    const doctor = home.run(['doctor', '--json']);
    expect(doctor.code).toBe(1);
    expect(doctor.json().plugins).toEqual(expect.arrayContaining([expect.objectContaining({ plugin: 'mcp:slow', ok: false, code: 'CAD_ERR_MCP_CONFIG' })]));
    const before = readFileSync(join(home.dir, 'config.json'), 'utf8');
    const add = home.run(['mcp', 'add', 'fast', '--timeout', '7', '--', 'node']);
    expect(add.code).toBe(1);
    expect(add.stderr).toContain("MCP server 'fast' in $CADUCEUS_HOME/config.json: field 'timeout'");
    const sse = home.run(['mcp', 'add', 'ftp', '--url', 'ftp://example.com/mcp']);
    expect(sse.stderr).toContain("field 'url' must be http: or https:");
    expect(readFileSync(join(home.dir, 'config.json'), 'utf8')).toBe(before);
  });

  it('mcp add refuses to rewrite a config.json that is not JSON', () => {
    const h = makeHome();
    try {
      writeFileSync(join(h.dir, 'config.json'), '{ "mcpServers": ');
      const r = h.run(['mcp', 'add', 'x', '--no-connect', '--', 'node']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('CAD_ERR_CONFIG_INVALID');
      expect(readFileSync(join(h.dir, 'config.json'), 'utf8')).toBe('{ "mcpServers": ');
    } finally {
      h.cleanup();
    }
  });
});

describe('names', () => {
  it('tools whose names collide after sanitising are a conflict naming both servers, and neither runs', () => {
    const home = makeHome();
    try {
      writeServers(home, { 'fl.a': { command: NODE, args: [FLAKY] }, 'fl_a': { command: NODE, args: [FLAKY] } });
      expect(home.run(['mcp', 'test', 'fl.a']).code).toBe(0);
      expect(home.run(['mcp', 'test', 'fl_a']).code).toBe(0);
      const echo = home.run(['tools', 'list', '--json']).json<any[]>().find((t) => t.name === 'mcp__fl_a__echo');
      expect(echo.status).toBe('unavailable');
      expect(echo.reason).toBe("tool name 'mcp__fl_a__echo' is contributed by 'mcp:fl.a' and 'mcp:fl_a'");
      const r = home.run(['tools', 'call', 'mcp__fl_a__echo', '{"message":"x"}']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('CAD_ERR_TOOL_UNAVAILABLE');
      const doctor = home.run(['doctor', '--json']).json();
      expect(doctor.plugins).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'CAD_ERR_REGISTRY_DUPLICATE', fix: expect.stringContaining('tools.exclude') })]));
    } finally {
      home.cleanup();
    }
  });

  it('long server and tool names are shortened to 64 characters and still call the right tool', () => {
    const home = makeHome();
    try {
      const server = 'a-server-whose-name-goes-on-and-on-for-quite-a-while-really-x';
      writeServers(home, { [server]: { command: NODE, args: [FLAKY] } });
      const r = home.run(['mcp', 'test', server, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const names: string[] = r.json().tools.map((t: any) => t.name);
      for (const n of names) expect(n).toMatch(/^mcp__[A-Za-z0-9_-]+__[A-Za-z0-9_-]+_[0-9a-f]{8}$/);
      for (const n of names) expect(n.length).toBeLessThanOrEqual(64);
      const echo = r.json().tools.find((t: any) => t.mcpName === 'echo').name;
      const call = home.run(['tools', 'call', echo, '{"message":"long"}']);
      expect(call.stdout).toContain('echo: long');
    } finally {
      home.cleanup();
    }
  });
});

describe('notifications/tools/list_changed', () => {
  it('a tool the server adds while connected appears in the registry, runs, and is cached for later listings', async () => {
    const home = makeHome();
    try {
      writeServers(home, { flaky: { command: NODE, args: [FLAKY] } });
      const k = new Kernel({ home: home.dir });
      try {
        expect(k.toolView('mcp__flaky__extra_1')).toBeUndefined();
        const added = await k.callTool('mcp__flaky__add_tool', {}, { caller: 'operator' });
        expect(added.ok, JSON.stringify(added)).toBe(true);
        await until(() => k.toolView('mcp__flaky__extra_1') !== undefined);
        const extra = await k.callTool('mcp__flaky__extra_1', {}, { caller: 'model' });
        expect(extra.result.content[0].text).toBe('extra_1 says hi');
        expect(k.tailAudit(50, { kind: 'mcp.tools-changed' }).length).toBeGreaterThanOrEqual(1);
      } finally {
        await k.close();
      }
      const listed = home.run(['tools', 'list', '--json']).json<any[]>().map((t) => t.name);
      expect(listed).toContain('mcp__flaky__extra_1');
    } finally {
      home.cleanup();
    }
  });
});

describe('the stderr log', () => {
  it('goes to $CADUCEUS_HOME/logs/mcp/<server>.log, owner-only, and rotates at 256 KiB', () => {
    const home = makeHome();
    try {
      writeServers(home, { noisy: { command: NODE, args: [FLAKY], env: { FLAKY_STDERR_BYTES: '700000' } } });
      const r = home.run(['mcp', 'test', 'noisy']);
      expect(r.code, r.stderr).toBe(0);
      const log = join(home.dir, 'logs/mcp/noisy.log');
      expect(existsSync(`${log}.1`)).toBe(true);
      for (const f of [log, `${log}.1`]) {
        expect(statSync(f).size).toBeLessThanOrEqual(256 * 1024);
        expect(statSync(f).mode & 0o777).toBe(0o600);
      }
      expect(readFileSync(log, 'utf8')).toContain('flaky server ready');
    } finally {
      home.cleanup();
    }
  });
});
