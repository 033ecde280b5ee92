/**
 * `caduceus mcp serve`: the registry as an MCP server, with the official SDK's low-level `Server`.
 * It offers every tool an MCP client may run: status available (or degraded), visibility `prompt`,
 * `mcp-client` in its trust classes, and (for plugin tools) a bundle that still matches its pin, passed
 * through the `resolveTools` hook like the model-facing list. Each tool keeps its input schema, its result
 * schema as `outputSchema` when it is an object schema, and annotations derived from its descriptor.
 * Every call runs the whole pipeline as caller `mcp-client` (validation, guards, approvals, audit); an
 * approval cannot be asked over MCP, so a guard's "ask" is refused and audited as "no-one-to-ask".
 *
 * Transports: stdio (the default), or Streamable HTTP bound to 127.0.0.1 that requires a bearer token on
 * every request and refuses a non-local Host or Origin (DNS rebinding). Tools of other MCP servers are not
 * re-exported (their trust classes leave out `mcp-client`; see descriptor.ts).
 */
import { randomUUID, createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { CaduceusError } from '../errors.js';
import type { Kernel } from '../kernel.js';
import type { ToolView } from '../registry.js';
import { ServeStdioTransport, type CallFn } from './stdio-transport.js';

export const MIN_TOKEN_LENGTH = 16;
const MAX_SESSIONS = 64;

/** The tools an MCP client is offered. */
export async function servedTools(k: Kernel): Promise<ToolView[]> {
  const tools = k.listTools().filter((t) => t.visibility === 'prompt' && (t.status === 'available' || t.status === 'degraded')
    && t.trustClasses.includes('mcp-client') && (t.origin !== 'plugin' || k.bundleIntact(t.plugin)));
  if (!k.hooks.resolveTools.isUsed()) return tools;
  return k.hooks.resolveTools.promise(tools);
}

export function toMcpTool(t: ToolView): Tool {
  const tool: Tool = {
    name: t.name,
    description: t.description,
    inputSchema: t.inputSchema as Tool['inputSchema'],
    annotations: t.mcp?.annotations
      ? { ...t.mcp.annotations }
      : { readOnlyHint: !t.mutating, destructiveHint: t.mutating, idempotentHint: t.idempotent },
  };
  if (t.mcp?.title) tool.title = t.mcp.title;
  if (t.resultSchema && t.resultSchema.type === 'object') tool.outputSchema = t.resultSchema as Tool['outputSchema'];
  return tool;
}

/** A pipeline result as an MCP tool result. */
export function toCallResult(view: ToolView | undefined, r: Awaited<ReturnType<Kernel['callTool']>>): CallToolResult {
  if (!r.ok) return { isError: true, content: [{ type: 'text', text: `${r.error.code}: ${r.error.message}` }] };
  const value = r.result;
  if (view?.origin === 'mcp' && value && typeof value === 'object' && Array.isArray((value as { content?: unknown }).content)) {
    return value as CallToolResult;
  }
  const out: CallToolResult = { content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value ?? null) }] };
  if (value && typeof value === 'object' && !Array.isArray(value)) out.structuredContent = value as Record<string, unknown>;
  return out;
}

/** A tool call from an MCP client: the whole pipeline as caller `mcp-client`, its result in MCP's shape. */
export function mcpCall(k: Kernel, session: () => string | undefined): CallFn {
  return async (name, args) => {
    const sid = session();
    const r = await k.callTool(name, args, sid ? { caller: 'mcp-client', session: sid } : { caller: 'mcp-client' });
    return toCallResult(k.toolView(name), r);
  };
}

/** One MCP server object (one per stdio process, one per HTTP session) over the kernel. */
export function createMcpServer(k: Kernel, call: CallFn): Server {
  const server = new Server({ name: 'caduceus', version: k.version }, {
    capabilities: { tools: {} },
    instructions: 'Tools of the Caduceus plugin host. Every call is validated, guarded and audited; calls that need an operator approval are refused.',
  });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: (await servedTools(k)).map(toMcpTool) }));
  server.setRequestHandler(CallToolRequestSchema, (req) => call(req.params.name, req.params.arguments ?? {}));
  return server;
}

/** Serves on stdin/stdout until the client closes its end. */
export async function serveStdio(k: Kernel): Promise<void> {
  const session = `mcp-stdio-${randomUUID()}`;
  const call = mcpCall(k, () => session);
  const server = createMcpServer(k, call);
  // Plain tools/call requests are answered by the transport itself, through the same `call` (stdio-transport.ts).
  const transport = new ServeStdioTransport(call);
  const done = new Promise<void>((resolve) => {
    server.onclose = () => resolve();
    // The client closing its end stops the server, once the calls it already sent have been answered
    // (so `printf '<request>\n' | caduceus mcp serve` gets its answer).
    process.stdin.once('end', () => void transport.settled().then(resolve));
    process.stdin.once('close', () => void transport.settled().then(resolve));
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve());
  });
  await server.connect(transport);
  await done;
  await server.close().catch(() => undefined);
}

export interface HttpServeOptions {
  port: number;
  token: string;
  /** Called once listening, with the port actually bound (port 0 picks a free one). */
  onListening: (port: number) => void;
}

/** Serves Streamable HTTP on 127.0.0.1:<port>/mcp until SIGINT/SIGTERM. */
export async function serveHttp(k: Kernel, opts: HttpServeOptions): Promise<void> {
  if (opts.token.length < MIN_TOKEN_LENGTH) {
    throw new CaduceusError('CAD_ERR_MCP_SERVE_FAILED', `The bearer token for \`caduceus mcp serve --http\` is ${opts.token.length} characters; use at least ${MIN_TOKEN_LENGTH} (or leave CADUCEUS_MCP_TOKEN and mcpServe.token unset to get a generated one).`);
  }
  const { createServer } = await import('node:http');
  const expected = createHash('sha256').update(opts.token).digest();
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; server: Server }>();
  let port = opts.port;

  const refuse = (req: IncomingMessage, res: ServerResponse, status: number, reason: string) => {
    k.audit({ ts: Date.now(), kind: 'mcp.serve.refused', caller: 'mcp-client', outcome: 'denied', code: 'CAD_ERR_MCP_UNAUTHORIZED', detail: { reason, method: req.method, remote: req.socket.remoteAddress } });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (status === 401) headers['www-authenticate'] = 'Bearer realm="caduceus"';
    res.writeHead(status, headers).end(JSON.stringify({
      jsonrpc: '2.0', id: null,
      error: { code: -32001, message: `CAD_ERR_MCP_UNAUTHORIZED: ${reason}. Send Authorization: Bearer <token> to http://127.0.0.1:${port}/mcp.` },
    }));
  };
  const local = new Set<string>();
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/mcp') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found: the MCP endpoint is /mcp' }));
      return;
    }
    if (!local.has(req.headers.host ?? '')) return refuse(req, res, 403, `Host header ${JSON.stringify(req.headers.host ?? '')} is not this local server`);
    const origin = req.headers.origin;
    if (origin !== undefined && !local.has(origin.replace(/^https?:\/\//, ''))) return refuse(req, res, 403, `Origin ${JSON.stringify(origin)} is not local`);
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m) return refuse(req, res, 401, 'no bearer token');
    if (!timingSafeEqual(createHash('sha256').update(m[1]!).digest(), expected)) return refuse(req, res, 401, 'wrong bearer token');

    const sid = req.headers['mcp-session-id'];
    if (typeof sid === 'string') {
      const entry = sessions.get(sid);
      if (!entry) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found; initialize a new session' } }));
        return;
      }
      await entry.transport.handleRequest(req, res);
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Bad Request: Mcp-Session-Id header is required' } }));
      return;
    }
    if (sessions.size >= MAX_SESSIONS) {
      res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: `Too many open MCP sessions (${MAX_SESSIONS}); close one (HTTP DELETE) first` } }));
      return;
    }
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => { sessions.set(id, { transport, server }); },
    });
    transport.onclose = () => { if (transport.sessionId) sessions.delete(transport.sessionId); };
    const server = createMcpServer(k, mcpCall(k, () => (transport.sessionId ? `mcp-http-${transport.sessionId}` : undefined)));
    await server.connect(transport);
    await transport.handleRequest(req, res);
    // Anything but a successful initialize leaves no session behind.
    if (!transport.sessionId) await server.close().catch(() => undefined);
  };

  const http = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32603, message: `internal error: ${err.message}` } }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', (err: NodeJS.ErrnoException) => reject(new CaduceusError('CAD_ERR_MCP_SERVE_FAILED',
      `\`caduceus mcp serve --http ${opts.port}\` cannot listen on 127.0.0.1:${opts.port} (${err.code ?? err.message}). Choose another port, or 0 for any free one.`)));
    http.listen(opts.port, '127.0.0.1', () => resolve());
  });
  port = (http.address() as { port: number }).port;
  for (const h of [`127.0.0.1:${port}`, `localhost:${port}`]) local.add(h);
  opts.onListening(port);
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve());
  });
  for (const { transport, server } of sessions.values()) {
    await transport.close().catch(() => undefined);
    await server.close().catch(() => undefined);
  }
  const closed = new Promise<void>((resolve) => http.close(() => resolve()));
  http.closeAllConnections();
  await closed;
}
