/**
 * The openai plugin's pure parts: reading Chat Completions chunks into host events (including the ways
 * compatible servers bend the format), mapping HTTP errors to provider error kinds, and building the
 * request body. The plugin running in a real isolate against the fake server is test/e2e/providers.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ChatEvent } from 'caduceus/sdk';
import { ChunkReader, completionEvents, mapFinishReason } from '../src/stream.js';
import { coalesceEvents as coalesce } from 'caduceus/sdk';
import { httpError, readErrorBody, type ErrorContext } from '../src/errors.js';
import { buildBody } from '../src/request.js';

const ctx: ErrorContext = { baseUrl: 'https://api.example.test/v1', model: 'm-1', keySource: 'secret', nowMs: Date.parse('2025-01-01T00:00:00Z') };
const chunk = (delta: Record<string, unknown>, finish: string | null = null) => JSON.stringify({ id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] });

function read(payloads: string[]): ChatEvent[] {
  const r = new ChunkReader(ctx);
  const out: ChatEvent[] = [];
  for (const p of payloads) out.push(...r.data(p));
  out.push(...r.end());
  return out;
}

function kindOf(err: unknown): string {
  return (err as { details?: { kind?: string } }).details?.kind ?? 'none';
}

describe('ChunkReader', () => {
  it('streams text and reasoning, then usage, then finish', () => {
    const events = read([
      chunk({ role: 'assistant', content: '' }),
      chunk({ reasoning_content: 'think' }),
      chunk({ reasoning: 'ing' }),
      chunk({ content: 'Hel' }),
      chunk({ content: 'lo' }),
      chunk({}, 'stop'),
      JSON.stringify({ choices: [], usage: { prompt_tokens: 12, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 8 } } }),
      '[DONE]',
    ]);
    expect(events).toEqual([
      { type: 'reasoning', delta: 'think' }, { type: 'reasoning', delta: 'ing' },
      { type: 'text', delta: 'Hel' }, { type: 'text', delta: 'lo' },
      { type: 'usage', inputTokens: 12, outputTokens: 3, cacheReadTokens: 8 },
      { type: 'finish', reason: 'stop' },
    ]);
  });

  it('assembles a tool call whose arguments come in pieces, closing it at finish_reason', () => {
    const events = read([
      chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"ci' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: 'ty":"Oslo"}' } }] }),
      chunk({}, 'tool_calls'),
      '[DONE]',
    ]);
    expect(events).toEqual([
      { type: 'tool_call_start', index: 0, id: 'call_1', name: 'get_weather' },
      { type: 'tool_call_delta', index: 0, delta: '{"ci' },
      { type: 'tool_call_delta', index: 0, delta: 'ty":"Oslo"}' },
      { type: 'tool_call_end', index: 0 },
      { type: 'finish', reason: 'tool_calls' },
    ]);
  });

  it('keeps interleaved parallel calls apart by index', () => {
    const events = read([
      chunk({ tool_calls: [{ index: 0, id: 'a', function: { name: 'one', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'b', function: { name: 'two', arguments: '{"y"' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"x":1}' } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: ':2}' } }] }),
      chunk({}, 'tool_calls'),
      '[DONE]',
    ]);
    const args = (i: number) => events.filter((e) => e.type === 'tool_call_delta' && e.index === i).map((e) => (e as { delta: string }).delta).join('');
    expect(events.filter((e) => e.type === 'tool_call_start')).toEqual([
      { type: 'tool_call_start', index: 0, id: 'a', name: 'one' },
      { type: 'tool_call_start', index: 1, id: 'b', name: 'two' },
    ]);
    expect(args(0)).toBe('{"x":1}');
    expect(args(1)).toBe('{"y":2}');
    expect(events.slice(-3)).toEqual([{ type: 'tool_call_end', index: 0 }, { type: 'tool_call_end', index: 1 }, { type: 'finish', reason: 'tool_calls' }]);
  });

  it('copes with servers that omit index, send whole calls at once, or reuse index 0 for parallel calls', () => {
    const noIndex = read([chunk({ tool_calls: [{ id: 'p', function: { name: 'a', arguments: '{}' } }, { id: 'q', function: { name: 'b', arguments: '{"k":1}' } }] }), chunk({}, 'tool_calls')]);
    expect(noIndex.filter((e) => e.type === 'tool_call_start').map((e) => (e as { id: string }).id)).toEqual(['p', 'q']);
    const sameIndex = read([
      chunk({ tool_calls: [{ index: 0, id: 'first', function: { name: 'a', arguments: '{"n":1}' } }] }),
      chunk({ tool_calls: [{ index: 0, id: 'second', function: { name: 'b', arguments: '{"n":2}' } }] }),
      chunk({}, 'stop'),
    ]);
    expect(sameIndex).toEqual([
      { type: 'tool_call_start', index: 0, id: 'first', name: 'a' }, { type: 'tool_call_delta', index: 0, delta: '{"n":1}' },
      { type: 'tool_call_start', index: 1, id: 'second', name: 'b' }, { type: 'tool_call_delta', index: 1, delta: '{"n":2}' },
      { type: 'tool_call_end', index: 0 }, { type: 'tool_call_end', index: 1 },
      // "stop" after tool calls (older Ollama) still means the calls should run.
      { type: 'finish', reason: 'tool_calls' },
    ]);
  });

  it('makes up an id when the server sends none, and holds arguments until the name is known', () => {
    const events = read([
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"a"' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { name: 'late', arguments: ':1}' } }] }),
      chunk({}, 'tool_calls'),
    ]);
    expect(events).toEqual([
      { type: 'tool_call_start', index: 0, id: 'call_0', name: 'late' },
      { type: 'tool_call_delta', index: 0, delta: '{"a":1}' },
      { type: 'tool_call_end', index: 0 },
      { type: 'finish', reason: 'tool_calls' },
    ]);
  });

  it('fails as network on a data line that is not JSON, naming the server and quoting the line', () => {
    const r = new ChunkReader(ctx);
    r.data(chunk({ content: 'ok' }));
    let err: unknown;
    try {
      r.data('{"choices":[{"delta":{"content":"cut');
    } catch (e) {
      err = e;
    }
    expect(kindOf(err)).toBe('network');
    expect((err as Error).message).toContain('api.example.test');
    expect((err as Error).message).toContain('{\\"choices\\"');
  });

  it('fails as network when the stream ends before finish_reason or [DONE]', () => {
    const r = new ChunkReader(ctx);
    r.data(chunk({ content: 'partial' }));
    expect(() => r.end()).toThrow(/ended before the reply was finished/);
    expect(read([chunk({ content: 'x' }), '[DONE]']).at(-1)).toEqual({ type: 'finish', reason: 'stop' });
  });

  it('maps an in-stream error object by its code', () => {
    const kind = (error: unknown) => {
      try {
        new ChunkReader(ctx).data(JSON.stringify({ error }));
      } catch (e) {
        return kindOf(e);
      }
      return 'no error';
    };
    expect(kind({ message: 'boom', type: 'server_error' })).toBe('server');
    expect(kind({ message: 'Rate limit exceeded', code: 429 })).toBe('rate_limit');
    expect(kind({ message: 'too long', code: 'context_length_exceeded' })).toBe('context_length');
    expect(kind('upstream died')).toBe('server');
  });

  it('maps finish reasons', () => {
    expect(mapFinishReason('length', false)).toBe('length');
    expect(mapFinishReason('content_filter', false)).toBe('content_filter');
    expect(mapFinishReason('function_call', false)).toBe('tool_calls');
    expect(mapFinishReason('weird', false)).toBe('other');
  });
});

describe('coalesce and whole completions', () => {
  it('merges neighbouring deltas of one kind only', () => {
    expect(coalesce([
      { type: 'text', delta: 'a' }, { type: 'text', delta: 'b' }, { type: 'reasoning', delta: 'r' },
      { type: 'tool_call_delta', index: 0, delta: '{' }, { type: 'tool_call_delta', index: 0, delta: '}' }, { type: 'tool_call_delta', index: 1, delta: '{}' },
    ])).toEqual([
      { type: 'text', delta: 'ab' }, { type: 'reasoning', delta: 'r' },
      { type: 'tool_call_delta', index: 0, delta: '{}' }, { type: 'tool_call_delta', index: 1, delta: '{}' },
    ]);
  });

  it('turns a non-streamed chat.completion into the same events', () => {
    const events = completionEvents(JSON.stringify({
      choices: [{ index: 0, message: { role: 'assistant', content: 'Sure.', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] }, finish_reason: 'tool_calls' }],
      usage: { prompt_tokens: 5, completion_tokens: 2 },
    }), ctx);
    expect(events).toEqual([
      { type: 'text', delta: 'Sure.' },
      { type: 'tool_call_start', index: 0, id: 'c1', name: 'f' }, { type: 'tool_call_delta', index: 0, delta: '{"a":1}' }, { type: 'tool_call_end', index: 0 },
      { type: 'usage', inputTokens: 5, outputTokens: 2 },
      { type: 'finish', reason: 'tool_calls' },
    ]);
  });
});

describe('httpError', () => {
  const err = (status: number, body: unknown, headers: Record<string, string> = {}, keySource: ErrorContext['keySource'] = 'secret') =>
    httpError(status, headers, typeof body === 'string' ? body : JSON.stringify(body), { ...ctx, keySource });

  it('maps statuses and bodies to kinds', () => {
    expect(kindOf(err(401, { error: { message: 'Incorrect API key provided', code: 'invalid_api_key' } }))).toBe('auth');
    expect(kindOf(err(403, { error: { message: 'forbidden' } }))).toBe('auth');
    expect(kindOf(err(400, { error: { message: "This model's maximum context length is 128000 tokens.", code: 'context_length_exceeded' } }))).toBe('context_length');
    expect(kindOf(err(400, { error: { message: 'the request exceeds the available context size, try increasing it', type: 'exceed_context_size_error' } }))).toBe('context_length');
    expect(kindOf(err(413, 'too big'))).toBe('context_length');
    expect(kindOf(err(400, { error: { message: "Invalid 'tools': empty array." } }))).toBe('invalid_request');
    expect(kindOf(err(404, { error: "model 'llama9' not found" }))).toBe('invalid_request');
    expect(kindOf(err(422, { object: 'error', message: 'bad field', type: 'BadRequestError', code: 422 }))).toBe('invalid_request');
    expect(kindOf(err(500, { error: { message: 'oops', type: 'server_error' } }))).toBe('server');
    expect(kindOf(err(503, 'upstream unavailable'))).toBe('server');
    expect(kindOf(err(408, ''))).toBe('network');
  });

  it('carries Retry-After on rate limits, but treats exhausted quota as not worth retrying', () => {
    const limited = err(429, { error: { message: 'Rate limit reached', code: 'rate_limit_exceeded' } }, { 'retry-after': '3' });
    expect(limited.details).toEqual({ kind: 'rate_limit', status: 429, retryAfterMs: 3000 });
    const dated = err(429, { error: { message: 'slow down' } }, { 'retry-after': 'Wed, 01 Jan 2025 00:00:10 GMT' });
    expect(dated.details.retryAfterMs).toBe(10_000);
    const quota = err(429, { error: { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' } });
    expect(quota.details.kind).toBe('auth');
    expect(quota.message).toMatch(/quota/);
  });

  it('says where the key came from and how to fix it', () => {
    expect(err(401, { error: { message: 'bad key' } }, {}, 'secret').message).toMatch(/secret OPENAI_API_KEY.*caduceus secrets set OPENAI_API_KEY/);
    expect(err(401, { error: { message: 'bad key' } }, {}, 'env').message).toMatch(/environment variable OPENAI_API_KEY/);
    expect(err(401, { error: { message: 'bad key' } }, {}, 'none').message).toMatch(/No API key was sent/);
  });

  it('reads the error body shapes of OpenAI, Ollama and vLLM', () => {
    expect(readErrorBody(JSON.stringify({ error: { message: 'm', code: 'c', type: 't' } }))).toEqual({ message: 'm', code: 'c', type: 't' });
    expect(readErrorBody(JSON.stringify({ error: 'plain' }))).toEqual({ message: 'plain', code: '', type: '' });
    expect(readErrorBody(JSON.stringify({ object: 'error', message: 'v', type: 'BadRequestError', code: 400 }))).toEqual({ message: 'v', code: '400', type: 'BadRequestError' });
    expect(readErrorBody('<html>502 Bad Gateway</html>').message).toBe('<html>502 Bad Gateway</html>');
  });
});

describe('buildBody', () => {
  it('maps system blocks, history, tools and limits onto Chat Completions', () => {
    const body = buildBody({
      model: 'gpt-x',
      system: [{ text: 'You are Caduceus.', stable: true }, { text: '', stable: true }, { text: 'Today is Friday.', stable: false }],
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'weather', arguments: '{"city":"Oslo"}' }, { id: 'c2', name: 'clock', arguments: '' }] },
        { role: 'tool', toolCallId: 'c1', name: 'weather', content: '{"temp":3}' },
        { role: 'tool', toolCallId: 'c2', name: 'clock', content: 'failed', isError: true },
      ],
      tools: [{ name: 'weather', description: 'Weather now', inputSchema: { type: 'object', properties: { city: { type: 'string' } } } }],
      maxTokens: 100,
      temperature: 0.2,
    }, { includeUsage: true, maxTokens: 999, maxTokensField: 'max_completion_tokens' });
    expect(body).toEqual({
      model: 'gpt-x',
      messages: [
        { role: 'system', content: 'You are Caduceus.\n\nToday is Friday.' },
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: null, tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
          { id: 'c2', type: 'function', function: { name: 'clock', arguments: '{}' } },
        ] },
        { role: 'tool', tool_call_id: 'c1', content: '{"temp":3}' },
        { role: 'tool', tool_call_id: 'c2', content: 'failed' },
      ],
      stream: true,
      stream_options: { include_usage: true },
      tools: [{ type: 'function', function: { name: 'weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
      max_completion_tokens: 100,
      temperature: 0.2,
    });
  });

  it('leaves out empty tools, usage and limits when not wanted', () => {
    const body = buildBody({ model: 'local', system: [], messages: [{ role: 'user', content: 'hi' }], tools: [] }, { includeUsage: false, maxTokens: undefined, maxTokensField: 'max_tokens' });
    expect(body).toEqual({ model: 'local', messages: [{ role: 'user', content: 'hi' }], stream: true });
    expect(buildBody({ model: 'l', system: [], messages: [], tools: [] }, { includeUsage: true, maxTokens: 64, maxTokensField: 'max_tokens' }).max_tokens).toBe(64);
  });
});
