/**
 * openai: an LLM provider for the OpenAI Chat Completions API and the many servers that speak it
 * (OpenRouter, llama.cpp's server, vLLM, Ollama's /v1). Bundled and enabled by default; it does nothing
 * until a model reference names it (`openai/<model>`).
 *
 * Where requests go: config `plugins.openai.baseUrl`, else env OPENAI_BASE_URL, else
 * https://api.openai.com/v1. The key: the secret OPENAI_API_KEY (`caduceus secrets set`), else env
 * OPENAI_API_KEY; none is needed by a local server. `net:*` reaches any public host; a server on
 * loopback or a private address needs its host granted by name (`caduceus plugins grant openai
 * net:127.0.0.1:8080`). The plugin never retries: it reports the failure kind and the host's runner
 * decides.
 */
import { baseUrlHost, coalesceEvents, definePlugin, defineProvider, notAnEventStream, openProviderStream, ProviderError, SseDecoder, type ChatEvent, type ChatStream, type PluginContext, type StreamingResponse } from 'caduceus/sdk';
import { buildBody } from './request.js';
import { ChunkReader, completionEvents } from './stream.js';
import { httpError, keyAdvice, type ErrorContext, type KeySource } from './errors.js';

const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

interface Settings {
  baseUrl: string;
  endpoint: string;
  key: string | null;
  keySource: KeySource;
  official: boolean;
  includeUsage: boolean;
  maxTokens: number | undefined;
  headers: Record<string, string>;
}

/** Reads an env variable or secret; a revoked grant counts as "not set" (the host audits the refusal). */
async function optional(read: () => Promise<string | null>): Promise<string | null> {
  try {
    const v = await read();
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
  } catch (err) {
    if ((err as { code?: string }).code === 'CAD_ERR_PERMISSION_DENIED') return null;
    throw err;
  }
}

async function settings(ctx: PluginContext): Promise<Settings> {
  const cfg = ctx.config;
  const configured = typeof cfg.baseUrl === 'string' && cfg.baseUrl.trim() !== '' ? cfg.baseUrl.trim() : null;
  const baseUrl = (configured ?? (await optional(() => ctx.env.get('OPENAI_BASE_URL'))) ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  const endpoint = /\/chat\/completions$/.test(baseUrl) ? baseUrl : `${baseUrl}/chat/completions`;
  const secret = await optional(() => ctx.secrets.get('OPENAI_API_KEY'));
  const env = secret ? null : await optional(() => ctx.env.get('OPENAI_API_KEY'));
  const host = baseUrlHost(baseUrl);
  if (host === null) {
    throw new ProviderError('invalid_request', `The OpenAI base URL ${JSON.stringify(baseUrl)} is not an http(s) URL. Set plugins.openai.baseUrl in config.json or OPENAI_BASE_URL to e.g. https://api.openai.com/v1.`);
  }
  const official = host === 'api.openai.com';
  const headers: Record<string, string> = {};
  if (cfg.headers && typeof cfg.headers === 'object') {
    for (const [k, v] of Object.entries(cfg.headers as Record<string, unknown>)) if (typeof v === 'string') headers[k] = v;
  }
  return {
    baseUrl,
    endpoint,
    key: secret ?? env,
    keySource: secret ? 'secret' : env ? 'env' : 'none',
    official,
    includeUsage: cfg.includeUsage !== false,
    maxTokens: typeof cfg.maxTokens === 'number' ? cfg.maxTokens : undefined,
    headers,
  };
}

/** Emits events; a false from the host means the user cancelled, so the response is closed and the call ends. */
async function emitAll(stream: ChatStream, res: StreamingResponse, events: ChatEvent[]): Promise<void> {
  for (const e of coalesceEvents(events)) {
    if (!stream.emit(e)) {
      await res.cancel().catch(() => undefined);
      throw new ProviderError('cancelled', 'The call was cancelled while the reply streamed.');
    }
  }
}

const openai = defineProvider({
  name: 'openai',
  description: 'OpenAI Chat Completions and any OpenAI-compatible server (OpenRouter, llama.cpp, vLLM, Ollama /v1).',
  defaultModel: 'gpt-4o-mini',
  configuredBy: { env: ['OPENAI_API_KEY', 'OPENAI_BASE_URL'], secrets: ['OPENAI_API_KEY'], config: ['baseUrl'] },
  // Meaningless to a model, costs tokens, and some OpenAI-compatible backends reject it.
  schemaKeywordsUnsupported: ['$schema'],
  chat: async (request, ctx, stream) => {
    const s = await settings(ctx);
    const ectx: ErrorContext = { baseUrl: s.baseUrl, model: request.model, keySource: s.keySource, nowMs: ctx.clock.now() };
    if (!s.key && s.official) {
      throw new ProviderError('auth', `OpenAI needs an API key and none is set. ${keyAdvice('none')} To use another OpenAI-compatible server instead, set OPENAI_BASE_URL or plugins.openai.baseUrl.`);
    }
    const body = buildBody(request, { includeUsage: s.includeUsage, maxTokens: s.maxTokens, maxTokensField: s.official ? 'max_completion_tokens' : 'max_tokens' });
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream', ...s.headers };
    if (s.key) headers.authorization = `Bearer ${s.key}`;
    const res = await openProviderStream(stream, ctx.pluginId, s.endpoint, { method: 'POST', headers, body: JSON.stringify(body) });
    if (res.status !== 200) {
      const text = await res.text().catch(() => '');
      throw httpError(res.status, res.headers, text, { ...ectx, nowMs: ctx.clock.now() });
    }
    const contentType = res.headers['content-type'] ?? '';
    if (/^text\/html/i.test(contentType)) throw await notAnEventStream(res, s.baseUrl, 'OPENAI_BASE_URL or plugins.openai.baseUrl (it usually ends in /v1)');
    if (contentType.includes('application/json')) {
      await emitAll(stream, res, completionEvents(await readRest(res, ectx), ectx));
      return;
    }
    const sse = new SseDecoder();
    const reader = new ChunkReader(ectx);
    let received = 0;
    for (;;) {
      let chunk: string | null;
      try {
        chunk = await res.read();
      } catch (err) {
        if ((err as { code?: string }).code !== 'CAD_ERR_NET_FAILED') throw err;
        // The reply itself was complete (finish_reason seen); only the usage chunk or [DONE] was lost.
        if (reader.complete) {
          ctx.log.warn(`openai: the stream from ${s.baseUrl} broke off after the reply finished; usage may be missing`);
          break;
        }
        throw new ProviderError('network', `The stream from ${s.baseUrl} broke off after ${received} characters: ${(err as Error).message}`);
      }
      if (chunk === null) {
        for (const e of sse.end()) await emitAll(stream, res, reader.data(e.data));
        break;
      }
      received += chunk.length;
      const events: ChatEvent[] = [];
      try {
        for (const e of sse.push(chunk)) events.push(...reader.data(e.data));
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

async function readRest(res: StreamingResponse, ectx: ErrorContext): Promise<string> {
  try {
    return await res.text();
  } catch (err) {
    if ((err as { code?: string }).code !== 'CAD_ERR_NET_FAILED') throw err;
    throw new ProviderError('network', `The reply from ${ectx.baseUrl} broke off: ${(err as Error).message}`);
  }
}

export default definePlugin({ providers: [openai] });
