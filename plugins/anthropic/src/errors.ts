/**
 * Anthropic's error answers as the host's ProviderError kinds. The API sends
 * `{"type":"error","error":{"type":"<kind>_error","message":"..."}}` both as an HTTP error body and as
 * an `error` event inside a stream that already started (an overload mid-reply, for instance), so one
 * mapping by error type serves both, with the HTTP status as the fallback.
 */
import { ProviderError, parseRetryAfter } from 'caduceus/sdk';

export type KeySource = 'secret' | 'env' | 'none';

export interface ErrorContext {
  baseUrl: string;
  model: string;
  keySource: KeySource;
  nowMs: number;
}

const CONTEXT_WORDING = /prompt is too long|context window|context length|too many tokens|exceeds? the maximum/i;

export function readErrorBody(text: string): { type: string; message: string } {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const e = (body.error && typeof body.error === 'object' ? body.error : body) as Record<string, unknown>;
    return { type: typeof e.type === 'string' ? e.type : '', message: typeof e.message === 'string' ? e.message.slice(0, 1000) : text.trim().slice(0, 500) };
  } catch {
    return { type: '', message: text.trim().slice(0, 500) };
  }
}

export function keyAdvice(keySource: KeySource): string {
  const how = 'Store a valid key with `caduceus secrets set ANTHROPIC_API_KEY` (or export ANTHROPIC_API_KEY)';
  if (keySource === 'secret') return `The key came from the secret ANTHROPIC_API_KEY. ${how}.`;
  if (keySource === 'env') return `The key came from the environment variable ANTHROPIC_API_KEY (no secret ANTHROPIC_API_KEY is stored). ${how}.`;
  return `No API key was sent: there is no secret ANTHROPIC_API_KEY and no ANTHROPIC_API_KEY in the environment. ${how}.`;
}

function byType(type: string, message: string, c: ErrorContext, where: string, extra: { status?: number; retryAfterMs?: number }): ProviderError | undefined {
  switch (type) {
    case 'authentication_error':
    case 'permission_error':
      return new ProviderError('auth', `${where}. ${keyAdvice(c.keySource)}`, extra);
    case 'rate_limit_error':
      return new ProviderError('rate_limit', `${where}.`, extra);
    case 'request_too_large':
      return new ProviderError('context_length', `${where}. The request is larger than the API accepts; shorten the conversation.`, extra);
    case 'invalid_request_error':
      if (CONTEXT_WORDING.test(message)) {
        return new ProviderError('context_length', `${where}. The conversation is longer than model '${c.model}' accepts; shorten it or pick a model with a larger context window.`, extra);
      }
      return new ProviderError('invalid_request', `${where}.`, extra);
    case 'not_found_error':
      return new ProviderError('invalid_request', `${where}. Check the model name '${c.model}'.`, extra);
    case 'overloaded_error':
    case 'api_error':
    case 'timeout_error':
      return new ProviderError('server', `${where}.`, extra);
    default:
      return undefined;
  }
}

/** The ProviderError for a non-200 answer. */
export function httpError(status: number, headers: Record<string, string>, bodyText: string, c: ErrorContext): ProviderError {
  const info = readErrorBody(bodyText);
  const where = `${c.baseUrl} answered HTTP ${status}${info.type ? ` ${info.type}` : ''}${info.message ? `: ${info.message.replace(/[.\s]+$/, '')}` : ''}`;
  const retryAfterMs = status === 429 || status === 529 || status >= 500 ? parseRetryAfter(headers, c.nowMs) : undefined;
  const extra = retryAfterMs === undefined ? { status } : { status, retryAfterMs };
  if (status === 401 || status === 403) return new ProviderError('auth', `${where}. ${keyAdvice(c.keySource)}`, { status });
  if (status === 413) return new ProviderError('context_length', `${where}. The request is larger than the API accepts; shorten the conversation.`, { status });
  if (status === 429) return new ProviderError('rate_limit', `${where}.`, extra);
  if (status >= 500) return new ProviderError('server', `${where}.`, extra);
  const typed = byType(info.type, info.message, c, where, { status });
  if (typed) return typed;
  if (status === 400 && CONTEXT_WORDING.test(info.message)) return new ProviderError('context_length', `${where}.`, { status });
  if (status === 408) return new ProviderError('network', `${where} (request timeout).`, { status });
  if (status >= 400) return new ProviderError('invalid_request', `${where}.`, { status });
  return new ProviderError('server', `${where}.`, { status });
}

/** The ProviderError for an `error` event inside the stream. */
export function streamError(error: unknown, c: ErrorContext): ProviderError {
  const e = (error && typeof error === 'object' ? error : {}) as Record<string, unknown>;
  const type = typeof e.type === 'string' ? e.type : '';
  const message = typeof e.message === 'string' ? e.message.slice(0, 1000).replace(/[.\s]+$/, '') : '';
  const where = `${c.baseUrl} sent an error event mid-stream${type ? ` (${type})` : ''}${message ? `: ${message}` : ''}`;
  return byType(type, message, c, where, {}) ?? new ProviderError('server', `${where}.`);
}
