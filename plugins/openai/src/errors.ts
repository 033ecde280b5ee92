/**
 * Turning what an OpenAI-compatible server says went wrong into the host's ProviderError kinds. Servers
 * differ in how they spell an error body (OpenAI and OpenRouter `{error: {message, code, type}}`, Ollama
 * `{error: "..."}`, vLLM `{message, type, code}`), so the message is read from whichever is there. The
 * kind decides whether the host retries, so the mapping errs towards "do not retry" only where a retry
 * cannot help (bad key, exhausted quota, a prompt too long, a malformed request).
 */
import { ProviderError, parseRetryAfter } from 'caduceus/sdk';

/** Where the API key came from, for messages that tell the operator what to fix. */
export type KeySource = 'secret' | 'env' | 'none';

export interface ErrorContext {
  /** The base URL requests go to, shown in messages. */
  baseUrl: string;
  model: string;
  keySource: KeySource;
  nowMs: number;
}

const CONTEXT_WORDING = /context_length_exceeded|exceed_context_size|context length|context window|maximum context|context size|too many tokens|prompt is too long|reduce the length of the messages/i;

interface ErrorInfo {
  message: string;
  code: string;
  type: string;
}

/** Reads message, code and type out of any of the error body shapes compatible servers use. */
export function readErrorBody(text: string): ErrorInfo {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { message: text.trim().slice(0, 500), code: '', type: '' };
  }
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const inner = b.error;
  if (typeof inner === 'string') return { message: inner, code: '', type: '' };
  const e = (inner && typeof inner === 'object' ? inner : b) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
  const message = str(e.message) || str(b.message) || str(b.detail) || text.trim().slice(0, 500);
  return { message: message.slice(0, 1000), code: str(e.code), type: str(e.type) };
}

/** What to tell the operator about the key, for auth failures. */
export function keyAdvice(keySource: KeySource): string {
  const how = 'Store a valid key with `caduceus secrets set OPENAI_API_KEY` (or export OPENAI_API_KEY)';
  if (keySource === 'secret') return `The key came from the secret OPENAI_API_KEY. ${how}.`;
  if (keySource === 'env') return `The key came from the environment variable OPENAI_API_KEY (no secret OPENAI_API_KEY is stored). ${how}.`;
  return `No API key was sent: there is no secret OPENAI_API_KEY and no OPENAI_API_KEY in the environment. ${how}.`;
}

/** The ProviderError for a non-200 answer. */
export function httpError(status: number, headers: Record<string, string>, bodyText: string, c: ErrorContext): ProviderError {
  const info = readErrorBody(bodyText);
  const said = info.message ? `: ${info.message.replace(/[.\s]+$/, '')}` : '';
  const where = `${c.baseUrl} answered HTTP ${status}${said}`;
  if (status === 401 || status === 403) {
    return new ProviderError('auth', `${where}. ${keyAdvice(c.keySource)}`, { status });
  }
  if (status === 429) {
    if (info.code === 'insufficient_quota' || info.type === 'insufficient_quota') {
      return new ProviderError('auth', `${where}. The account behind the key has no quota left; add credit or use another key (retrying will not help).`, { status });
    }
    const retryAfterMs = parseRetryAfter(headers, c.nowMs);
    return new ProviderError('rate_limit', `${where}.`, retryAfterMs === undefined ? { status } : { status, retryAfterMs });
  }
  if (status === 413 || ((status === 400 || status === 422) && CONTEXT_WORDING.test(`${info.code} ${info.type} ${info.message}`))) {
    return new ProviderError('context_length', `${where}. The conversation is longer than model '${c.model}' accepts; shorten it or pick a model with a larger context window.`, { status });
  }
  if (status === 404) {
    return new ProviderError('invalid_request', `${where}. Check the model name '${c.model}' and that the base URL ends where the API's /chat/completions lives (e.g. .../v1).`, { status });
  }
  if (status === 408) return new ProviderError('network', `${where} (request timeout).`, { status });
  if (status >= 400 && status < 500) return new ProviderError('invalid_request', `${where}.`, { status });
  return new ProviderError('server', `${where}.`, { status });
}

/** The ProviderError for an `{"error": ...}` object sent inside the stream (OpenRouter, vLLM and others do). */
export function streamError(error: unknown, c: ErrorContext): ProviderError {
  const info = readErrorBody(JSON.stringify({ error }));
  const text = `${c.baseUrl} reported an error mid-stream: ${info.message.replace(/[.\s]+$/, '') || 'no message'}`;
  const code = `${info.code} ${info.type}`;
  if (CONTEXT_WORDING.test(`${code} ${info.message}`)) return new ProviderError('context_length', `${text}.`);
  if (/rate_limit|\b429\b/.test(code)) return new ProviderError('rate_limit', `${text}.`);
  if (/invalid_api_key|authentication|\b401\b|\b403\b/.test(code)) return new ProviderError('auth', `${text}. ${keyAdvice(c.keySource)}`);
  if (/invalid_request|\b400\b|\b404\b|\b422\b/.test(code)) return new ProviderError('invalid_request', `${text}.`);
  return new ProviderError('server', `${text}.`);
}
