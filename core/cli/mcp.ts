/**
 * `caduceus mcp list|add|remove|enable|disable|test|import|serve`. The configuration commands edit
 * `mcpServers` in $CADUCEUS_HOME/config.json (atomically: a temporary file and a rename) and never load the
 * MCP SDK unless they connect; `add` and `test` connect to list the server's tools and cache them, so that
 * `caduceus tools list` shows them without connecting. `serve` exposes the registry to MCP clients.
 */
import { readFileSync } from 'node:fs';
import { CaduceusError } from '../errors.js';
import type { Kernel } from '../kernel.js';
import type { ToolView } from '../registry.js';
import { readCache, dropCache } from '../mcp/cache.js';
import { parseServer, serversSection, toolFilter, updateConfig, MIN_TIMEOUT_MS, type McpServerConfig } from '../mcp/config.js';
import { SERVER_NAME, toServerName } from '../mcp/names.js';
import { serverLogFile } from '../mcp/server-log.js';
import type { McpToolSource } from '../mcp/source.js';
import { c, printJson, table, EXIT } from './output.js';
import { openKernel, withKernel } from './open.js';

function mcpSource(k: Kernel): McpToolSource {
  return k.toolSources.get('mcp') as McpToolSource;
}

function target(s: Pick<McpServerConfig, 'transport' | 'command' | 'args' | 'url'>): string {
  return s.transport === 'stdio' ? [s.command, ...s.args].join(' ') : s.url!;
}

// --- list ----------------------------------------------------------------------------------------------

export async function list(opts: { json?: boolean }): Promise<number> {
  return withKernel(async (k) => {
    const source = mcpSource(k);
    const { servers, problems } = source.servers();
    const cache = readCache(k.store);
    const rows = servers.map((s) => {
      const cached = cache.get(s.name);
      const current = cached?.fingerprint === s.fingerprint ? cached : undefined;
      const state = !s.enabled ? 'disabled' : !cached ? 'not listed yet' : !current ? 'settings changed' : 'listed';
      return {
        name: s.name, transport: s.transport, enabled: s.enabled, state,
        ...(s.transport === 'stdio' ? { command: s.command, args: s.args, env: Object.keys(s.env) } : { url: s.url, headers: Object.keys(s.headers) }),
        ...(s.cwd ? { cwd: s.cwd } : {}),
        timeoutMs: s.timeoutMs,
        ...(s.include ? { include: s.include } : {}),
        ...(s.exclude ? { exclude: s.exclude } : {}),
        tools: current ? current.tools.length : null,
        served: current ? current.tools.filter((t) => toolFilter(s, t.name).ok).length : null,
        listedAt: current ? new Date(current.fetchedAt).toISOString() : null,
        server: current?.server ?? null,
        ...(s.transport === 'stdio' ? { log: serverLogFile(k.home, s.name) } : {}),
      };
    });
    const invalid = problems.map((e) => ({ name: (e.details as { server?: string } | undefined)?.server ?? null, state: 'invalid', code: e.code, message: e.message }));
    if (opts.json) {
      printJson([...rows, ...invalid]);
      return EXIT.OK;
    }
    if (rows.length === 0 && invalid.length === 0) {
      console.log('No MCP servers. Add one: `caduceus mcp add <name> -- <command> [args…]`, or `caduceus mcp import <claude_desktop_config.json>`.');
      return EXIT.OK;
    }
    if (rows.length) {
      console.log(table(rows.map((r) => [
        r.name, r.transport, r.state === 'listed' ? c.green(r.state) : r.state === 'disabled' ? c.yellow(r.state) : c.dim(r.state),
        r.tools === null ? '-' : r.served === r.tools ? String(r.tools) : `${r.served} of ${r.tools}`,
        'url' in r ? String(r.url) : [r.command, ...(r.args ?? [])].join(' '),
      ]), ['SERVER', 'TRANSPORT', 'STATE', 'TOOLS', 'TARGET']));
    }
    for (const p of invalid) console.log(`${c.red('invalid')} ${p.code}: ${p.message}`);
    const unlisted = rows.filter((r) => r.enabled && r.state !== 'listed').map((r) => r.name);
    if (unlisted.length) console.log(c.dim(`List their tools with \`caduceus mcp test <name>\` (${unlisted.join(', ')}); they are also listed on first use.`));
    return EXIT.OK;
  });
}

// --- add / remove / enable / disable ---------------------------------------------------------------------

interface AddOptions {
  url?: string;
  env?: string[];
  header?: string[];
  cwd?: string;
  timeout?: string;
  include?: string[];
  exclude?: string[];
  disabled?: boolean;
  force?: boolean;
  connect?: boolean;
  json?: boolean;
}

function usage(message: string): CaduceusError {
  return new CaduceusError('CAD_ERR_CLI_USAGE', message);
}

function entryFromOptions(name: string, command: string[], opts: AddOptions): Record<string, unknown> {
  const entry: Record<string, unknown> = {};
  if (opts.url && command.length) throw usage(`\`caduceus mcp add ${name}\` got both --url and a command; a server is either a command (stdio) or a URL.`);
  if (opts.url) entry.url = opts.url;
  else if (command.length) {
    entry.command = command[0];
    if (command.length > 1) entry.args = command.slice(1);
  } else {
    throw usage(`\`caduceus mcp add ${name}\` needs the server: \`-- <command> [args…]\` for a local server, or --url <url> for Streamable HTTP.`);
  }
  if (opts.env?.length) {
    entry.env = Object.fromEntries(opts.env.map((kv) => {
      const at = kv.indexOf('=');
      if (at <= 0) throw usage(`--env ${JSON.stringify(kv)} must be KEY=VALUE (VALUE may be \${secret:NAME} or \${env:NAME}).`);
      return [kv.slice(0, at), kv.slice(at + 1)];
    }));
  }
  if (opts.header?.length) {
    entry.headers = Object.fromEntries(opts.header.map((h) => {
      const at = h.indexOf(':');
      if (at <= 0) throw usage(`--header ${JSON.stringify(h)} must be "Name: value".`);
      return [h.slice(0, at).trim(), h.slice(at + 1).trim()];
    }));
  }
  if (opts.cwd) entry.cwd = opts.cwd;
  if (opts.timeout !== undefined) {
    const n = Number(opts.timeout);
    if (!/^\d+$/.test(opts.timeout)) throw usage(`--timeout ${JSON.stringify(opts.timeout)} must be a whole number of milliseconds.`);
    entry.timeout = n;
  }
  if (opts.include?.length || opts.exclude?.length) {
    entry.tools = { ...(opts.include?.length ? { include: opts.include } : {}), ...(opts.exclude?.length ? { exclude: opts.exclude } : {}) };
  }
  if (opts.disabled) entry.enabled = false;
  return entry;
}

export async function add(name: string, command: string[], opts: AddOptions): Promise<number> {
  const entry = entryFromOptions(name, command, opts);
  const server = parseServer(name, entry);
  const k0 = openKernel();
  try {
    updateConfig(k0.home, (config) => {
      const section = serversSection(config);
      if (section[name] !== undefined && !opts.force) {
        throw new CaduceusError('CAD_ERR_MCP_SERVER_EXISTS', `An MCP server named '${name}' is already configured (${JSON.stringify(section[name])}). Pass --force to replace it, or choose another name.`, { details: { server: name } });
      }
      section[name] = entry;
    });
    dropCache(k0.store, name);
  } finally {
    await k0.close();
  }
  const connect = opts.connect !== false && server.enabled;
  if (!connect) {
    if (opts.json) printJson({ ok: true, server: name, transport: server.transport, connected: false });
    else console.log(`${c.green('added')} MCP server '${name}' (${server.transport}: ${target(server)})${server.enabled ? '' : ', disabled'}. List its tools with \`caduceus mcp test ${name}\`.`);
    return EXIT.OK;
  }
  // A fresh kernel reads the config just written.
  return withKernel(async (k) => {
    try {
      const { tools } = await mcpSource(k).connectNow(name);
      if (opts.json) printJson({ ok: true, server: name, transport: server.transport, connected: true, tools: tools.map(brief) });
      else {
        console.log(`${c.green('added')} MCP server '${name}' (${server.transport}: ${target(server)}): ${tools.length} tool${tools.length === 1 ? '' : 's'}.`);
        if (tools.length) console.log(toolTable(server, tools));
      }
    } catch (err) {
      const e = err as CaduceusError;
      if (opts.json) printJson({ ok: true, server: name, transport: server.transport, connected: false, error: { code: e.code, message: e.message } });
      else {
        console.log(`${c.green('added')} MCP server '${name}' (${server.transport}: ${target(server)}).`);
        process.stderr.write(`${c.yellow('warning')} it could not be connected, so its tools are not listed yet: ${e.code}: ${e.message}\n`);
      }
    }
    return EXIT.OK;
  });
}

function requireExisting(section: Record<string, unknown>, name: string): void {
  if (section[name] === undefined) {
    throw new CaduceusError('CAD_ERR_MCP_SERVER_NOT_FOUND', `No MCP server named '${name}' is configured. Run \`caduceus mcp list\` to see the servers.`, { details: { server: name } });
  }
}

export async function remove(name: string, opts: { json?: boolean }): Promise<number> {
  return withKernel(async (k) => {
    updateConfig(k.home, (config) => {
      const section = serversSection(config);
      requireExisting(section, name);
      delete section[name];
    });
    dropCache(k.store, name);
    if (opts.json) printJson({ ok: true, server: name, removed: true });
    else console.log(`${c.green('removed')} MCP server '${name}'; its tools are gone from the registry.`);
    return EXIT.OK;
  });
}

async function setEnabled(name: string, enabled: boolean, opts: { json?: boolean }): Promise<number> {
  return withKernel(async (k) => {
    updateConfig(k.home, (config) => {
      const section = serversSection(config);
      requireExisting(section, name);
      const entry = section[name];
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) parseServer(name, entry);
      const e = entry as Record<string, unknown>;
      if (enabled) delete e.enabled;
      else e.enabled = false;
    });
    if (opts.json) printJson({ ok: true, server: name, enabled });
    else console.log(`${c.green(enabled ? 'enabled' : 'disabled')} MCP server '${name}'.`);
    return EXIT.OK;
  });
}

export const enable = (name: string, opts: { json?: boolean }) => setEnabled(name, true, opts);
export const disable = (name: string, opts: { json?: boolean }) => setEnabled(name, false, opts);

// --- test ----------------------------------------------------------------------------------------------

function brief(t: ToolView) {
  return { name: t.name, mcpName: t.mcp?.tool, status: t.status, mutating: t.mutating, idempotent: t.idempotent, description: t.description, annotations: t.mcp?.annotations ?? {} };
}

function toolTable(server: McpServerConfig, tools: ToolView[]): string {
  return table(tools.map((t) => {
    const f = toolFilter(server, t.mcp!.tool);
    return [t.name, t.mcp!.tool, f.ok ? c.green('served') : c.yellow('filtered'), t.mutating ? 'mutating' : 'read-only', t.description.split('\n')[0]!.slice(0, 80)];
  }), ['TOOL', 'MCP NAME', 'FILTER', 'KIND', 'DESCRIPTION']);
}

export async function test(name: string, opts: { json?: boolean }): Promise<number> {
  return withKernel(async (k) => {
    const source = mcpSource(k);
    const t0 = performance.now();
    const { connection, tools } = await source.connectNow(name);
    const ms = Math.round(performance.now() - t0);
    const server = connection.server;
    const info = readCache(k.store).get(name)?.server ?? {};
    if (opts.json) {
      printJson({ ok: true, server: name, transport: server.transport, serverInfo: info, connectMs: ms, tools: tools.map(brief), ...(connection.logFile ? { log: connection.logFile } : {}) });
      return EXIT.OK;
    }
    console.log(`${c.green('ok')} MCP server '${name}' (${info.name ?? '?'} ${info.version ?? ''}) answered in ${ms} ms over ${server.transport}: ${tools.length} tool${tools.length === 1 ? '' : 's'}.`);
    if (tools.length) console.log(toolTable(server, tools));
    if (connection.logFile) console.log(c.dim(`stderr log: ${connection.logFile}`));
    return EXIT.OK;
  });
}

// --- import --------------------------------------------------------------------------------------------

/** Fields other clients write that Caduceus does not use; dropped on import, with a note. */
const FOREIGN = new Set(['autoApprove', 'alwaysAllow', 'transportType', 'disabledTools', 'timeoutMs', 'note', 'notes']);

export async function importConfig(file: string, opts: { force?: boolean; json?: boolean }): Promise<number> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new CaduceusError('CAD_ERR_MCP_IMPORT', `Cannot import MCP servers from '${file}': ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}. Point it at a claude_desktop_config.json.`);
  }
  const section = (raw as { mcpServers?: unknown } | null)?.mcpServers;
  if (typeof section !== 'object' || section === null || Array.isArray(section)) {
    throw new CaduceusError('CAD_ERR_MCP_IMPORT', `'${file}' has no "mcpServers" object, so there is nothing to import. Claude Desktop keeps it in claude_desktop_config.json.`);
  }
  const accepted: { name: string; from: string; entry: Record<string, unknown>; notes: string[] }[] = [];
  const skipped: { name: string; reason: string; code?: string }[] = [];
  for (const [from, value] of Object.entries(section as Record<string, unknown>)) {
    const name = SERVER_NAME.test(from) ? from : toServerName(from);
    const notes: string[] = [];
    if (name !== from) notes.push(`renamed from ${JSON.stringify(from)}`);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      skipped.push({ name: from, reason: 'the entry is not an object', code: 'CAD_ERR_MCP_CONFIG' });
      continue;
    }
    const entry: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const key of Object.keys(entry)) {
      if (FOREIGN.has(key)) { delete entry[key]; notes.push(`dropped "${key}"`); }
    }
    if (typeof entry.disabled === 'boolean') {
      if (entry.disabled) entry.enabled = false;
      delete entry.disabled;
    }
    if (typeof entry.timeout === 'number' && entry.timeout < MIN_TIMEOUT_MS) {
      // Some clients (Cline) write the timeout in seconds.
      entry.timeout = entry.timeout * 1000;
      notes.push('timeout read as seconds');
    }
    try {
      parseServer(name, entry);
    } catch (err) {
      skipped.push({ name: from, reason: (err as Error).message, code: (err as CaduceusError).code });
      continue;
    }
    accepted.push({ name, from, entry, notes });
  }
  const imported: typeof accepted = [];
  await withKernel(async (k) => {
    updateConfig(k.home, (config) => {
      const target = serversSection(config);
      for (const a of accepted) {
        if (target[a.name] !== undefined && !opts.force) {
          skipped.push({ name: a.from, reason: `a server named '${a.name}' is already configured (pass --force to replace it)`, code: 'CAD_ERR_MCP_SERVER_EXISTS' });
          continue;
        }
        target[a.name] = a.entry;
        imported.push(a);
      }
    });
    for (const a of imported) dropCache(k.store, a.name);
  });
  const invalid = skipped.some((s) => s.code === 'CAD_ERR_MCP_CONFIG');
  if (opts.json) {
    printJson({ ok: !invalid, file, imported: imported.map((a) => ({ name: a.name, from: a.from, notes: a.notes })), skipped });
    return invalid ? EXIT.FAILURE : EXIT.OK;
  }
  for (const a of imported) console.log(`${c.green('imported')} ${a.name}${a.notes.length ? c.dim(` (${a.notes.join('; ')})`) : ''}`);
  for (const s of skipped) console.log(`${s.code === 'CAD_ERR_MCP_SERVER_EXISTS' ? c.yellow('skipped') : c.red('skipped')} ${s.name}: ${s.reason}`);
  if (imported.length) console.log(c.dim(`List their tools with \`caduceus mcp test <name>\`; they are also listed on first use.`));
  else if (!skipped.length) console.log(`'${file}' lists no MCP servers.`);
  return invalid ? EXIT.FAILURE : EXIT.OK;
}

// --- serve ---------------------------------------------------------------------------------------------

export async function serve(opts: { http?: string }): Promise<number> {
  const { serveHttp, serveStdio } = await import('../mcp/serve.js');
  const k = openKernel();
  try {
    if (opts.http === undefined) {
      await serveStdio(k);
      return EXIT.OK;
    }
    if (!/^\d+$/.test(opts.http) || Number(opts.http) > 65535) throw usage(`--http ${JSON.stringify(opts.http)} must be a port number (0 picks a free one).`);
    const { token, from } = await serveToken(k);
    await serveHttp(k, {
      port: Number(opts.http),
      token,
      onListening: (port) => {
        process.stderr.write(`caduceus mcp serve: Streamable HTTP on http://127.0.0.1:${port}/mcp\n`);
        process.stderr.write(from === 'generated'
          ? `bearer token: ${token}\n(generated for this run; set CADUCEUS_MCP_TOKEN or mcpServe.token in config.json to choose one)\n`
          : `bearer token: from ${from}\n`);
      },
    });
    return EXIT.OK;
  } finally {
    const { unsettled } = await k.close();
    for (const u of unsettled) process.stderr.write(`warning: ${u} never settled before shutdown\n`);
  }
}

async function serveToken(k: Kernel): Promise<{ token: string; from: string }> {
  if (process.env.CADUCEUS_MCP_TOKEN) return { token: process.env.CADUCEUS_MCP_TOKEN, from: 'CADUCEUS_MCP_TOKEN' };
  const configured = k.settings().mcpServe?.token;
  if (configured !== undefined) {
    if (typeof configured !== 'string') throw new CaduceusError('CAD_ERR_CONFIG_INVALID', 'Config field mcpServe.token must be a string (a token, or ${secret:NAME}). Fix it in $CADUCEUS_HOME/config.json.');
    const { resolveRefs } = await import('../mcp/env.js');
    return { token: resolveRefs(undefined, 'mcpServe.token', configured, k.secrets), from: 'mcpServe.token in config.json' };
  }
  const { randomBytes } = await import('node:crypto');
  return { token: randomBytes(24).toString('base64url'), from: 'generated' };
}
