/**
 * External MCP servers as a tool source (core/tool-source.ts). Listing is cheap: it reads `mcpServers`
 * from config.json and each server's last tool list from the store, and neither starts a server nor loads
 * the MCP SDK. Servers connect:
 *   - on the first call of one of their tools (the connection then lives as long as the kernel);
 *   - in `prepare()`, which the model-facing list (`resolveToolsForModel`, so `caduceus run`/`chat`) and
 *     long-running commands call: every enabled server this kernel has not connected is connected, in
 *     parallel, for fresh lists (one that failed before listing anything is tried again after its backoff);
 *   - on a lookup miss of an `mcp__…` name, for the same servers (a server added but never listed);
 *   - by `caduceus mcp add` and `caduceus mcp test`.
 * Each connection refreshes the cached list, so the next `tools list` shows what the server now offers.
 */
import { CaduceusError } from '../errors.js';
import type { Kernel } from '../kernel.js';
import type { ToolView } from '../registry.js';
import type { SourceInvokeOptions, SourceProblem, ToolSource } from '../tool-source.js';
import { readCache, writeCache, type CachedList } from './cache.js';
import { parseServers, toolFilter, type McpServerConfig, type ParsedServers } from './config.js';
import { toToolView } from './descriptor.js';
import { MCP_PREFIX } from './names.js';
import type { ConnectionHost, McpConnection } from './connection.js';

type ConnectionModule = typeof import('./connection.js');

export class McpToolSource implements ToolSource {
  readonly id = 'mcp' as const;
  private parsed: ParsedServers | undefined;
  private configError: CaduceusError | undefined;
  private readonly connections = new Map<string, McpConnection>();
  private module: Promise<ConnectionModule> | undefined;
  private closed = false;

  constructor(private readonly k: Kernel) {}

  /** The configured servers (valid ones) and the problems of the others; read once per kernel. */
  servers(): ParsedServers {
    if (!this.parsed) {
      let section: unknown;
      try {
        section = (this.k.settings() as { mcpServers?: unknown }).mcpServers;
      } catch (err) {
        // An unreadable config.json is reported by whoever needs the rest of it; here it means no servers.
        this.configError = err as CaduceusError;
        section = undefined;
      }
      this.parsed = parseServers(section);
    }
    return this.parsed;
  }

  server(name: string): McpServerConfig | undefined {
    return this.servers().servers.find((s) => s.name === name);
  }

  tools(): ToolView[] {
    const { servers } = this.servers();
    if (servers.length === 0) return [];
    const cache = readCache(this.k.store);
    const out: ToolView[] = [];
    for (const s of servers) {
      const conn = this.connections.get(s.name);
      const cached = cache.get(s.name);
      const list = conn?.tools ?? (cached?.fingerprint === s.fingerprint ? cached.tools : undefined);
      if (!list) continue;
      for (const t of list) {
        const v = toToolView(s, t);
        const filtered = toolFilter(s, t.name);
        if (!s.enabled) Object.assign(v, { status: 'disabled', reason: `MCP server '${s.name}' is disabled`, fix: `caduceus mcp enable ${s.name}` });
        else if (!filtered.ok) Object.assign(v, { status: 'disabled', reason: `tool '${t.name}' of MCP server '${s.name}' is filtered out by ${filtered.rule}`, fix: `edit ${filtered.rule.split(' ')[0]} in $CADUCEUS_HOME/config.json` });
        else if (conn?.down) Object.assign(v, { status: 'unavailable', reason: conn.down.message.replace(/\.$/, ''), fix: `caduceus mcp test ${s.name}` });
        else if (conn && conn.status === 'backoff') Object.assign(v, { status: 'degraded', reason: `MCP server '${s.name}' is restarting after a failure (${conn.lastError?.code ?? 'unknown'})`, fix: 'retry shortly' });
        out.push(v);
      }
    }
    return out;
  }

  problems(): SourceProblem[] {
    const { servers, problems } = this.servers();
    const out: SourceProblem[] = problems.map((e) => ({ source: 'mcp', subject: subjectOf(e), code: e.code, message: e.message, note: false }));
    if (this.configError && !servers.length) out.push({ source: 'mcp', subject: 'config.json', code: this.configError.code, message: this.configError.message, note: false });
    if (!servers.length) return out;
    const cache = readCache(this.k.store);
    for (const s of servers) {
      if (!s.enabled) continue;
      const conn = this.connections.get(s.name);
      if (conn?.down) { out.push({ source: 'mcp', subject: `mcp:${s.name}`, code: 'CAD_ERR_TOOL_UNAVAILABLE', message: conn.down.message, note: false }); continue; }
      if (conn?.tools) continue;
      const cached = cache.get(s.name);
      if (!cached) {
        out.push({ source: 'mcp', subject: `mcp:${s.name}`, code: 'CAD_ERR_MCP_CONNECT', note: true,
          message: `MCP server '${s.name}' has not listed its tools yet; run \`caduceus mcp test ${s.name}\` (they are also listed on its first use)` });
      } else if (cached.fingerprint !== s.fingerprint) {
        out.push({ source: 'mcp', subject: `mcp:${s.name}`, code: 'CAD_ERR_MCP_CONNECT', note: true,
          message: `MCP server '${s.name}' changed its command, URL or environment since its tools were listed; run \`caduceus mcp test ${s.name}\`` });
      }
    }
    return out;
  }

  /**
   * Servers worth connecting now: enabled ones this kernel has not tried, and ones that never listed their
   * tools in this kernel and whose backoff is over (not down). A server that listed once reconnects on its
   * next call instead.
   */
  private unconnected(): McpServerConfig[] {
    return this.servers().servers.filter((s) => {
      if (!s.enabled) return false;
      const conn = this.connections.get(s.name);
      return !conn || (!conn.tools && !conn.down && conn.status === 'idle');
    });
  }

  /** Connects the servers `unconnected()` names, in parallel; failures are recorded, not thrown. */
  async prepare(): Promise<void> {
    const waiting = this.unconnected();
    if (waiting.length === 0) return;
    await this.connectAll(waiting);
  }

  async lookupMissed(name: string): Promise<boolean> {
    if (!name.startsWith(MCP_PREFIX)) return false;
    const waiting = this.unconnected();
    if (waiting.length === 0) return false;
    await this.connectAll(waiting);
    return true;
  }

  private async connectAll(servers: McpServerConfig[]): Promise<void> {
    await Promise.all(servers.map(async (s) => {
      try {
        await (await this.connection(s)).ensure();
      } catch {
        // Recorded on the connection (status, audit row); listings show it.
      }
    }));
    this.k.onSupervisorChange();
  }

  /** The connection to a server (created, not connected); loads the MCP SDK the first time. */
  async connection(s: McpServerConfig): Promise<McpConnection> {
    if (this.closed) throw new CaduceusError('CAD_ERR_MCP_CONNECT', `MCP server '${s.name}': the kernel is closed.`, { plugin: `mcp:${s.name}` });
    let conn = this.connections.get(s.name);
    if (!conn) {
      this.module ??= import('./connection.js');
      const { McpConnection } = await this.module;
      conn = this.connections.get(s.name);
      if (!conn) {
        conn = new McpConnection(s, this.host());
        this.connections.set(s.name, conn);
      }
    }
    return conn;
  }

  /** Connects one server now and returns its fresh list (`caduceus mcp add` / `mcp test`). */
  async connectNow(name: string): Promise<{ connection: McpConnection; tools: ToolView[] }> {
    const s = this.server(name);
    if (!s) {
      const problem = this.servers().problems.find((e) => (e.details as { server?: string } | undefined)?.server === name);
      if (problem) throw problem;
      throw serverNotFound(name);
    }
    const connection = await this.connection(s);
    await connection.ensure();
    this.k.onSupervisorChange();
    return { connection, tools: (connection.tools ?? []).map((t) => toToolView(s, t)) };
  }

  async invoke(view: ToolView, args: unknown, opts: SourceInvokeOptions): Promise<unknown> {
    const s = view.mcp && this.server(view.mcp.server);
    if (!s || !view.mcp) throw serverNotFound(view.mcp?.server ?? view.plugin);
    const conn = await this.connection(s);
    return conn.call(view.mcp.tool, args, { timeoutMs: opts.timeoutMs, maxBytes: opts.maxBytes, caller: opts.caller });
  }

  async close(): Promise<string[]> {
    this.closed = true;
    const unsettled = [...this.connections.values()].flatMap((c) => c.pendingCalls());
    await Promise.all([...this.connections.values()].map((c) => c.close()));
    return unsettled;
  }

  private host(): ConnectionHost {
    const k = this.k;
    return {
      home: k.home,
      version: k.version,
      secrets: { get: (name) => k.secrets.get(name) },
      policy: k.strikePolicy ?? MCP_DEFAULT_STRIKES,
      audit: (e) => k.audit(e),
      toolsListed: (server: McpServerConfig, list: CachedList) => {
        writeCache(k.store, server.name, list);
        k.onSupervisorChange();
      },
      changed: () => k.onSupervisorChange(),
    };
  }
}

/** Restart policy of MCP servers when the kernel sets none (a copy of connection.ts's, kept here so listings need not load it). */
const MCP_DEFAULT_STRIKES = { maxStrikes: 3, windowMs: 60_000, backoffMs: 250, maxBackoffMs: 5_000 };

export function serverNotFound(name: string): CaduceusError {
  return new CaduceusError('CAD_ERR_MCP_SERVER_NOT_FOUND',
    `No MCP server named '${name}' is configured. Run \`caduceus mcp list\` to see the servers, or \`caduceus mcp add ${name} -- <command> [args…]\` to add it.`,
    { details: { server: name } });
}

function subjectOf(e: CaduceusError): string {
  const server = (e.details as { server?: string } | undefined)?.server;
  return server ? `mcp:${server}` : 'mcpServers';
}
