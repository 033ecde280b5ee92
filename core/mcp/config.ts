/**
 * `mcpServers` in $CADUCEUS_HOME/config.json, in the shape Claude Desktop and other MCP clients use:
 *
 *   "mcpServers": {
 *     "everything": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-everything"], "env": { "KEY": "${secret:KEY}" } },
 *     "remote":     { "url": "https://example.com/mcp", "headers": { "Authorization": "Bearer ${env:REMOTE_TOKEN}" } }
 *   }
 *
 * plus Caduceus fields: `enabled` (default true), `timeout` (ms per request, default 60 000), `cwd`, and
 * `tools.include` / `tools.exclude` (tool names, `*` matches any run of characters; when `include` is
 * set only what it names is served, so a tool named in both is included). Validation is hand-written (no
 * zod) because `caduceus tools list` reads this on every run. Each server is checked on its own: one bad
 * entry is reported naming the server and the field, and the others keep working.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CaduceusError } from '../errors.js';
import { SERVER_NAME } from './names.js';

export const DEFAULT_TIMEOUT_MS = 60_000;
export const MAX_TIMEOUT_MS = 600_000;
export const MIN_TIMEOUT_MS = 100;

export interface McpServerConfig {
  name: string;
  transport: 'stdio' | 'http';
  command?: string;
  args: string[];
  /** Literal values or `${secret:NAME}` / `${env:NAME}` references, resolved at connect (env.ts). */
  env: Record<string, string>;
  cwd?: string;
  url?: string;
  headers: Record<string, string>;
  enabled: boolean;
  timeoutMs: number;
  include?: string[];
  exclude?: string[];
  /** The fields that decide which process or endpoint answers; a cached tool list is valid only for these. */
  fingerprint: string;
}

export interface ParsedServers {
  servers: McpServerConfig[];
  /** One coded error per entry that is not valid (CAD_ERR_MCP_CONFIG), or for the whole section. */
  problems: CaduceusError[];
}

const KNOWN = new Set(['type', 'command', 'args', 'env', 'cwd', 'url', 'headers', 'enabled', 'timeout', 'tools', 'description']);

function bad(server: string, field: string, what: string): CaduceusError {
  return new CaduceusError('CAD_ERR_MCP_CONFIG',
    `MCP server '${server}' in $CADUCEUS_HOME/config.json: field '${field}' ${what}. Fix mcpServers.${server}.${field}, or run \`caduceus mcp remove ${server}\`.`,
    { plugin: `mcp:${server}`, details: { server, field } });
}

function stringRecord(server: string, field: string, v: unknown): Record<string, string> {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(server, field, 'must be an object of strings');
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') throw bad(server, `${field}.${k}`, `must be a string (it is ${JSON.stringify(val)})`);
    out[k] = val;
  }
  return out;
}

function stringList(server: string, field: string, v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x.length === 0)) throw bad(server, field, 'must be a list of non-empty strings');
  return v as string[];
}

/** Validates one entry; throws CAD_ERR_MCP_CONFIG naming the server and the field. */
export function parseServer(name: string, raw: unknown): McpServerConfig {
  if (!SERVER_NAME.test(name)) {
    throw new CaduceusError('CAD_ERR_MCP_CONFIG',
      `MCP server name ${JSON.stringify(name)} in $CADUCEUS_HOME/config.json is not valid: use letters, digits, '_', '.' and '-' (at most 64, starting with a letter or digit). Rename the key under mcpServers.`,
      { details: { server: name, field: 'name' } });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(name, '(entry)', 'must be an object with "command" or "url"');
  const e = raw as Record<string, unknown>;
  const unknown = Object.keys(e).find((key) => !KNOWN.has(key));
  if (unknown) throw bad(name, unknown, `is not a known field (known: ${[...KNOWN].join(', ')})`);
  const type = e.type;
  if (type !== undefined && !['stdio', 'http', 'streamable-http', 'streamableHttp', 'sse'].includes(type as string)) {
    throw bad(name, 'type', `is ${JSON.stringify(type)}; use "stdio" or "http"`);
  }
  if (type === 'sse') throw bad(name, 'type', 'is "sse": the old HTTP+SSE transport is not supported; use the server\'s Streamable HTTP endpoint ("type": "http")');
  if (e.command !== undefined && e.url !== undefined) throw bad(name, 'url', 'cannot be set together with "command": a server is either a local command (stdio) or a URL (Streamable HTTP)');
  let transport: 'stdio' | 'http';
  if (e.command !== undefined) {
    if (typeof e.command !== 'string' || e.command.trim() === '') throw bad(name, 'command', 'must be a non-empty string (the program to run)');
    if (type !== undefined && type !== 'stdio') throw bad(name, 'type', `is ${JSON.stringify(type)} but the entry has a "command"; use "stdio" or drop "type"`);
    transport = 'stdio';
  } else if (e.url !== undefined) {
    if (typeof e.url !== 'string') throw bad(name, 'url', 'must be a string');
    let u: URL;
    try {
      u = new URL(e.url);
    } catch {
      throw bad(name, 'url', `is not a URL (${JSON.stringify(e.url)})`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw bad(name, 'url', `must be http: or https: (it is ${u.protocol})`);
    if (type === 'stdio') throw bad(name, 'type', 'is "stdio" but the entry has a "url" and no "command"');
    transport = 'http';
  } else {
    throw bad(name, 'command', 'is missing: give "command" (and "args") for a local server, or "url" for a Streamable HTTP one');
  }
  const args = stringList(name, 'args', e.args) ?? [];
  if (transport === 'http' && e.args !== undefined) throw bad(name, 'args', 'applies to "command" servers only');
  const env = stringRecord(name, 'env', e.env);
  for (const key of Object.keys(env)) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw bad(name, `env.${key}`, 'is not a valid environment variable name');
  if (transport === 'http' && e.env !== undefined) throw bad(name, 'env', 'applies to "command" servers only; send credentials with "headers"');
  const headers = stringRecord(name, 'headers', e.headers);
  if (transport === 'stdio' && e.headers !== undefined) throw bad(name, 'headers', 'applies to "url" servers only');
  if (e.cwd !== undefined && (typeof e.cwd !== 'string' || e.cwd === '')) throw bad(name, 'cwd', 'must be a non-empty path');
  if (e.enabled !== undefined && typeof e.enabled !== 'boolean') throw bad(name, 'enabled', 'must be true or false');
  if (e.description !== undefined && typeof e.description !== 'string') throw bad(name, 'description', 'must be a string');
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (e.timeout !== undefined) {
    if (typeof e.timeout !== 'number' || !Number.isInteger(e.timeout) || e.timeout < MIN_TIMEOUT_MS || e.timeout > MAX_TIMEOUT_MS) {
      throw bad(name, 'timeout', `must be a whole number of milliseconds from ${MIN_TIMEOUT_MS} to ${MAX_TIMEOUT_MS} (it is ${JSON.stringify(e.timeout)})`);
    }
    timeoutMs = e.timeout;
  }
  let include: string[] | undefined;
  let exclude: string[] | undefined;
  if (e.tools !== undefined) {
    if (typeof e.tools !== 'object' || e.tools === null || Array.isArray(e.tools)) throw bad(name, 'tools', 'must be an object with "include" and/or "exclude" lists');
    const t = e.tools as Record<string, unknown>;
    const extra = Object.keys(t).find((k) => k !== 'include' && k !== 'exclude');
    if (extra) throw bad(name, `tools.${extra}`, 'is not a known field (use tools.include or tools.exclude)');
    include = stringList(name, 'tools.include', t.include);
    exclude = stringList(name, 'tools.exclude', t.exclude);
  }
  const server: McpServerConfig = {
    name, transport, args, env, headers, enabled: e.enabled !== false, timeoutMs,
    fingerprint: JSON.stringify(transport === 'stdio' ? [e.command, args, e.cwd ?? null, env] : [e.url, headers]),
  };
  if (transport === 'stdio') server.command = e.command as string;
  else server.url = e.url as string;
  if (e.cwd !== undefined) server.cwd = e.cwd as string;
  if (include) server.include = include;
  if (exclude) server.exclude = exclude;
  return server;
}

/** Parses the whole `mcpServers` section; never throws. */
export function parseServers(section: unknown): ParsedServers {
  if (section === undefined || section === null) return { servers: [], problems: [] };
  if (typeof section !== 'object' || Array.isArray(section)) {
    return { servers: [], problems: [new CaduceusError('CAD_ERR_MCP_CONFIG', 'Field mcpServers in $CADUCEUS_HOME/config.json must be an object keyed by server name. Fix it, or remove it.', { details: { field: 'mcpServers' } })] };
  }
  const servers: McpServerConfig[] = [];
  const problems: CaduceusError[] = [];
  for (const [name, raw] of Object.entries(section)) {
    try {
      servers.push(parseServer(name, raw));
    } catch (err) {
      problems.push(err as CaduceusError);
    }
  }
  return { servers, problems };
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/** Whether the server's tool filter lets `tool` (its MCP name) through, and which rule decided. */
export function toolFilter(server: McpServerConfig, tool: string): { ok: true } | { ok: false; rule: string } {
  if (server.include?.length) {
    return server.include.some((g) => globToRegExp(g).test(tool)) ? { ok: true } : { ok: false, rule: `mcpServers.${server.name}.tools.include` };
  }
  const hit = server.exclude?.find((g) => globToRegExp(g).test(tool));
  return hit ? { ok: false, rule: `mcpServers.${server.name}.tools.exclude ('${hit}')` } : { ok: true };
}

// --- writing -------------------------------------------------------------------------------------------

export function configFile(home: string): string {
  return join(home, 'config.json');
}

/**
 * Reads config.json, lets `change` edit the parsed object, and writes it back through a temporary file and
 * a rename, so a reader never sees half a file. Keys it does not touch are kept as they were.
 */
export function updateConfig(home: string, change: (config: Record<string, unknown>) => void): void {
  const file = configFile(home);
  let config: Record<string, unknown> = {};
  let mode = 0o600;
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8');
    mode = statSync(file).mode & 0o777;
    try {
      config = text.trim() ? JSON.parse(text) as Record<string, unknown> : {};
    } catch (err) {
      throw new CaduceusError('CAD_ERR_CONFIG_INVALID', `Config '${file}' is not valid JSON (${(err as Error).message}); fix it before changing MCP servers.`);
    }
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      throw new CaduceusError('CAD_ERR_CONFIG_INVALID', `Config '${file}' must hold a JSON object; fix it before changing MCP servers.`);
    }
  }
  change(config);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new CaduceusError('CAD_ERR_CLI_OUTPUT', `Could not write '${file}' (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Check that $CADUCEUS_HOME is writable.`);
  }
}

/** The raw mcpServers object of a parsed config (created when missing). */
export function serversSection(config: Record<string, unknown>): Record<string, unknown> {
  const s = config.mcpServers;
  if (s === undefined) {
    const fresh: Record<string, unknown> = {};
    config.mcpServers = fresh;
    return fresh;
  }
  if (typeof s !== 'object' || s === null || Array.isArray(s)) {
    throw new CaduceusError('CAD_ERR_MCP_CONFIG', 'Field mcpServers in $CADUCEUS_HOME/config.json must be an object keyed by server name. Fix it by hand first.', { details: { field: 'mcpServers' } });
  }
  return s as Record<string, unknown>;
}
