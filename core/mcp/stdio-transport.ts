/**
 * The stdio transport of `caduceus mcp serve`: newline-delimited JSON-RPC on stdin and stdout, like the
 * SDK's StdioServerTransport, which it replaces for one reason: speed on the one request a client sends
 * over and over. A plain `tools/call` request (no task, no related-task metadata) is answered here, through
 * the same `call` function the SDK handler uses, without the SDK's per-message schema parses (message,
 * request and result: together about a third of a served call's host-side cost in a CPU profile of the
 * bench/mcp.mjs loop; the benchmark's numbers are in docs/performance.md). Every other message (initialize, tools/list, ping,
 * notifications, responses, anything that is not a well-formed plain call) is validated with the SDK's
 * JSONRPCMessageSchema and handed to the SDK `Server`, exactly as its own transport would.
 *
 * What the SDK does for a call and this path keeps: the response is `{ jsonrpc, id, result }`, or a
 * JSON-RPC internal error (-32603) with the error's message if `call` throws; a call the client cancels
 * (`notifications/cancelled`) gets no response; requests run concurrently and answer in completion order.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { JSONRPCMessageSchema, RELATED_TASK_META_KEY, type CallToolResult, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** The same limit as the SDK's stdio transport: a line longer than this is an error, not a message. */
export const MAX_LINE_BYTES = 10 * 1024 * 1024;

export type CallFn = (name: string, args: Record<string, unknown>) => Promise<CallToolResult>;

type RequestId = string | number;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isRequestId(v: unknown): v is RequestId {
  return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));
}

/**
 * The params of a `tools/call` this transport answers itself, or undefined to leave the message to the SDK.
 * Taken only when the SDK's schemas would accept it as it is (a strict JSON-RPC request: no other top-level
 * keys; an integer or string id; a string name; arguments an object; `_meta` an object whose progress token,
 * if any, is an integer or a string) and it asks for nothing this path does not do (a task, or a related task).
 */
function plainCall(m: Record<string, unknown>): { id: RequestId; name: string; args: Record<string, unknown> } | undefined {
  if (m.jsonrpc !== '2.0' || m.method !== 'tools/call' || !isRequestId(m.id)) return undefined;
  for (const key in m) if (key !== 'jsonrpc' && key !== 'id' && key !== 'method' && key !== 'params') return undefined;
  const p = m.params;
  if (!isPlainObject(p) || typeof p.name !== 'string' || p.task !== undefined) return undefined;
  if (p.arguments !== undefined && !isPlainObject(p.arguments)) return undefined;
  const meta = p._meta;
  if (meta !== undefined && (!isPlainObject(meta) || meta[RELATED_TASK_META_KEY] !== undefined
    || (meta.progressToken !== undefined && !isRequestId(meta.progressToken)))) return undefined;
  return { id: m.id, name: p.name, args: (p.arguments ?? {}) as Record<string, unknown> };
}

export class ServeStdioTransport implements Transport {
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private partial: Buffer[] = [];
  private partialBytes = 0;
  private started = false;
  private closed = false;
  /** Calls answered here and still running; `true` once the client cancelled one. */
  private readonly running = new Map<RequestId, boolean>();
  private readonly settledWaiters: Array<() => void> = [];

  constructor(
    private readonly call: CallFn,
    private readonly stdin: NodeJS.ReadableStream = process.stdin,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
  ) {}

  /**
   * Splits stdin into lines. The start of a line that has not ended yet is kept as a list of chunks and
   * joined once, when its newline arrives, so a large message in many chunks is copied once, not per chunk.
   */
  private readonly onData = (chunk: Buffer): void => {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1 && !this.closed; nl = chunk.indexOf(10, start)) {
      let line = chunk.subarray(start, nl);
      start = nl + 1;
      if (this.partial.length > 0) {
        line = Buffer.concat([...this.partial, line]);
        this.partial = [];
        this.partialBytes = 0;
      }
      if (line.length > MAX_LINE_BYTES) return this.tooLong();
      this.receive(line.toString('utf8', 0, line.length > 0 && line[line.length - 1] === 13 ? line.length - 1 : line.length));
    }
    if (start >= chunk.length || this.closed) return;
    this.partialBytes += chunk.length - start;
    if (this.partialBytes > MAX_LINE_BYTES) return this.tooLong();
    this.partial.push(chunk.subarray(start));
  };

  private tooLong(): void {
    this.partial = [];
    this.partialBytes = 0;
    this.onerror?.(new Error(`a message on stdin is longer than ${MAX_LINE_BYTES} bytes`));
    void this.close();
  }

  private readonly onStdinError = (err: Error): void => {
    this.onerror?.(err);
  };

  private receive(line: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      this.onerror?.(err as Error);
      return;
    }
    const fast = isPlainObject(raw) ? plainCall(raw) : undefined;
    if (fast) {
      this.answer(fast.id, fast.name, fast.args);
      return;
    }
    let message: JSONRPCMessage;
    try {
      message = JSONRPCMessageSchema.parse(raw);
    } catch (err) {
      this.onerror?.(err as Error);
      return;
    }
    if ('method' in message && message.method === 'notifications/cancelled') {
      const requestId = (message.params as { requestId?: RequestId } | undefined)?.requestId;
      if (requestId !== undefined && this.running.has(requestId)) this.running.set(requestId, true);
    }
    this.onmessage?.(message);
  }

  private answer(id: RequestId, name: string, args: Record<string, unknown>): void {
    this.running.set(id, false);
    this.call(name, args).then(
      (result) => this.reply(id, { jsonrpc: '2.0', id, result }),
      (err: unknown) => this.reply(id, { jsonrpc: '2.0', id, error: { code: -32603, message: err instanceof Error ? err.message : String(err) } }),
    );
  }

  private reply(id: RequestId, message: JSONRPCMessage): void {
    const cancelled = this.running.get(id);
    this.running.delete(id);
    if (!cancelled && !this.closed) this.send(message).catch((err: Error) => this.onerror?.(err));
    if (this.running.size === 0) for (const done of this.settledWaiters.splice(0)) done();
  }

  /** Resolves once every call this transport took has been answered (at once when none is running). */
  settled(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('the stdio transport is already started');
    this.started = true;
    this.stdin.on('data', this.onData);
    this.stdin.on('error', this.onStdinError);
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve) => {
      if (this.stdout.write(`${JSON.stringify(message)}\n`)) resolve();
      else this.stdout.once('drain', resolve);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stdin.off('data', this.onData);
    this.stdin.off('error', this.onStdinError);
    if (this.stdin.listenerCount('data') === 0) this.stdin.pause();
    this.partial = [];
    this.partialBytes = 0;
    this.onclose?.();
  }
}
