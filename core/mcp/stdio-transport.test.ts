/**
 * The stdio transport of `caduceus mcp serve` (stdio-transport.ts) on in-memory streams: plain tool calls
 * answered directly, everything else validated and handed on, cancellation, framing and its limits.
 */
import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import type { CallToolResult, JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { MAX_LINE_BYTES, ServeStdioTransport, type CallFn } from './stdio-transport.js';

function setup(call: CallFn) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const t = new ServeStdioTransport(call, stdin, stdout);
  const handed: JSONRPCMessage[] = [];
  const errors: Error[] = [];
  let closed = false;
  t.onmessage = (m) => { handed.push(m); };
  t.onerror = (e) => { errors.push(e); };
  t.onclose = () => { closed = true; };
  let out = '';
  stdout.on('data', (d: Buffer) => { out += d.toString('utf8'); });
  const replies = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const settle = () => new Promise((r) => setTimeout(r, 10));
  return { t, stdin, handed, errors, replies, settle, isClosed: () => closed };
}

const greet: CallFn = async (name, args) => ({ content: [{ type: 'text', text: `${name}:${JSON.stringify(args)}` }] });
const line = (m: unknown) => `${JSON.stringify(m)}\n`;

describe('ServeStdioTransport', () => {
  it('answers a plain tools/call itself, with the call result, and hands nothing to the SDK', async () => {
    const s = setup(greet);
    await s.t.start();
    s.stdin.write(line({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'hello_greet', arguments: { name: 'Ada' } } }));
    s.stdin.write(line({ jsonrpc: '2.0', id: 'x', method: 'tools/call', params: { name: 'no_args' } }));
    await s.settle();
    expect(s.replies()).toEqual([
      { jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'hello_greet:{"name":"Ada"}' }] } },
      { jsonrpc: '2.0', id: 'x', result: { content: [{ type: 'text', text: 'no_args:{}' }] } },
    ]);
    expect(s.handed).toEqual([]);
  });

  it('hands every other message to the SDK, validated, and reports lines that are not JSON-RPC', async () => {
    const s = setup(greet);
    await s.t.start();
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'c', version: '1' } } };
    const badArgs = { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'x', arguments: [1, 2] } };
    const task = { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'x', arguments: {}, task: { ttl: 1000 } } };
    const related = { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'x', _meta: { 'io.modelcontextprotocol/related-task': { taskId: 't' } } } };
    const badToken = { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'x', _meta: { progressToken: { no: 1 } } } };
    const fractionalId = { jsonrpc: '2.0', id: 1.5, method: 'tools/call', params: { name: 'x' } };
    const extraKey = { jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'x' }, extra: true };
    s.stdin.write([init, badArgs, task, related, badToken].map(line).join(''));
    s.stdin.write('this is not json\n');
    s.stdin.write(line({ jsonrpc: '1.0', id: 7, method: 'ping' }));
    s.stdin.write(line(fractionalId));
    s.stdin.write(line(extraKey));
    await s.settle();
    expect(s.replies()).toEqual([]);
    // Handed on: what the SDK accepts as a message but answers itself (with its own error where it is wrong).
    expect(s.handed.map((m) => (m as { id?: unknown }).id)).toEqual([1, 2, 3, 4]);
    // Not JSON, a progress token that is neither string nor integer, the wrong jsonrpc version, a non-integer
    // id and an unknown top-level key are not messages: reported, as the SDK's own transport does.
    expect(s.errors).toHaveLength(5);
  });

  it('reassembles messages split across chunks, and accepts CRLF line ends', async () => {
    const s = setup(greet);
    await s.t.start();
    const text = line({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'a', arguments: { s: 'é€😀' } } }).replace('\n', '\r\n')
      + line({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'b' } });
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += 5) s.stdin.write(bytes.subarray(i, i + 5));
    await s.settle();
    expect(s.replies()).toEqual([
      { jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'a:{"s":"é€😀"}' }] } },
      { jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: 'b:{}' }] } },
    ]);
  });

  it('runs calls concurrently, answers in completion order, and says nothing for a call the client cancelled', async () => {
    const gates = new Map<string, (r: CallToolResult) => void>();
    const s = setup((name) => new Promise((resolve) => gates.set(name, resolve)));
    await s.t.start();
    for (const [id, name] of [[1, 'slow'], [2, 'fast'], [3, 'cancelled']] as const) {
      s.stdin.write(line({ jsonrpc: '2.0', id, method: 'tools/call', params: { name } }));
    }
    await s.settle();
    expect([...gates.keys()]).toEqual(['slow', 'fast', 'cancelled']);
    s.stdin.write(line({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3, reason: 'user' } }));
    await s.settle();
    gates.get('fast')!({ content: [] });
    gates.get('cancelled')!({ content: [] });
    await s.settle();
    let settled = false;
    void s.t.settled().then(() => { settled = true; });
    await s.settle();
    expect(settled).toBe(false);
    gates.get('slow')!({ content: [], isError: true });
    await s.settle();
    expect(settled).toBe(true);
    expect(s.replies()).toEqual([
      { jsonrpc: '2.0', id: 2, result: { content: [] } },
      { jsonrpc: '2.0', id: 1, result: { content: [], isError: true } },
    ]);
    // The cancellation still reaches the SDK, which owns the requests it answers.
    expect(s.handed).toEqual([{ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 3, reason: 'user' } }]);
  });

  it('answers a call that throws with a JSON-RPC internal error carrying its message', async () => {
    const s = setup(async () => { throw new Error('the kernel is closed'); });
    await s.t.start();
    s.stdin.write(line({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'x' } }));
    await s.settle();
    expect(s.replies()).toEqual([{ jsonrpc: '2.0', id: 9, error: { code: -32603, message: 'the kernel is closed' } }]);
  });

  it('gives up on a line longer than the limit, and stops answering once closed', async () => {
    const s = setup(greet);
    await s.t.start();
    s.stdin.write(Buffer.alloc(MAX_LINE_BYTES + 1, 0x61));
    await s.settle();
    expect(s.errors[0]?.message).toMatch(/longer than/);
    expect(s.isClosed()).toBe(true);
    s.stdin.write(line({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x' } }));
    await s.settle();
    expect(s.replies()).toEqual([]);
    await expect(s.t.start()).rejects.toThrow(/already started/);
  });

  it('also refuses an over-long line that arrives whole, and answers a large one that arrives in many chunks', async () => {
    const big = setup(greet);
    await big.t.start();
    const text = 'x'.repeat(1 << 20);
    const bytes = Buffer.from(line({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'big', arguments: { text } } }));
    for (let i = 0; i < bytes.length; i += 4096) big.stdin.write(bytes.subarray(i, i + 4096));
    await big.settle();
    expect(big.replies()).toEqual([{ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: `big:${JSON.stringify({ text })}` }] } }]);

    const whole = setup(greet);
    await whole.t.start();
    whole.stdin.write(Buffer.concat([Buffer.alloc(MAX_LINE_BYTES + 1, 0x61), Buffer.from('\n')]));
    await whole.settle();
    expect(whole.errors[0]?.message).toMatch(/longer than/);
    expect(whole.isClosed()).toBe(true);
  });
});
