/**
 * Plain helpers for provider plugins, shared by the bundled `openai` and `anthropic` plugins and offered to
 * third-party providers: the error to throw, merging event bursts, reading a base URL's host (the sandbox
 * has no WHATWG URL class), and opening the streaming request with refusals that name the grant to give.
 * No host access of their own; exported from `caduceus/sdk` and from the sandbox runtime alike.
 */
import type { ChatEvent, ChatStream, FetchInit, ProviderErrorKind, StreamingResponse } from './types.js';

/**
 * The error a provider throws so the host knows what went wrong: the kind decides retries and the message
 * the user sees. `retryAfterMs` (from a `Retry-After` header) is honoured, capped by the host.
 *
 * @example
 * ```ts
 * if (res.status === 429) throw new ProviderError('rate_limit', 'rate limited', { status: 429, retryAfterMs: Number(res.headers['retry-after']) * 1000 });
 * ```
 */
export class ProviderError extends Error {
  readonly code: string;
  readonly details: { kind: ProviderErrorKind; status?: number; retryAfterMs?: number };
  constructor(kind: ProviderErrorKind, message: string, extra: { status?: number; retryAfterMs?: number } = {}) {
    super(message);
    this.name = 'ProviderError';
    this.code = `provider:${kind}`;
    this.details = { kind, ...extra };
  }
}

/**
 * Merges neighbouring text, reasoning and same-call argument deltas, so a burst parsed from one network
 * read costs one `stream.emit` each.
 *
 * @example
 * ```ts
 * for (const e of coalesceEvents(reader.feed(chunk))) if (!stream.emit(e)) break;
 * ```
 */
export function coalesceEvents(events: ChatEvent[]): ChatEvent[] {
  const out: ChatEvent[] = [];
  for (const e of events) {
    const last = out[out.length - 1];
    if (last && (e.type === 'text' || e.type === 'reasoning') && last.type === e.type) {
      out[out.length - 1] = { type: e.type, delta: last.delta + e.delta };
    } else if (last && e.type === 'tool_call_delta' && last.type === 'tool_call_delta' && last.index === e.index) {
      out[out.length - 1] = { type: 'tool_call_delta', index: e.index, delta: last.delta + e.delta };
    } else {
      out.push(e);
    }
  }
  return out;
}

/**
 * The host name of a base URL, lower-cased; null for anything that is not an absolute http(s) URL. (The
 * host checks the full URL again, grants and SSRF floor included, when the request is made.)
 *
 * @example
 * ```ts
 * if (baseUrlHost(baseUrl) === 'api.openai.com' && !key) throw new ProviderError('auth', 'no API key');
 * ```
 */
export function baseUrlHost(url: string): string | null {
  const m = /^https?:\/\/([^/?#]+)/i.exec(url.trim());
  if (!m) return null;
  const authority = m[1]!.slice(m[1]!.lastIndexOf('@') + 1);
  const host = authority.startsWith('[') ? authority.slice(0, authority.indexOf(']') + 1) : authority.replace(/:\d*$/, '');
  return host === '' ? null : host.toLowerCase();
}

/**
 * `host[:port]` of a URL as a `net:` grant names it (the host matches grants against exactly this).
 *
 * @example
 * ```ts
 * grantTargetOf('http://127.0.0.1:8080/v1'); // '127.0.0.1:8080'
 * ```
 */
export function grantTargetOf(url: string): string | null {
  const m = /^https?:\/\/([^/?#]+)/i.exec(url.trim());
  if (!m) return null;
  return m[1]!.slice(m[1]!.lastIndexOf('@') + 1).toLowerCase();
}

/**
 * Opens the streaming request. A refusal because the server is on a loopback or private address (a local
 * llama.cpp or Ollama) becomes an `invalid_request` ProviderError naming the exact grant that allows it;
 * every other failure passes through.
 *
 * @example
 * ```ts
 * const res = await openProviderStream(stream, ctx.pluginId, `${baseUrl}/chat/completions`, { method: 'POST', headers, body });
 * ```
 */
export async function openProviderStream(stream: ChatStream, pluginId: string, endpoint: string, init: FetchInit): Promise<StreamingResponse> {
  try {
    return await stream.fetch(endpoint, init);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    const target = grantTargetOf(endpoint);
    if (e.code === 'CAD_ERR_NET_BLOCKED' && target && /only a grant naming/.test(e.message ?? '')) {
      throw new ProviderError('invalid_request', `${e.message}. To use a server on this machine or your network, grant it by name: \`caduceus plugins grant ${pluginId} net:${target}\`.`);
    }
    throw err;
  }
}

/**
 * The error for a 200 answer that is a web page instead of an event stream (a wrong base URL, a proxy's
 * login page): `invalid_request`, not worth a retry. Cancels the response.
 *
 * @example
 * ```ts
 * if (!/event-stream|json/.test(res.headers['content-type'] ?? '')) throw await notAnEventStream(res, baseUrl, 'OPENAI_BASE_URL');
 * ```
 */
export async function notAnEventStream(res: StreamingResponse, baseUrl: string, setting: string): Promise<ProviderError> {
  await res.cancel().catch(() => undefined);
  return new ProviderError('invalid_request', `${baseUrl} answered with a web page (${res.headers['content-type']}) from ${res.url}, not an API event stream. Check ${setting}.`, { status: res.status });
}
