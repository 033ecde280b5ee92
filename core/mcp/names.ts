/**
 * Registry names of MCP tools: `mcp__<server>__<tool>`, each part sanitised to `[A-Za-z0-9_-]` (anything
 * else becomes `_`), at most 64 characters in all (what OpenAI and Anthropic accept as a function name).
 * A longer name is shortened deterministically: the server part keeps up to its first 16 characters (more
 * when the tool part is short), the tool part fills the rest, and `_` plus 8 hex digits of an FNV-1a hash
 * of the original server and tool names ends it, so two long names that share a prefix still differ.
 * Names that collide after sanitising (`a.b` and `a_b`) are not disambiguated: the registry reports them
 * as a conflict naming both owners (core/tool-source.ts).
 */

export const MCP_PREFIX = 'mcp__';
const MAX = 64;
const HASH_LEN = 8;

export function sanitizePart(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, '_');
}

/** 32-bit FNV-1a over UTF-16 code units, as 8 hex digits: stable across runs, no crypto module to load. */
export function shortHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(HASH_LEN, '0');
}

export function mcpToolName(server: string, tool: string): string {
  const s = sanitizePart(server);
  const t = sanitizePart(tool);
  const full = `${MCP_PREFIX}${s}__${t}`;
  if (full.length <= MAX) return full;
  const budget = MAX - MCP_PREFIX.length - 2 - 1 - HASH_LEN; // 48 characters for server + tool
  const sLen = Math.min(s.length, Math.max(16, budget - t.length));
  const tLen = budget - sLen;
  return `${MCP_PREFIX}${s.slice(0, sLen)}__${t.slice(0, tLen)}_${shortHash(`${server}\u0000${tool}`)}`;
}

/** A valid server name (config key): what `mcp add` accepts and `mcp import` renames to. */
export const SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** The closest valid server name: invalid characters become `-`, trimmed to 64. */
export function toServerName(raw: string): string {
  const s = raw.trim().replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64);
  return s || 'server';
}
