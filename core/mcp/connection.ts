/**
 * One connection to one external MCP server, with the official SDK's client (this is the only client-side
 * module that imports `@modelcontextprotocol/sdk`, and it is loaded on the first connection, never by a
 * listing). A stdio server is spawned with a filtered environment (env.ts) and its stderr goes to a
 * bounded log (server-log.ts); an HTTP server is reached with Streamable HTTP and its configured headers.
 * Connecting lists the server's tools (all pages) and stores them (cache.ts); `notifications/tools/
 * list_changed` lists them again. A server that fails to start or exits is restarted on the next use after
 * an exponential backoff, and after repeated failures in a window it is "down" for this kernel run: its
 * tools list as unavailable, so a model is no longer shown them and a call fails with a coded error
 * instead of hanging a turn.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { CaduceusError } from '../errors.js';
import type { AuditEvent } from '../audit.js';
import type { StrikePolicy } from '../sandbox/supervisor.js';
import type { CachedList, CachedTool } from './cache.js';
import type { McpServerConfig } from './config.js';
import { toCachedTool } from './descriptor.js';
import { serverEnvironment, serverHeaders, type SecretLookup } from './env.js';
import { ServerLog, serverLogFile } from './server-log.js';

const MAX_PAGES = 50;

/** What a connection needs from the kernel (the MCP tool source implements it). */
export interface ConnectionHost {
  home: string;
  version: string;
  secrets: SecretLookup;
  policy: StrikePolicy;
  audit(e: AuditEvent): void;
  /** A fresh tool list: store it and rebuild the registry. */
  toolsListed(server: McpServerConfig, list: CachedList): void;
  /** Status changed (exited, down, back up): rebuild the registry. */
  changed(): void;
}

export type ConnectionStatus = 'idle' | 'connecting' | 'ready' | 'backoff' | 'down';

export interface CallResult {
  content: unknown[];
  structuredContent?: Record<string, unknown>;
}

export class McpConnection {
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  /** The client of the connection attempt in progress, so close() can abort it. */
  private attempt: Client | undefined;
  private strikes: number[] = [];
  private restartAt = 0;
  private downError: CaduceusError | undefined;
  private closing = false;
  private readonly pending = new Map<number, string>();
  private seq = 0;
  private readonly log: ServerLog | undefined;
  /** The tools of the current (or last) connection; undefined until one succeeded in this kernel. */
  tools: CachedTool[] | undefined;
  lastError: CaduceusError | undefined;

  constructor(readonly server: McpServerConfig, private readonly host: ConnectionHost) {
    if (server.transport === 'stdio') this.log = new ServerLog(serverLogFile(host.home, server.name));
  }

  get logFile(): string | undefined {
    return this.log?.file;
  }

  get status(): ConnectionStatus {
    if (this.downError) return 'down';
    if (this.client) return 'ready';
    if (this.connecting) return 'connecting';
    return this.restartAt > Date.now() ? 'backoff' : 'idle';
  }

  get down(): CaduceusError | undefined {
    return this.downError;
  }

  /** The connected client: connects (after any backoff) when there is none. */
  async ensure(): Promise<Client> {
    if (this.downError) throw this.downError;
    if (this.closing) throw new CaduceusError('CAD_ERR_MCP_CONNECT', `MCP server '${this.server.name}' is shutting down with the kernel.`, { plugin: this.owner });
    if (this.client) return this.client;
    if (!this.connecting) {
      this.connecting = (async () => {
        const wait = this.restartAt - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        return this.connect();
      })().finally(() => { this.connecting = undefined; });
    }
    return this.connecting;
  }

  private get owner(): string {
    return `mcp:${this.server.name}`;
  }

  private async connect(): Promise<Client> {
    if (this.closing) throw new CaduceusError('CAD_ERR_MCP_CONNECT', `MCP server '${this.server.name}' is shutting down with the kernel.`, { plugin: this.owner });
    const s = this.server;
    const t0 = performance.now();
    // A reference to a missing secret is a config error: no strike, nothing started.
    const transport = this.transport();
    const client = new Client({ name: 'caduceus', version: this.host.version }, { capabilities: {} });
    client.onclose = () => this.closed(client);
    client.onerror = (err) => this.log?.write(`caduceus: transport error: ${err.message}\n`);
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => { void this.relist(client); });
    this.attempt = client;
    try {
      await client.connect(transport, { timeout: s.timeoutMs });
      const tools = await this.listAll(client);
      if (this.closing) throw new CaduceusError('CAD_ERR_MCP_CONNECT', `MCP server '${s.name}' connected while the kernel was shutting down.`, { plugin: this.owner });
      this.client = client;
      this.tools = tools;
      this.lastError = undefined;
      const info = client.getServerVersion();
      this.host.toolsListed(s, { fingerprint: s.fingerprint, fetchedAt: Date.now(), server: info ? { name: info.name, version: info.version } : {}, tools });
      this.host.audit({
        ts: Date.now(), kind: 'mcp.connect', plugin: this.owner, outcome: 'ok', durationUs: Math.round((performance.now() - t0) * 1000),
        detail: { server: s.name, transport: s.transport, tools: tools.length, serverName: info?.name, serverVersion: info?.version },
      });
      return client;
    } catch (err) {
      const e = this.toError(err, 'initialize', true);
      await client.close().catch(() => undefined);
      this.host.audit({
        ts: Date.now(), kind: 'mcp.connect', plugin: this.owner, outcome: e.code === 'CAD_ERR_MCP_TIMEOUT' ? 'timeout' : 'error', code: e.code,
        durationUs: Math.round((performance.now() - t0) * 1000), detail: { server: s.name, transport: s.transport, message: e.message.slice(0, 500) },
      });
      if (!this.closing) this.strike(e);
      throw e;
    } finally {
      this.attempt = undefined;
    }
  }

  private transport(): Transport {
    const s = this.server;
    if (s.transport === 'stdio') {
      const t = new StdioClientTransport({
        command: s.command!, args: s.args, env: serverEnvironment(s, this.host.secrets), stderr: 'pipe', ...(s.cwd ? { cwd: s.cwd } : {}),
      });
      t.stderr?.on('data', (d: Buffer) => this.log!.write(d));
      this.log!.mark(`starting ${[s.command, ...s.args].join(' ')}`);
      return t;
    }
    return new StreamableHTTPClientTransport(new URL(s.url!), { requestInit: { headers: serverHeaders(s, this.host.secrets) } });
  }

  private async listAll(client: Client): Promise<CachedTool[]> {
    const out: CachedTool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const r = await client.listTools(cursor ? { cursor } : undefined, { timeout: this.server.timeoutMs });
      for (const t of r.tools) out.push(toCachedTool(t));
      cursor = r.nextCursor;
      if (!cursor) break;
    }
    return out;
  }

  /** `notifications/tools/list_changed`: list again and publish. */
  private async relist(client: Client): Promise<void> {
    if (this.client !== client) return;
    try {
      const tools = await this.listAll(client);
      if (this.client !== client) return;
      this.tools = tools;
      const info = client.getServerVersion();
      this.host.toolsListed(this.server, { fingerprint: this.server.fingerprint, fetchedAt: Date.now(), server: info ? { name: info.name, version: info.version } : {}, tools });
      this.host.audit({ ts: Date.now(), kind: 'mcp.tools-changed', plugin: this.owner, outcome: 'ok', detail: { server: this.server.name, tools: tools.length } });
    } catch (err) {
      this.log?.write(`caduceus: listing tools after list_changed failed: ${(err as Error).message}\n`);
    }
  }

  /** The transport closed: expected at shutdown, a failure otherwise. */
  private closed(client: Client): void {
    if (this.closing || this.client !== client) return;
    this.client = undefined;
    const tail = this.log?.tail();
    const e = new CaduceusError('CAD_ERR_MCP_SERVER_EXITED',
      `MCP server '${this.server.name}' closed the connection${this.server.transport === 'stdio' ? ' (its process exited)' : ''}${tail ? `; its last output: ${tail}` : ''}. It is restarted on the next call, after a backoff.${this.log ? ` Log: ${this.log.file}` : ''}`,
      { plugin: this.owner, details: { server: this.server.name } });
    this.host.audit({ ts: Date.now(), kind: 'mcp.exit', plugin: this.owner, outcome: 'crash', code: e.code, detail: { server: this.server.name, message: e.message.slice(0, 500) } });
    this.strike(e);
  }

  private strike(e: CaduceusError): void {
    this.lastError = e;
    const p = this.host.policy;
    const now = Date.now();
    this.strikes = this.strikes.filter((t) => now - t < p.windowMs);
    this.strikes.push(now);
    const n = this.strikes.length;
    if (n >= p.maxStrikes) {
      this.downError = new CaduceusError('CAD_ERR_TOOL_UNAVAILABLE',
        `MCP server '${this.server.name}' failed ${n} times within ${p.windowMs / 1000} s (last: ${e.code}: ${e.message}) and is off for this run. Check it with \`caduceus mcp test ${this.server.name}\`${this.log ? ` and read ${this.log.file}` : ''}.`,
        { plugin: this.owner, details: { server: this.server.name, last: e.code, strikes: n } });
      this.host.audit({ ts: now, kind: 'mcp.down', plugin: this.owner, outcome: 'error', code: e.code, detail: { server: this.server.name, strikes: n } });
    } else {
      this.restartAt = now + Math.min(p.maxBackoffMs, p.backoffMs * 2 ** (n - 1));
    }
    this.host.changed();
  }

  /** One `tools/call`. A result with `isError` is a tool failure (CAD_ERR_TOOL_FAILED) with the server's text. */
  async call(tool: string, args: unknown, opts: { timeoutMs: number; maxBytes: number; caller: string }): Promise<CallResult> {
    const client = await this.ensure();
    const id = ++this.seq;
    this.pending.set(id, `tools/call '${tool}' on MCP server '${this.server.name}' (caller ${opts.caller})`);
    let r: Awaited<ReturnType<Client['callTool']>>;
    try {
      r = await client.callTool({ name: tool, arguments: (args ?? {}) as Record<string, unknown> }, undefined, { timeout: opts.timeoutMs });
    } catch (err) {
      throw this.toError(err, `tools/call '${tool}'`, false);
    } finally {
      this.pending.delete(id);
    }
    const content = Array.isArray(r.content) ? r.content as unknown[] : [];
    if (r.isError) {
      throw new CaduceusError('CAD_ERR_TOOL_FAILED',
        `MCP server '${this.server.name}' reported an error from its tool '${tool}': ${textOf(content) || '(no text)'}`, { plugin: this.owner, details: { server: this.server.name } });
    }
    const result: CallResult = { content };
    if (r.structuredContent && typeof r.structuredContent === 'object') result.structuredContent = r.structuredContent as Record<string, unknown>;
    const size = Buffer.byteLength(JSON.stringify(result));
    if (size > opts.maxBytes) {
      throw new CaduceusError('CAD_ERR_SANDBOX_RESULT_TOO_LARGE',
        `Tool '${tool}' of MCP server '${this.server.name}' returned ${size} bytes, more than its limit of ${opts.maxBytes}. Ask it for less.`, { plugin: this.owner });
    }
    return result;
  }

  private toError(err: unknown, what: string, connecting: boolean): CaduceusError {
    if (err instanceof CaduceusError) return err;
    const s = this.server;
    const tail = this.log?.tail();
    const said = tail ? ` Its last output: ${tail}.` : '';
    const logHint = this.log ? ` Log: ${this.log.file}.` : '';
    const ctx = { plugin: this.owner, details: { server: s.name } };
    if (err instanceof McpError && err.code === ErrorCode.RequestTimeout) {
      return new CaduceusError('CAD_ERR_MCP_TIMEOUT',
        `MCP server '${s.name}' did not answer ${what} within ${s.timeoutMs} ms. Raise mcpServers.${s.name}.timeout in $CADUCEUS_HOME/config.json if it is just slow, or check the server.${logHint}`, ctx);
    }
    if (err instanceof McpError && err.code === ErrorCode.ConnectionClosed) {
      return new CaduceusError(connecting ? 'CAD_ERR_MCP_CONNECT' : 'CAD_ERR_MCP_SERVER_EXITED',
        `MCP server '${s.name}' closed the connection during ${what}${s.transport === 'stdio' ? ' (its process exited)' : ''}.${said}${connecting ? ` Check mcpServers.${s.name} (command, args, env) with \`caduceus mcp test ${s.name}\`.` : ' It is restarted on the next call, after a backoff.'}${logHint}`, ctx);
    }
    const code = (err as NodeJS.ErrnoException)?.code;
    if (code === 'ENOENT' || code === 'EACCES') {
      return new CaduceusError('CAD_ERR_MCP_CONNECT',
        `MCP server '${s.name}': cannot run the command '${s.command}' (${code === 'ENOENT' ? 'not found' : 'permission denied'}). Fix mcpServers.${s.name}.command, or install the program.`, ctx);
    }
    if (err instanceof StreamableHTTPError || (connecting && s.transport === 'http')) {
      const status = (err as { code?: number }).code;
      return new CaduceusError('CAD_ERR_MCP_CONNECT',
        `MCP server '${s.name}' at ${s.url} failed ${what}${typeof status === 'number' && status > 0 ? ` with HTTP ${status}` : ''}: ${(err as Error).message}.${status === 401 || status === 403 ? ` Check the credentials in mcpServers.${s.name}.headers.` : ' Check that the URL is right and the server is running.'}`, ctx);
    }
    if (connecting) {
      return new CaduceusError('CAD_ERR_MCP_CONNECT', `MCP server '${s.name}' could not be started and initialised: ${(err as Error)?.message ?? String(err)}.${said} Check it with \`caduceus mcp test ${s.name}\`.${logHint}`, ctx);
    }
    if (err instanceof McpError) {
      return new CaduceusError('CAD_ERR_MCP_REQUEST_FAILED', `MCP server '${s.name}' refused ${what}: ${err.message}.`, { ...ctx, details: { server: s.name, rpcCode: err.code } });
    }
    return new CaduceusError('CAD_ERR_MCP_REQUEST_FAILED', `MCP server '${s.name}' failed ${what}: ${(err as Error)?.message ?? String(err)}.${logHint}`, ctx);
  }

  pendingCalls(): string[] {
    return [...this.pending.values()];
  }

  /** Closes the connection (stdio: ends the process, SIGTERM then SIGKILL if it lingers). */
  async close(): Promise<void> {
    this.closing = true;
    const client = this.client ?? this.attempt;
    this.client = undefined;
    if (client) await client.close().catch(() => undefined);
    if (this.connecting) await this.connecting.catch(() => undefined);
  }
}

function textOf(content: unknown[]): string {
  return content.map((c) => (c && typeof c === 'object' && (c as { type?: string }).type === 'text' ? String((c as { text?: unknown }).text ?? '') : '')).filter(Boolean).join('\n').slice(0, 2000);
}
