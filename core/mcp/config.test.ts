/** `mcpServers` entries: the Claude Desktop shape plus Caduceus fields, each error naming server and field. */
import { describe, expect, it } from 'vitest';
import { parseServer, parseServers, toolFilter } from './config.js';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return ((err as { details?: { field?: string } }).details)?.field;
  }
  return undefined;
}

describe('parseServer', () => {
  it('reads stdio and Streamable HTTP entries with their defaults', () => {
    expect(parseServer('fs', { command: 'npx', args: ['-y', 'server'], env: { A: 'b' } })).toMatchObject({
      name: 'fs', transport: 'stdio', command: 'npx', args: ['-y', 'server'], env: { A: 'b' }, enabled: true, timeoutMs: 60_000, headers: {},
    });
    expect(parseServer('remote', { url: 'https://x.example/mcp', headers: { Authorization: 'Bearer t' }, type: 'http', enabled: false, timeout: 5000 })).toMatchObject({
      transport: 'http', url: 'https://x.example/mcp', enabled: false, timeoutMs: 5000,
    });
  });

  it('names the field of each mistake', () => {
    expect(fieldOf(() => parseServer('a', {}))).toBe('command');
    expect(fieldOf(() => parseServer('a', { command: 'x', url: 'http://y' }))).toBe('url');
    expect(fieldOf(() => parseServer('a', { command: '' }))).toBe('command');
    expect(fieldOf(() => parseServer('a', { command: 'x', args: 'y' }))).toBe('args');
    expect(fieldOf(() => parseServer('a', { command: 'x', env: { K: 1 } }))).toBe('env.K');
    expect(fieldOf(() => parseServer('a', { command: 'x', env: { 'BAD-NAME': 'v' } }))).toBe('env.BAD-NAME');
    expect(fieldOf(() => parseServer('a', { command: 'x', headers: { H: 'v' } }))).toBe('headers');
    expect(fieldOf(() => parseServer('a', { url: 'file:///etc/passwd' }))).toBe('url');
    expect(fieldOf(() => parseServer('a', { url: 'https://x', type: 'sse' }))).toBe('type');
    expect(fieldOf(() => parseServer('a', { command: 'x', timeout: 99 }))).toBe('timeout');
    expect(fieldOf(() => parseServer('a', { command: 'x', timeout: 1.5 }))).toBe('timeout');
    expect(fieldOf(() => parseServer('a', { command: 'x', enabled: 'yes' }))).toBe('enabled');
    expect(fieldOf(() => parseServer('a', { command: 'x', tools: { include: ['a'], only: ['b'] } }))).toBe('tools.only');
    expect(fieldOf(() => parseServer('a', { command: 'x', autoApprove: [] }))).toBe('autoApprove');
    expect(fieldOf(() => parseServer('bad name', { command: 'x' }))).toBe('name');
  });

  it('keeps the other servers when one is invalid', () => {
    const r = parseServers({ ok: { command: 'x' }, bad: { url: 'nope' } });
    expect(r.servers.map((s) => s.name)).toEqual(['ok']);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.message).toContain("MCP server 'bad'");
    expect(parseServers([]).problems[0]!.code).toBe('CAD_ERR_MCP_CONFIG');
  });

  it('fingerprints the connection settings only', () => {
    const a = parseServer('s', { command: 'x', args: ['1'] });
    expect(parseServer('s', { command: 'x', args: ['1'], enabled: false, timeout: 1000, tools: { exclude: ['t'] } }).fingerprint).toBe(a.fingerprint);
    expect(parseServer('s', { command: 'x', args: ['2'] }).fingerprint).not.toBe(a.fingerprint);
  });
});

describe('toolFilter', () => {
  it('include wins over exclude; globs match any run of characters', () => {
    const s = parseServer('s', { command: 'x', tools: { include: ['read_*', 'list'], exclude: ['read_secret'] } });
    expect(toolFilter(s, 'read_file')).toEqual({ ok: true });
    expect(toolFilter(s, 'read_secret')).toEqual({ ok: true });
    expect(toolFilter(s, 'write_file')).toEqual({ ok: false, rule: 'mcpServers.s.tools.include' });
    const e = parseServer('s', { command: 'x', tools: { exclude: ['*delete*'] } });
    expect(toolFilter(e, 'bulk_delete_rows')).toEqual({ ok: false, rule: "mcpServers.s.tools.exclude ('*delete*')" });
    expect(toolFilter(e, 'read')).toEqual({ ok: true });
  });
});
