/**
 * The bundled provider plugins, `openai` and `anthropic`, each running in a real isolate (through
 * `caduceus/sdk/testing`, i.e. Kernel.chatModel and the real streaming fetch with its grant checks)
 * against fake OpenAI and Anthropic servers on 127.0.0.1 that replay the documented wire formats and
 * check requests as the real APIs do. Covered: streamed text cut at arbitrary byte boundaries, reasoning,
 * tool calls split across chunks, parallel calls, usage (with Anthropic prompt-cache reads), every error
 * kind (401, 429 with Retry-After, 500/529, 413 and context overflow, other 4xx, malformed chunks,
 * disconnects, streams that stop early, in-stream errors), cancellation mid-stream, the exact request
 * shape (system blocks and cache markers, tool_result grouping, tools), where keys and base URLs come
 * from, and one `caduceus run` per provider through the built CLI with a real tool.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { ChatEvent, ChatRequest, ChatTool } from '../../sdk/types.js';
import type { LoadedPlugin, LoadOptions } from '../../sdk/testing.js';
import { ROOT, makeHome, type Home } from '../helpers/cli.js';
import { startFakeAnthropic, startFakeOpenAI, spawnFakeLLM, type FakeServer } from '../fixtures/fake-llm/index.mjs';

const { loadPlugin } = await import(join(ROOT, 'dist/sdk/testing.js')) as typeof import('../../sdk/testing.js');

const OPENAI_KEY = 'sk-test-openai';
const ANTHROPIC_KEY = 'sk-ant-test';
const WEATHER: ChatTool = { name: 'weather', description: 'Weather now in a city', inputSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } };
const CLOCK: ChatTool = { name: 'clock', description: 'The time', inputSchema: { type: 'object', properties: {} } };

function request(over: Partial<ChatRequest> = {}): ChatRequest {
  return {
    model: 'test-model',
    system: [{ text: 'You are a test agent.', stable: true }, { text: 'Tool guidance.', stable: true }, { text: 'Turn: 1', stable: false }],
    messages: [{ role: 'user', content: 'Hello?' }],
    tools: [WEATHER, CLOCK],
    ...over,
  };
}

/** What a list of events adds up to, after checking the ordering rules of the contract. */
function summarise(events: ChatEvent[]) {
  const calls = new Map<number, { id: string; name: string; args: string; ended: boolean }>();
  let text = '';
  let reasoning = '';
  let usage: Extract<ChatEvent, { type: 'usage' }> | undefined;
  let finish: string | undefined;
  for (const e of events) {
    expect(finish, 'nothing may follow finish').toBeUndefined();
    if (e.type === 'text') text += e.delta;
    else if (e.type === 'reasoning') reasoning += e.delta;
    else if (e.type === 'tool_call_start') {
      expect(calls.has(e.index), `tool call ${e.index} started twice`).toBe(false);
      calls.set(e.index, { id: e.id, name: e.name, args: '', ended: false });
    } else if (e.type === 'tool_call_delta') {
      const c = calls.get(e.index);
      expect(c && !c.ended, `delta for tool call ${e.index} outside start/end`).toBe(true);
      c!.args += e.delta;
    } else if (e.type === 'tool_call_end') {
      expect(calls.get(e.index)?.ended, `end of tool call ${e.index}`).toBe(false);
      calls.get(e.index)!.ended = true;
    } else if (e.type === 'usage') usage = e;
    else if (e.type === 'finish') finish = e.reason;
  }
  return { text, reasoning, calls: [...calls.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c), usage, finish };
}

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function load(dir: string, grants: string[], opts: Omit<LoadOptions, 'grants' | 'build'>): Promise<LoadedPlugin> {
  return loadPlugin(join(ROOT, 'plugins', dir), { build: false, grants, ...opts });
}

const OPENAI_GRANTS = ['net:*', 'env:OPENAI_API_KEY', 'env:OPENAI_BASE_URL', 'secret:OPENAI_API_KEY'];
const ANTHROPIC_GRANTS = ['net:*', 'env:ANTHROPIC_API_KEY', 'env:ANTHROPIC_BASE_URL', 'secret:ANTHROPIC_API_KEY'];

describe('openai provider plugin', () => {
  let fake: FakeServer;
  let p: LoadedPlugin;

  beforeAll(async () => {
    fake = await startFakeOpenAI({ apiKey: OPENAI_KEY });
    p = await load('openai', [...OPENAI_GRANTS, `net:127.0.0.1:${fake.port}`], { fakes: { env: { OPENAI_BASE_URL: fake.baseUrl, OPENAI_API_KEY: OPENAI_KEY }, secrets: {} } });
  }, 60_000);
  afterAll(async () => {
    await p?.close();
    await fake?.close();
  });

  it('streams text cut at arbitrary byte boundaries, multi-byte characters intact, then usage and finish', async () => {
    const text = 'Grüße aus Köln ✓ — the answer is 42.';
    fake.queue({ text, chunk: 2, split: 7, delayMs: 1, usage: { input: 321, output: 17, cacheRead: 256 } });
    const r = await p.chat('openai', request());
    expect(r.error).toBeUndefined();
    const s = summarise(r.events);
    expect(s.text).toBe(text);
    expect(s.usage).toEqual({ type: 'usage', inputTokens: 321, outputTokens: 17, cacheReadTokens: 256 });
    expect(s.finish).toBe('stop');
    expect(r.events.at(-1)).toEqual({ type: 'finish', reason: 'stop' });
  });

  it('sends the Chat Completions wire format: one system message, tools, streaming with usage, the key', async () => {
    fake.queue({ text: 'ok' });
    const before = fake.requests.length;
    await p.chat('openai', request({ maxTokens: 256, temperature: 0 }));
    const req = fake.requests[before]!;
    expect(req.path).toBe('/v1/chat/completions');
    expect(req.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.body).toEqual({
      model: 'test-model',
      messages: [{ role: 'system', content: 'You are a test agent.\n\nTool guidance.\n\nTurn: 1' }, { role: 'user', content: 'Hello?' }],
      stream: true,
      stream_options: { include_usage: true },
      tools: [
        { type: 'function', function: { name: 'weather', description: WEATHER.description, parameters: WEATHER.inputSchema } },
        { type: 'function', function: { name: 'clock', description: CLOCK.description, parameters: CLOCK.inputSchema } },
      ],
      max_tokens: 256,
      temperature: 0,
    });
  });

  it('assembles a tool call whose name and arguments arrive split across many chunks', async () => {
    fake.queue({ text: 'Let me check.', toolCalls: [{ id: 'call_w', name: 'weather', args: { city: 'Reykjavík', units: 'metric' } }], chunk: 3, split: 11 });
    const s = summarise((await p.chat('openai', request())).events);
    expect(s.text).toBe('Let me check.');
    expect(s.calls).toEqual([{ id: 'call_w', name: 'weather', args: '{"city":"Reykjavík","units":"metric"}', ended: true }]);
    expect(s.finish).toBe('tool_calls');
  });

  it('keeps two parallel tool calls apart while their argument pieces interleave', async () => {
    fake.queue({ toolCalls: [{ name: 'weather', args: { city: 'Oslo' } }, { name: 'clock', args: {} }], interleave: true, chunk: 2 });
    const r = await p.chat('openai', request());
    const s = summarise(r.events);
    expect(s.calls.map((c) => [c.name, JSON.parse(c.args)])).toEqual([['weather', { city: 'Oslo' }], ['clock', {}]]);
    expect(new Set(s.calls.map((c) => c.id)).size).toBe(2);
    expect(s.finish).toBe('tool_calls');
  });

  it('streams reasoning from reasoning_content and from reasoning (OpenRouter, Ollama)', async () => {
    fake.queue({ reasoning: 'First, think.', text: 'Done.' }, { reasoning: 'Other field.', reasoningField: 'reasoning', text: 'Ok.' });
    expect(summarise((await p.chat('openai', request())).events)).toMatchObject({ reasoning: 'First, think.', text: 'Done.' });
    expect(summarise((await p.chat('openai', request())).events)).toMatchObject({ reasoning: 'Other field.', text: 'Ok.' });
  });

  it('sends a tool round trip in the order the API checks: assistant tool_calls, then one tool message per id', async () => {
    fake.queue({ text: 'It is 3 degrees and noon.' });
    const before = fake.requests.length;
    const r = await p.chat('openai', request({
      messages: [
        { role: 'user', content: 'Weather and time?' },
        { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'weather', arguments: '{"city":"Oslo"}' }, { id: 'c2', name: 'clock', arguments: '{}' }] },
        { role: 'tool', toolCallId: 'c1', name: 'weather', content: '{"temp":3}' },
        { role: 'tool', toolCallId: 'c2', name: 'clock', content: '{"time":"12:00"}' },
      ],
    }));
    expect(r.error).toBeUndefined();
    expect(fake.requests[before]!.body.messages.slice(1)).toEqual([
      { role: 'user', content: 'Weather and time?' },
      { role: 'assistant', content: null, tool_calls: [
        { id: 'c1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
        { id: 'c2', type: 'function', function: { name: 'clock', arguments: '{}' } },
      ] },
      { role: 'tool', tool_call_id: 'c1', content: '{"temp":3}' },
      { role: 'tool', tool_call_id: 'c2', content: '{"time":"12:00"}' },
    ]);
  });

  it('maps a 429 to rate_limit with Retry-After in seconds or as a date, and does not retry by itself', async () => {
    const before = fake.requests.length;
    fake.queue({ kind: 'error', status: 429, retryAfter: 2 });
    const r = await p.chat('openai', request());
    expect(r.error?.code).toBe('CAD_ERR_PROVIDER_RATE_LIMIT');
    expect(r.error?.details).toMatchObject({ kind: 'rate_limit', status: 429, retryAfterMs: 2000 });
    expect(fake.requests.length).toBe(before + 1);
    fake.queue({ kind: 'error', status: 429, retryAfter: new Date(Date.now() + 30_000).toUTCString() });
    const dated = await p.chat('openai', request());
    expect(dated.error?.details?.retryAfterMs).toBeGreaterThan(25_000);
    expect(dated.error?.details?.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('maps 500 and 503 to server, an overflow to context_length, other 4xx to invalid_request', async () => {
    fake.queue({ kind: 'error', status: 500 }, { kind: 'error', status: 503 }, { kind: 'error', status: 400, code: 'context_length_exceeded' }, { kind: 'error', status: 404, code: 'model_not_found' });
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await p.chat('openai', request())).error);
    expect(codes.map((e) => e?.code)).toEqual(['CAD_ERR_PROVIDER_SERVER', 'CAD_ERR_PROVIDER_SERVER', 'CAD_ERR_PROVIDER_CONTEXT_LENGTH', 'CAD_ERR_PROVIDER_INVALID_REQUEST']);
    expect(codes[2]!.message).toContain("maximum context length is 128000 tokens");
    expect(codes[2]!.message).toContain("model 'test-model'");
    expect(codes[3]!.message).toContain("Check the model name 'test-model'");
  });

  it('reports a request the API refuses (a tool message with no tool call before it) as invalid_request', async () => {
    fake.queue({ text: 'never sent' });
    const r = await p.chat('openai', request({ messages: [{ role: 'user', content: 'x' }, { role: 'tool', toolCallId: 'ghost', name: 'clock', content: '{}' }] }));
    expect(r.error?.code).toBe('CAD_ERR_PROVIDER_INVALID_REQUEST');
    expect(r.error?.message).toContain("messages with role 'tool' must be a response to a preceeding message with 'tool_calls'");
    fake.reset();
  });

  it('fails as network on a malformed chunk, after passing on what came before it', async () => {
    fake.queue({ text: 'abcdefghijklmnop', chunk: 4, fault: { type: 'malformed', after: 3 } });
    const r = await p.chat('openai', request());
    expect(r.error?.code).toBe('CAD_ERR_PROVIDER_NETWORK');
    expect(r.error?.message).toContain('malformed stream chunk');
    expect(summarise(r.events).text).toBe('abcdefgh');
  });

  it('fails as network when the connection drops mid-stream, and when the stream ends early', async () => {
    fake.queue({ text: 'a long answer that never ends', chunk: 3, fault: { type: 'disconnect', after: 4 } }, { text: 'cut short', chunk: 3, fault: { type: 'truncate', after: 3 } });
    const dropped = await p.chat('openai', request());
    expect(dropped.error?.code).toBe('CAD_ERR_PROVIDER_NETWORK');
    expect(dropped.events.some((e) => e.type === 'finish')).toBe(false);
    const early = await p.chat('openai', request());
    expect(early.error?.code).toBe('CAD_ERR_PROVIDER_NETWORK');
    expect(early.error?.message).toContain('ended before the reply was finished');
  });

  it('keeps a reply whose connection drops after finish_reason, with a warning instead of usage', async () => {
    // Events: role, 'abc', finish chunk, usage chunk, [DONE]; the drop comes after the finish chunk.
    fake.queue({ text: 'abc', chunk: 4, fault: { type: 'disconnect', after: 3 } });
    const r = await p.chat('openai', request());
    expect(r.error).toBeUndefined();
    expect(summarise(r.events)).toMatchObject({ text: 'abc', finish: 'stop', usage: undefined });
    expect(p.logs.some((l) => l.level === 'warn' && l.message.includes('broke off after the reply finished'))).toBe(true);
  });

  it('reports a web page where the API should be as invalid_request, naming the setting to check', async () => {
    fake.queue({ kind: 'raw', headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<html><body>Welcome to nginx!</body></html>' });
    const r = await p.chat('openai', request());
    expect(r.error?.code).toBe('CAD_ERR_PROVIDER_INVALID_REQUEST');
    expect(r.error?.message).toContain('answered with a web page');
    expect(r.error?.message).toContain('OPENAI_BASE_URL');
  });

  it('maps an error object sent inside the stream', async () => {
    fake.queue({ text: 'partial', fault: { type: 'error', after: 2, message: 'Upstream provider crashed', errorType: 'server_error' } });
    const r = await p.chat('openai', request());
    expect(r.error?.code).toBe('CAD_ERR_PROVIDER_SERVER');
    expect(r.error?.message).toContain('Upstream provider crashed');
  });

  it('stops reading and closes the connection when the call is cancelled mid-stream', async () => {
    fake.queue({ text: 'x'.repeat(200), chunk: 5, fault: { type: 'hang', after: 6 } });
    const before = fake.requests.length;
    const ac = new AbortController();
    const r = await p.chat('openai', request(), { signal: ac.signal, onEvent: (e) => { if (e.type === 'text') ac.abort(); } });
    expect(r.error?.code).toBe('CAD_ERR_PROVIDER_CANCELLED');
    await until('the server to see the client go', () => fake.requests[before]?.clientClosed === true);
  });

  it('accepts a server that answers with one plain JSON completion', async () => {
    fake.queue({ kind: 'raw', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'Whole answer.' }, finish_reason: 'stop' }], usage: { prompt_tokens: 9, completion_tokens: 2 } }) });
    const s = summarise((await p.chat('openai', request())).events);
    expect(s).toMatchObject({ text: 'Whole answer.', finish: 'stop', usage: { inputTokens: 9, outputTokens: 2 } });
  });

  it('says which key was rejected and how to set one', async () => {
    const wrong = await load('openai', [...OPENAI_GRANTS, `net:127.0.0.1:${fake.port}`], { fakes: { env: { OPENAI_BASE_URL: fake.baseUrl, OPENAI_API_KEY: 'sk-wrong' }, secrets: {} } });
    try {
      fake.queue({ text: 'never' });
      const r = await wrong.chat('openai', request());
      expect(r.error?.code).toBe('CAD_ERR_PROVIDER_AUTH');
      expect(r.error?.message).toContain('Incorrect API key provided');
      expect(r.error?.message).toContain('environment variable OPENAI_API_KEY');
      expect(r.error?.message).toContain('caduceus secrets set OPENAI_API_KEY');
    } finally {
      fake.reset();
      await wrong.close();
    }
  });

  it('prefers config baseUrl over OPENAI_BASE_URL and the secret over the environment key', async () => {
    const q = await load('openai', [...OPENAI_GRANTS, `net:127.0.0.1:${fake.port}`], {
      config: { baseUrl: `${fake.baseUrl}/`, headers: { 'X-Title': 'caduceus-test' } },
      fakes: { env: { OPENAI_BASE_URL: 'http://127.0.0.1:9/v1', OPENAI_API_KEY: 'sk-wrong' }, secrets: { OPENAI_API_KEY: OPENAI_KEY } },
    });
    try {
      fake.queue({ text: 'configured' });
      const before = fake.requests.length;
      const r = await q.chat('openai', request());
      expect(r.error).toBeUndefined();
      expect(summarise(r.events).text).toBe('configured');
      expect(fake.requests[before]!.headers['x-title']).toBe('caduceus-test');
    } finally {
      await q.close();
    }
  });

  it('refuses to call api.openai.com without a key, before any request', async () => {
    const q = await load('openai', OPENAI_GRANTS, { fakes: { env: {}, secrets: {} } });
    try {
      const r = await q.chat('openai', request());
      expect(r.error?.code).toBe('CAD_ERR_PROVIDER_AUTH');
      expect(r.error?.message).toContain('OpenAI needs an API key and none is set');
      expect(r.error?.message).toContain('caduceus secrets set OPENAI_API_KEY');
    } finally {
      await q.close();
    }
  });

  it('needs the loopback server granted by name, and says which grant', async () => {
    const q = await load('openai', OPENAI_GRANTS, { fakes: { env: { OPENAI_BASE_URL: fake.baseUrl }, secrets: {} } });
    try {
      const before = fake.requests.length;
      const r = await q.chat('openai', request());
      expect(r.error?.code).toMatch(/^CAD_ERR_PROVIDER_/);
      expect(r.error?.message).toContain(`caduceus plugins grant openai net:127.0.0.1:${fake.port}`);
      expect(fake.requests.length).toBe(before);
    } finally {
      await q.close();
    }
  });
});

describe('anthropic provider plugin', () => {
  let fake: FakeServer;
  let p: LoadedPlugin;

  beforeAll(async () => {
    fake = await startFakeAnthropic({ apiKey: ANTHROPIC_KEY });
    p = await load('anthropic', [...ANTHROPIC_GRANTS, `net:127.0.0.1:${fake.port}`], { fakes: { env: { ANTHROPIC_BASE_URL: fake.baseUrl }, secrets: { ANTHROPIC_API_KEY: ANTHROPIC_KEY } } });
  }, 60_000);
  afterAll(async () => {
    await p?.close();
    await fake?.close();
  });

  it('streams thinking and text cut at arbitrary byte boundaries, then usage and finish', async () => {
    const text = 'Ça marche — 東京 ✓';
    fake.queue({ reasoning: 'Consider the user.', text, chunk: 2, split: 5, delayMs: 1, usage: { input: 40, output: 12, cacheRead: 0, cacheWrite: 300 } });
    const r = await p.chat('anthropic', request());
    expect(r.error).toBeUndefined();
    const s = summarise(r.events);
    expect(s.reasoning).toBe('Consider the user.');
    expect(s.text).toBe(text);
    expect(s.usage).toEqual({ type: 'usage', inputTokens: 340, outputTokens: 12, cacheReadTokens: 0, cacheWriteTokens: 300 });
    expect(r.events.at(-1)).toEqual({ type: 'finish', reason: 'stop' });
  });

  it('sends the Messages wire format: headers, max_tokens, system blocks and tools with cache markers', async () => {
    fake.queue({ text: 'ok' });
    const before = fake.requests.length;
    await p.chat('anthropic', request());
    const req = fake.requests[before]!;
    expect(req.path).toBe('/v1/messages');
    expect(req.headers['x-api-key']).toBe(ANTHROPIC_KEY);
    expect(req.headers['anthropic-version']).toBe('2023-06-01');
    expect(req.headers.authorization).toBeUndefined();
    expect(req.body).toEqual({
      model: 'test-model',
      max_tokens: 8192,
      system: [
        { type: 'text', text: 'You are a test agent.' },
        { type: 'text', text: 'Tool guidance.', cache_control: { type: 'ephemeral' } },
        { type: 'text', text: 'Turn: 1' },
      ],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello?', cache_control: { type: 'ephemeral' } }] }],
      tools: [
        { name: 'weather', description: WEATHER.description, input_schema: WEATHER.inputSchema },
        { name: 'clock', description: CLOCK.description, input_schema: CLOCK.inputSchema, cache_control: { type: 'ephemeral' } },
      ],
      stream: true,
    });
  });

  it('assembles split tool_use input and numbers parallel calls 0 and 1', async () => {
    fake.queue({ text: 'Both at once.', toolCalls: [{ id: 'toolu_a', name: 'weather', args: { city: 'Zürich' } }, { id: 'toolu_b', name: 'clock', args: {} }], chunk: 3, split: 9 });
    const s = summarise((await p.chat('anthropic', request())).events);
    expect(s.text).toBe('Both at once.');
    expect(s.calls).toEqual([
      { id: 'toolu_a', name: 'weather', args: '{"city":"Zürich"}', ended: true },
      { id: 'toolu_b', name: 'clock', args: '{}', ended: true },
    ]);
    expect(s.finish).toBe('tool_calls');
  });

  it('puts all tool results of a turn in one user message, and the next turn reads the prompt cache', async () => {
    const history = request({
      messages: [
        { role: 'user', content: 'Weather and time?' },
        { role: 'assistant', content: 'Checking.', toolCalls: [{ id: 'toolu_1', name: 'weather', arguments: '{"city":"Oslo"}' }, { id: 'toolu_2', name: 'clock', arguments: '{}' }] },
        { role: 'tool', toolCallId: 'toolu_1', name: 'weather', content: '{"temp":3}' },
        { role: 'tool', toolCallId: 'toolu_2', name: 'clock', content: 'clock unavailable', isError: true },
      ],
    });
    fake.queue({ text: 'It is 3 degrees.' }, { text: 'You are welcome.' });
    const before = fake.requests.length;
    const first = await p.chat('anthropic', history);
    expect(first.error).toBeUndefined();
    expect(fake.requests[before]!.body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Weather and time?' }] },
      { role: 'assistant', content: [
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Oslo' } },
        { type: 'tool_use', id: 'toolu_2', name: 'clock', input: {} },
      ] },
      { role: 'user', content: [
        { type: 'tool_result', tool_use_id: 'toolu_1', content: '{"temp":3}' },
        { type: 'tool_result', tool_use_id: 'toolu_2', content: 'clock unavailable', is_error: true, cache_control: { type: 'ephemeral' } },
      ] },
    ]);
    // The next turn repeats that conversation plus the answer and a new question: the prefix is cached.
    const next = await p.chat('anthropic', { ...history, messages: [...history.messages, { role: 'assistant', content: 'It is 3 degrees.' }, { role: 'user', content: 'Thanks!' }] });
    const usage = summarise(next.events).usage!;
    expect(usage.cacheReadTokens).toBeGreaterThan(0);
    expect(usage.inputTokens).toBeGreaterThan(usage.cacheReadTokens!);
  });

  it('maps 429 with Retry-After, 529 and 500 to retryable kinds', async () => {
    fake.queue({ kind: 'error', status: 429, retryAfter: 4 }, { kind: 'error', status: 529 }, { kind: 'error', status: 500 });
    const a = await p.chat('anthropic', request());
    expect(a.error?.code).toBe('CAD_ERR_PROVIDER_RATE_LIMIT');
    expect(a.error?.details).toMatchObject({ kind: 'rate_limit', retryAfterMs: 4000 });
    const b = await p.chat('anthropic', request());
    expect(b.error?.code).toBe('CAD_ERR_PROVIDER_SERVER');
    expect(b.error?.message).toContain('overloaded_error');
    expect((await p.chat('anthropic', request())).error?.code).toBe('CAD_ERR_PROVIDER_SERVER');
  });

  it('maps 413 and "prompt is too long" to context_length, other 400s to invalid_request', async () => {
    fake.queue({ kind: 'error', status: 413 }, { kind: 'error', status: 400, message: 'prompt is too long: 212345 tokens > 200000 maximum' });
    expect((await p.chat('anthropic', request())).error?.code).toBe('CAD_ERR_PROVIDER_CONTEXT_LENGTH');
    const long = await p.chat('anthropic', request());
    expect(long.error?.code).toBe('CAD_ERR_PROVIDER_CONTEXT_LENGTH');
    expect(long.error?.message).toContain('212345 tokens');
    // A conversation the API refuses: it must start with a user turn.
    fake.queue({ text: 'never' });
    const refused = await p.chat('anthropic', request({ messages: [{ role: 'assistant', content: 'I start.' }, { role: 'user', content: 'ok' }] }));
    expect(refused.error?.code).toBe('CAD_ERR_PROVIDER_INVALID_REQUEST');
    expect(refused.error?.message).toContain('first message must use the "user" role');
    fake.reset();
  });

  it('maps an error event mid-stream, and fails as network on malformed data, a drop or an early end', async () => {
    fake.queue(
      { text: 'partial answer', fault: { type: 'error', after: 4 } },
      { text: 'abcdefgh', chunk: 2, fault: { type: 'malformed', after: 4, line: '{"type":"content_block_delta","index":0,"delta":{"type":"text_del' } },
      { text: 'dropped', fault: { type: 'disconnect', after: 3 } },
      { text: 'early', fault: { type: 'truncate', after: 4 } },
    );
    const overloaded = await p.chat('anthropic', request());
    expect(overloaded.error?.code).toBe('CAD_ERR_PROVIDER_SERVER');
    expect(overloaded.error?.message).toContain('Overloaded');
    const malformed = await p.chat('anthropic', request());
    expect(malformed.error?.code).toBe('CAD_ERR_PROVIDER_NETWORK');
    expect(summarise(malformed.events).text).toBe('ab');
    expect((await p.chat('anthropic', request())).error?.code).toBe('CAD_ERR_PROVIDER_NETWORK');
    const early = await p.chat('anthropic', request());
    expect(early.error?.code).toBe('CAD_ERR_PROVIDER_NETWORK');
    expect(early.error?.message).toContain('ended before message_stop');
  });

  it('stops reading and closes the connection when the call is cancelled mid-stream', async () => {
    fake.queue({ text: 'y'.repeat(200), chunk: 5, fault: { type: 'hang', after: 6 } });
    const before = fake.requests.length;
    const ac = new AbortController();
    const r = await p.chat('anthropic', request(), { signal: ac.signal, onEvent: (e) => { if (e.type === 'text') ac.abort(); } });
    expect(r.error?.code).toBe('CAD_ERR_PROVIDER_CANCELLED');
    await until('the server to see the client go', () => fake.requests[before]?.clientClosed === true);
  });

  it('says which key was rejected, and refuses api.anthropic.com without one', async () => {
    const wrong = await load('anthropic', [...ANTHROPIC_GRANTS, `net:127.0.0.1:${fake.port}`], { fakes: { env: { ANTHROPIC_BASE_URL: fake.baseUrl }, secrets: { ANTHROPIC_API_KEY: 'sk-ant-wrong' } } });
    const none = await load('anthropic', ANTHROPIC_GRANTS, { fakes: { env: {}, secrets: {} } });
    try {
      fake.queue({ text: 'never' });
      const r = await wrong.chat('anthropic', request());
      expect(r.error?.code).toBe('CAD_ERR_PROVIDER_AUTH');
      expect(r.error?.message).toContain('invalid x-api-key');
      expect(r.error?.message).toContain('secret ANTHROPIC_API_KEY');
      const n = await none.chat('anthropic', request());
      expect(n.error?.code).toBe('CAD_ERR_PROVIDER_AUTH');
      expect(n.error?.message).toContain('caduceus secrets set ANTHROPIC_API_KEY');
    } finally {
      fake.reset();
      await wrong.close();
      await none.close();
    }
  });
});

describe('caduceus run against the fake servers (built CLI, bundled plugins, a real tool)', () => {
  let home: Home;
  beforeAll(() => {
    home = makeHome('cad-providers-');
    // Retries fast, so a test that provokes one does not wait for real backoff.
    writeFileSync(join(home.dir, 'config.json'), JSON.stringify({ runner: { retry: { baseMs: 5, maxDelayMs: 20 } } }));
  });
  afterAll(() => home?.cleanup());

  for (const provider of ['openai', 'anthropic'] as const) {
    it(`${provider}: the model calls todo, gets the result back, and answers`, async () => {
      const fake = await spawnFakeLLM(provider, { apiKey: 'k-cli', fallback: { kind: 'auto', toolCalls: [{ name: 'todo', args: { action: 'list' } }], text: 'The list says: {{result}}' } });
      try {
        expect(home.run(['plugins', 'grant', provider, `net:127.0.0.1:${fake.port}`]).code).toBe(0);
        const env: Record<string, string> = provider === 'openai'
          ? { OPENAI_BASE_URL: fake.baseUrl, OPENAI_API_KEY: 'k-cli', ANTHROPIC_API_KEY: '' }
          : { ANTHROPIC_BASE_URL: fake.baseUrl, ANTHROPIC_API_KEY: 'k-cli', OPENAI_API_KEY: '', OPENAI_BASE_URL: '' };
        const r = await home.runAsync(['run', 'What is on my list?', '--model', `${provider}/fake-model`], { env });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/^The list says: \{.*"items":\[\]/);
        expect(r.stderr).toMatch(/todo ok/);
        const requests = await fake.requests();
        expect(requests).toHaveLength(2);
        expect(requests[0]!.body.model).toBe('fake-model');
        const toolNames = provider === 'openai' ? requests[0]!.body.tools.map((t: any) => t.function.name) : requests[0]!.body.tools.map((t: any) => t.name);
        expect(toolNames).toContain('todo');
      } finally {
        await fake.close();
      }
    });
  }
});
