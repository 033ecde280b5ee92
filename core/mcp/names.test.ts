/** Registry names of MCP tools: sanitised, at most 64 characters, shortened deterministically. */
import { describe, expect, it } from 'vitest';
import { mcpToolName, shortHash, toServerName } from './names.js';

const VALID = /^[A-Za-z0-9_-]{1,64}$/;

describe('mcpToolName', () => {
  it('is mcp__<server>__<tool> with anything outside [A-Za-z0-9_-] turned into _', () => {
    expect(mcpToolName('github', 'create_issue')).toBe('mcp__github__create_issue');
    expect(mcpToolName('my.server', 'files/read file')).toBe('mcp__my_server__files_read_file');
    expect(mcpToolName('ünï', 'tool.v2')).toBe('mcp___n___tool_v2');
  });

  it('shortens names past 64 characters to exactly 64, ending in 8 hex digits of a hash of the original names', () => {
    const long = mcpToolName('server', `a_tool_with_a_name_that_keeps_going_${'x'.repeat(40)}`);
    expect(long).toHaveLength(64);
    expect(long).toMatch(/^mcp__server__a_tool_with_a_name_that_keeps_going_x+_[0-9a-f]{8}$/);
    const both = mcpToolName('s'.repeat(60), 't'.repeat(60));
    expect(both).toMatch(VALID);
    expect(both.startsWith(`mcp__${'s'.repeat(16)}__`)).toBe(true);
  });

  it('keeps two long names that share their first 64 characters apart, and is stable', () => {
    const a = mcpToolName('srv', `${'y'.repeat(70)}_one`);
    const b = mcpToolName('srv', `${'y'.repeat(70)}_two`);
    expect(a).not.toBe(b);
    expect(a).toMatch(VALID);
    expect(mcpToolName('srv', `${'y'.repeat(70)}_one`)).toBe(a);
  });

  it('never exceeds 64 characters or leaves the allowed alphabet', () => {
    for (const s of ['a', 'x'.repeat(64), 'dots.and spaces', '日本語']) {
      for (const t of ['b', 'y'.repeat(200), 'slash/name', 'emoji🙂']) expect(mcpToolName(s, t)).toMatch(VALID);
    }
  });
});

describe('shortHash and toServerName', () => {
  it('shortHash is 8 hex digits and differs for different input', () => {
    expect(shortHash('a')).toMatch(/^[0-9a-f]{8}$/);
    expect(shortHash('a\u0000b')).not.toBe(shortHash('a\u0000c'));
  });

  it('toServerName makes a config key valid', () => {
    expect(toServerName('my server')).toBe('my-server');
    expect(toServerName('  @scope/pkg  ')).toBe('scope-pkg');
    expect(toServerName('!!!')).toBe('server');
  });
});
