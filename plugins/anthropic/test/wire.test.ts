/**
 * The anthropic plugin's pure parts: reading Messages stream events into host events, mapping errors
 * (HTTP bodies and mid-stream `error` events) to provider error kinds, and building the request body
 * with its cache markers and tool_result grouping. The plugin in a real isolate against the fake server
 * is test/e2e/providers.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ChatEvent, SseEvent } from 'caduceus/sdk';
import { EventReader, mapStopReason } from '../src/stream.js';
import { httpError, streamError, type ErrorContext } from '../src/errors.js';
import { buildBody, DEFAULT_MAX_TOKENS } from '../src/request.js';

const ctx: ErrorContext = { baseUrl: 'https://api.anthropic.test', model: 'claude-x', keySource: 'env', nowMs: 0 };
const ev = (type: string, data: Record<string, unknown> = {}): SseEvent => ({ event: type, data: JSON.stringify({ type, ...data }) });
const kindOf = (err: unknown) => (err as { details?: { kind?: string } }).details?.kind ?? 'none';

function read(events: SseEvent[]): ChatEvent[] {
  const r = new EventReader(ctx);
  const out: ChatEvent[] = [];
  for (const e of events) out.push(...r.event(e));
  out.push(...r.end());
  return out;
}

const start = ev('message_start', { message: { id: 'msg_1', role: 'assistant', content: [], usage: { input_tokens: 10, cache_read_input_tokens: 100, cache_creation_input_tokens: 20, output_tokens: 1 } } });

describe('EventReader', () => {
  it('reads thinking, text and a tool call, with usage as the whole prompt', () => {
    const events = read([
      start,
      ev('ping'),
      ev('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '' } }),
      ev('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'Let me see' } }),
      ev('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'sig' } }),
      ev('content_block_stop', { index: 0 }),
      ev('content_block_start', { index: 1, content_block: { type: 'text', text: '' } }),
      ev('content_block_delta', { index: 1, delta: { type: 'text_delta', text: 'Checking.' } }),
      ev('content_block_stop', { index: 1 }),
      ev('content_block_start', { index: 2, content_block: { type: 'tool_use', id: 'toolu_1', name: 'weather', input: {} } }),
      ev('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '' } }),
      ev('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '{"city":' } }),
      ev('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: '"Oslo"}' } }),
      ev('content_block_stop', { index: 2 }),
      ev('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 42 } }),
      ev('message_stop'),
    ]);
    expect(events).toEqual([
      { type: 'usage', inputTokens: 130, outputTokens: 1, cacheReadTokens: 100, cacheWriteTokens: 20 },
      { type: 'reasoning', delta: 'Let me see' },
      { type: 'text', delta: 'Checking.' },
      { type: 'tool_call_start', index: 0, id: 'toolu_1', name: 'weather' },
      { type: 'tool_call_delta', index: 0, delta: '{"city":' },
      { type: 'tool_call_delta', index: 0, delta: '"Oslo"}' },
      { type: 'tool_call_end', index: 0 },
      { type: 'usage', inputTokens: 130, outputTokens: 42, cacheReadTokens: 100, cacheWriteTokens: 20 },
      { type: 'finish', reason: 'tool_calls' },
    ]);
  });

  it('numbers parallel tool_use blocks 0, 1 and gives an argument-less tool {}', () => {
    const events = read([
      start,
      ev('content_block_start', { index: 0, content_block: { type: 'text', text: 'Both.' } }),
      ev('content_block_stop', { index: 0 }),
      ev('content_block_start', { index: 1, content_block: { type: 'tool_use', id: 'a', name: 'clock', input: {} } }),
      ev('content_block_stop', { index: 1 }),
      ev('content_block_start', { index: 2, content_block: { type: 'tool_use', id: 'b', name: 'echo', input: { given: 'whole' } } }),
      ev('content_block_stop', { index: 2 }),
      ev('message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 5 } }),
      ev('message_stop'),
    ]);
    expect(events.filter((e) => e.type !== 'usage')).toEqual([
      { type: 'text', delta: 'Both.' },
      { type: 'tool_call_start', index: 0, id: 'a', name: 'clock' }, { type: 'tool_call_delta', index: 0, delta: '{}' }, { type: 'tool_call_end', index: 0 },
      { type: 'tool_call_start', index: 1, id: 'b', name: 'echo' }, { type: 'tool_call_delta', index: 1, delta: '{"given":"whole"}' }, { type: 'tool_call_end', index: 1 },
      { type: 'finish', reason: 'tool_calls' },
    ]);
  });

  it('ignores pings and event types it does not know', () => {
    const events = read([start, ev('ping'), ev('future_event', { x: 1 }), ev('content_block_start', { index: 0, content_block: { type: 'server_tool_use', id: 's', name: 'web_search', input: {} } }), ev('content_block_stop', { index: 0 }), ev('message_delta', { delta: { stop_reason: 'end_turn' } }), ev('message_stop')]);
    expect(events.map((e) => e.type)).toEqual(['usage', 'finish']);
  });

  it('fails on an error event, on data that is not JSON, and on a stream without message_stop', () => {
    const r = new EventReader(ctx);
    r.event(start);
    let err: unknown;
    try {
      r.event(ev('error', { error: { type: 'overloaded_error', message: 'Overloaded' } }));
    } catch (e) {
      err = e;
    }
    expect(kindOf(err)).toBe('server');
    expect((err as Error).message).toMatch(/overloaded_error.*Overloaded/);
    expect(() => new EventReader(ctx).event({ event: 'content_block_delta', data: '{"type":"content_block_delta","index":0,"delta":{"type":"text_del' })).toThrow(/malformed stream event 'content_block_delta'/);
    const cut = new EventReader(ctx);
    cut.event(start);
    expect(() => cut.end()).toThrow(/ended before message_stop/);
  });

  it('maps stop reasons', () => {
    expect(mapStopReason('end_turn', false)).toBe('stop');
    expect(mapStopReason('stop_sequence', false)).toBe('stop');
    expect(mapStopReason('max_tokens', false)).toBe('length');
    expect(mapStopReason('refusal', false)).toBe('content_filter');
    expect(mapStopReason('pause_turn', false)).toBe('other');
  });
});

describe('errors', () => {
  const body = (type: string, message: string) => JSON.stringify({ type: 'error', error: { type, message }, request_id: 'req_1' });
  it('maps HTTP answers to kinds', () => {
    expect(kindOf(httpError(401, {}, body('authentication_error', 'invalid x-api-key'), ctx))).toBe('auth');
    expect(kindOf(httpError(403, {}, body('permission_error', 'no'), ctx))).toBe('auth');
    expect(kindOf(httpError(400, {}, body('invalid_request_error', 'prompt is too long: 210000 tokens > 200000 maximum'), ctx))).toBe('context_length');
    expect(kindOf(httpError(413, {}, body('request_too_large', 'Request exceeds the maximum allowed number of bytes.'), ctx))).toBe('context_length');
    expect(kindOf(httpError(400, {}, body('invalid_request_error', 'max_tokens: Field required'), ctx))).toBe('invalid_request');
    expect(kindOf(httpError(404, {}, body('not_found_error', 'model: claude-nope'), ctx))).toBe('invalid_request');
    expect(kindOf(httpError(500, {}, body('api_error', 'Internal server error'), ctx))).toBe('server');
    expect(kindOf(httpError(529, {}, body('overloaded_error', 'Overloaded'), ctx))).toBe('server');
  });

  it('carries Retry-After and says where the key came from', () => {
    expect(httpError(429, { 'retry-after': '7' }, body('rate_limit_error', 'slow down'), ctx).details).toEqual({ kind: 'rate_limit', status: 429, retryAfterMs: 7000 });
    expect(httpError(401, {}, body('authentication_error', 'invalid x-api-key'), ctx).message).toMatch(/environment variable ANTHROPIC_API_KEY.*caduceus secrets set ANTHROPIC_API_KEY/);
  });

  it('maps mid-stream error events by type', () => {
    expect(kindOf(streamError({ type: 'rate_limit_error', message: 'r' }, ctx))).toBe('rate_limit');
    expect(kindOf(streamError({ type: 'api_error', message: 'a' }, ctx))).toBe('server');
    expect(kindOf(streamError({ type: 'invalid_request_error', message: 'prompt is too long' }, ctx))).toBe('context_length');
    expect(kindOf(streamError({ type: 'brand_new_error' }, ctx))).toBe('server');
  });
});

describe('buildBody', () => {
  const request = {
    model: 'claude-x',
    system: [{ text: 'Identity.', stable: true }, { text: 'Tools guide.', stable: true }, { text: 'Now: Friday.', stable: false }],
    messages: [
      { role: 'user' as const, content: 'Weather and time?' },
      { role: 'assistant' as const, content: 'Checking both.', toolCalls: [{ id: 't1', name: 'weather', arguments: '{"city":"Oslo"}' }, { id: 't2', name: 'clock', arguments: '' }] },
      { role: 'tool' as const, toolCallId: 't1', name: 'weather', content: '{"temp":3}' },
      { role: 'tool' as const, toolCallId: 't2', name: 'clock', content: 'clock broke', isError: true },
    ],
    tools: [
      { name: 'weather', description: 'Weather', inputSchema: { type: 'object', properties: { city: { type: 'string' } } } },
      { name: 'clock', description: 'Time', inputSchema: { type: 'object', properties: {} } },
    ],
  };

  it('puts cache markers on the last stable system block, the last tool and the last block, and groups tool results', () => {
    const body = buildBody(request, { maxTokens: undefined, promptCaching: true });
    expect(body).toEqual({
      model: 'claude-x',
      max_tokens: DEFAULT_MAX_TOKENS,
      system: [
        { type: 'text', text: 'Identity.' },
        { type: 'text', text: 'Tools guide.', cache_control: { type: 'ephemeral' } },
        { type: 'text', text: 'Now: Friday.' },
      ],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather and time?' }] },
        { role: 'assistant', content: [
          { type: 'text', text: 'Checking both.' },
          { type: 'tool_use', id: 't1', name: 'weather', input: { city: 'Oslo' } },
          { type: 'tool_use', id: 't2', name: 'clock', input: {} },
        ] },
        { role: 'user', content: [
          { type: 'tool_result', tool_use_id: 't1', content: '{"temp":3}' },
          { type: 'tool_result', tool_use_id: 't2', content: 'clock broke', is_error: true, cache_control: { type: 'ephemeral' } },
        ] },
      ],
      tools: [
        { name: 'weather', description: 'Weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } },
        { name: 'clock', description: 'Time', input_schema: { type: 'object', properties: {} }, cache_control: { type: 'ephemeral' } },
      ],
      stream: true,
    });
  });

  it('puts a user follow-up after the tool results in the same message, and drops empty text', () => {
    const body = buildBody({ ...request, messages: [...request.messages, { role: 'user', content: 'Also: hurry.' }, { role: 'assistant', content: '' }] }, { maxTokens: 512, promptCaching: false });
    const messages = body.messages as { role: string; content: { type: string }[] }[];
    expect(messages).toHaveLength(3);
    expect(messages[2]!.content.map((b) => b.type)).toEqual(['tool_result', 'tool_result', 'text']);
    expect(body.max_tokens).toBe(512);
    expect(JSON.stringify(body)).not.toContain('cache_control');
  });

  it('gives an empty error result some content, which the API requires', () => {
    const body = buildBody({ model: 'm', system: [], tools: [], messages: [
      { role: 'user', content: 'go' },
      { role: 'assistant', content: '', toolCalls: [{ id: 't', name: 'x', arguments: '{}' }] },
      { role: 'tool', toolCallId: 't', name: 'x', content: '', isError: true },
    ] }, { maxTokens: undefined, promptCaching: false });
    expect((body.messages as { content: unknown[] }[])[2]!.content).toEqual([{ type: 'tool_result', tool_use_id: 't', content: 'The tool failed without a message.', is_error: true }]);
  });

  it('leaves out system and tools when there are none', () => {
    const body = buildBody({ model: 'm', system: [{ text: 'volatile', stable: false }], messages: [{ role: 'user', content: 'hi' }], tools: [], maxTokens: 5, temperature: 0 }, { maxTokens: 9, promptCaching: true });
    expect(body).toEqual({
      model: 'm', max_tokens: 5, system: [{ type: 'text', text: 'volatile' }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi', cache_control: { type: 'ephemeral' } }] }], temperature: 0, stream: true,
    });
  });
});
