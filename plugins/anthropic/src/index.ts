/**
 * anthropic: an LLM provider for the Anthropic Messages API, streamed. Bundled and enabled by default;
 * it does nothing until a model reference names it (`anthropic/<model>`).
 *
 * Where requests go: config `plugins.anthropic.baseUrl`, else env ANTHROPIC_BASE_URL, else
 * https://api.anthropic.com (the base without /v1, as Anthropic's own SDKs take it). The key: the secret
 * ANTHROPIC_API_KEY, else env ANTHROPIC_API_KEY. Requests carry `x-api-key` and `anthropic-version:
 * 2023-06-01`, and cache markers on the stable prompt prefix, the tools and the conversation (see
 * request.ts). The plugin never retries: it reports the failure kind and the host's runner decides.
 */
import { baseUrlHost, coalesceEvents, definePlugin, defineProvider, notAnEventStream, openProviderStream, ProviderError, SseDecoder, type ChatEvent, type ChatStream, type PluginContext, type StreamingResponse } from 'caduceus/sdk';
import { buildBody } from './request.js';
import { EventReader } from './stream.js';
import { httpError, keyAdvice, type ErrorContext, type KeySource } from './errors.js';

const DEFAULT_BASE_URL = 'https://api.anthropic.com';
const API_VERSION = '2023-06-01';

async function optional(read: () => Promise<string | null>): Promise<string | null> {
  try {
    const v = await read();
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
  } catch (err) {
    if ((err as { code?: string }).code === 'CAD_ERR_PERMISSION_DENIED') return null;
    throw err;
  }
}

interface Settings {
  baseUrl: string;
  endpoint: string;
  key: string | null;
  keySource: KeySource;
  official: boolean;
  maxTokens: number | undefined;
  promptCaching: boolean;
  headers: Record<string, string>;
}

async function settings(ctx: PluginContext): Promise<Settings> {
  const cfg = ctx.config;
  const configured = typeof cfg.baseUrl === 'string' && cfg.baseUrl.trim() !== '' ? cfg.baseUrl.trim() : null;
  const baseUrl = (configured ?? (await optional(() => ctx.env.get('ANTHROPIC_BASE_URL'))) ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  const endpoint = /\/v1\/messages$/.test(baseUrl) ? baseUrl : /\/v1$/.test(baseUrl) ? `${baseUrl}/messages` : `${baseUrl}/v1/messages`;
  const host = baseUrlHost(baseUrl);
  if (host === null) {
    throw new ProviderError('invalid_request', `The Anthropic base URL ${JSON.stringify(baseUrl)} is not an http(s) URL. Set plugins.anthropic.baseUrl in config.json or ANTHROPIC_BASE_URL to e.g. https://api.anthropic.com.`);
  }
  const official = host === 'api.anthropic.com';
  const secret = await optional(() => ctx.secrets.get('ANTHROPIC_API_KEY'));
  const env = secret ? null : await optional(() => ctx.env.get('ANTHROPIC_API_KEY'));
  const headers: Record<string, string> = {};
  if (cfg.headers && typeof cfg.headers === 'object') {
    for (const [k, v] of Object.entries(cfg.headers as Record<string, unknown>)) if (typeof v === 'string') headers[k] = v;
  }
  return {
    baseUrl, endpoint, official,
    key: secret ?? env,
    keySource: secret ? 'secret' : env ? 'env' : 'none',
    maxTokens: typeof cfg.maxTokens === 'number' ? cfg.maxTokens : undefined,
    promptCaching: cfg.promptCaching !== false,
    headers,
  };
}

async function emitAll(stream: ChatStream, res: StreamingResponse, events: ChatEvent[]): Promise<void> {
  for (const e of coalesceEvents(events)) {
    if (!stream.emit(e)) {
      await res.cancel().catch(() => undefined);
      throw new ProviderError('cancelled', 'The call was cancelled while the reply streamed.');
    }
  }
}

const anthropic = defineProvider({
  name: 'anthropic',
  description: 'Anthropic Messages API (Claude models), streamed, with prompt caching.',
  defaultModel: 'claude-sonnet-4-5',
  configuredBy: { env: ['ANTHROPIC_API_KEY'], secrets: ['ANTHROPIC_API_KEY'], config: [] },
  // Meaningless to a model and costs tokens on every request.
  schemaKeywordsUnsupported: ['$schema'],
  chat: async (request, ctx, stream) => {
    const s = await settings(ctx);
    const ectx: ErrorContext = { baseUrl: s.baseUrl, model: request.model, keySource: s.keySource, nowMs: ctx.clock.now() };
    if (!s.key && s.official) {
      throw new ProviderError('auth', `Anthropic needs an API key and none is set. ${keyAdvice('none')}`);
    }
    const body = buildBody(request, { maxTokens: s.maxTokens, promptCaching: s.promptCaching });
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream', 'anthropic-version': API_VERSION, ...s.headers };
    if (s.key) headers['x-api-key'] = s.key;
    const res = await openProviderStream(stream, ctx.pluginId, s.endpoint, { method: 'POST', headers, body: JSON.stringify(body) });
    if (res.status !== 200) {
      const text = await res.text().catch(() => '');
      throw httpError(res.status, res.headers, text, { ...ectx, nowMs: ctx.clock.now() });
    }
    if (/^text\/html/i.test(res.headers['content-type'] ?? '')) throw await notAnEventStream(res, s.baseUrl, 'ANTHROPIC_BASE_URL or plugins.anthropic.baseUrl (the base without /v1)');
    const sse = new SseDecoder();
    const reader = new EventReader(ectx);
    let received = 0;
    for (;;) {
      let chunk: string | null;
      try {
        chunk = await res.read();
      } catch (err) {
        if ((err as { code?: string }).code !== 'CAD_ERR_NET_FAILED') throw err;
        throw new ProviderError('network', `The stream from ${s.baseUrl} broke off after ${received} characters: ${(err as Error).message}`);
      }
      if (chunk === null) {
        for (const e of sse.end()) await emitAll(stream, res, reader.event(e));
        break;
      }
      received += chunk.length;
      const events: ChatEvent[] = [];
      try {
        for (const e of sse.push(chunk)) events.push(...reader.event(e));
      } catch (err) {
        // What arrived before a failure (an error event, a malformed line) still reaches the host.
        await emitAll(stream, res, events);
        throw err;
      }
      await emitAll(stream, res, events);
      if (reader.done) {
        await res.cancel().catch(() => undefined);
        break;
      }
    }
    await emitAll(stream, res, reader.end());
  },
});

export default definePlugin({ providers: [anthropic] });
