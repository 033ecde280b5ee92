/**
 * The provider contract's types: what a provider plugin's `chat` receives (the request, the system blocks,
 * the conversation, the tools), what it emits, how it fails, and its streaming fetch. Re-exported by
 * `sdk/types.ts`, so `caduceus/sdk` offers them with every other type.
 */
import type { FetchInit } from './types.js';

/**
 * One part of the system prompt as a provider receives it. `stable` blocks come first and are the same on
 * every turn of a session: a provider with explicit prompt caching (Anthropic) marks the end of the last
 * stable block as a cache breakpoint; one with automatic prefix caching (OpenAI) simply keeps them first.
 *
 * @example
 * ```ts
 * const blocks: SystemBlock[] = [{ text: 'You are Caduceus, an agent.', stable: true }, { text: 'Today is Friday.', stable: false }];
 * ```
 */
export interface SystemBlock {
  text: string;
  stable: boolean;
}

/**
 * A tool call the model made: its id (the provider's, or one the host made up), the tool name and the
 * arguments as JSON text, exactly as the model produced them (the host repairs and validates them).
 *
 * @example
 * ```ts
 * const call: ChatToolCall = { id: 'call_1', name: 'files_read', arguments: '{"path":"README.md"}' };
 * ```
 */
export interface ChatToolCall {
  id: string;
  name: string;
  arguments: string;
}

/**
 * One message of the conversation, in the host's provider-neutral form. A provider plugin maps it onto
 * its wire format (OpenAI `tool` messages, Anthropic `tool_use`/`tool_result` blocks, ...).
 *
 * @example
 * ```ts
 * const history: ChatMessage[] = [
 *   { role: 'user', content: 'What is in README.md?' },
 *   { role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'files_read', arguments: '{"path":"README.md"}' }] },
 *   { role: 'tool', toolCallId: 'call_1', name: 'files_read', content: '{"text":"# Demo"}' },
 * ];
 * ```
 */
export type ChatMessage =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ChatToolCall[] }
  | { role: 'tool'; toolCallId: string; name: string; content: string; isError?: boolean };

/**
 * A tool as the model is shown it: the name, the description and the input JSON Schema (already
 * sanitised for the provider's declared `schemaKeywordsUnsupported`).
 *
 * @example
 * ```ts
 * const tool: ChatTool = { name: 'clock_now', description: 'Current time', inputSchema: { type: 'object', properties: {} } };
 * ```
 */
export interface ChatTool {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/**
 * What a provider's `chat` receives: the model name (without the `<provider>/` prefix), the system
 * blocks, the conversation and the tools.
 *
 * @example
 * ```ts
 * const req: ChatRequest = { model: 'gpt-4o-mini', system: [{ text: 'Be brief.', stable: true }], messages: [{ role: 'user', content: 'hi' }], tools: [] };
 * ```
 */
export interface ChatRequest {
  model: string;
  system: SystemBlock[];
  messages: ChatMessage[];
  tools: ChatTool[];
  maxTokens?: number;
  temperature?: number;
}

/**
 * The events a provider emits while a reply streams in. Tool calls arrive as start, argument deltas
 * (JSON text in pieces) and end, keyed by `index` so parallel calls can interleave. `usage` may come more
 * than once (the last one wins); `finish` comes last.
 *
 * @example
 * ```ts
 * stream.emit({ type: 'text', delta: 'Hel' });
 * stream.emit({ type: 'tool_call_start', index: 0, id: 'call_1', name: 'clock_now' });
 * stream.emit({ type: 'tool_call_delta', index: 0, delta: '{}' });
 * stream.emit({ type: 'tool_call_end', index: 0 });
 * stream.emit({ type: 'usage', inputTokens: 120, outputTokens: 9 });
 * stream.emit({ type: 'finish', reason: 'tool_calls' });
 * ```
 */
export type ChatEvent =
  | { type: 'text'; delta: string }
  | { type: 'reasoning'; delta: string }
  | { type: 'tool_call_start'; index: number; id: string; name: string }
  | { type: 'tool_call_delta'; index: number; delta: string }
  | { type: 'tool_call_end'; index: number }
  | { type: 'usage'; inputTokens: number; outputTokens: number; cacheReadTokens?: number; cacheWriteTokens?: number }
  | { type: 'finish'; reason: 'stop' | 'tool_calls' | 'length' | 'content_filter' | 'other' };

/**
 * The kinds of provider failure the host understands. `rate_limit` may carry `retryAfterMs`; the host
 * retries `rate_limit`, `server` and `network` with jittered backoff, never the others.
 *
 * @example
 * ```ts
 * const kind: ProviderErrorKind = res.status === 401 ? 'auth' : 'server';
 * ```
 */
export type ProviderErrorKind = 'auth' | 'rate_limit' | 'context_length' | 'invalid_request' | 'server' | 'network' | 'cancelled';

/**
 * A response body that arrives in pieces, from `stream.fetch`. `read()` resolves to the next chunk of
 * text, or null at the end; `text()` reads the rest at once (for error bodies).
 *
 * @example
 * ```ts
 * const res = await stream.fetch(url, { method: 'POST', headers, body });
 * if (res.status !== 200) throw new ProviderError('server', await res.text(), { status: res.status });
 * for (let chunk = await res.read(); chunk !== null; chunk = await res.read()) buffer += chunk;
 * ```
 */
export interface StreamingResponse {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  url: string;
  read(): Promise<string | null>;
  text(): Promise<string>;
  cancel(): Promise<void>;
}

/**
 * The third argument of a provider's `chat`: where its events go, and a streaming fetch tied to this
 * call (same `net:<host>` grants and SSRF floor as `ctx.fetch`; the host closes it when the user cancels).
 *
 * @example
 * ```ts
 * chat: async (req, ctx, stream: ChatStream) => {
 *   const res = await stream.fetch('https://api.example.com/v1/chat', { method: 'POST', body: JSON.stringify(req) });
 *   for (let c = await res.read(); c !== null && !stream.cancelled(); c = await res.read()) stream.emit({ type: 'text', delta: c });
 *   stream.emit({ type: 'finish', reason: 'stop' });
 * }
 * ```
 */
export interface ChatStream {
  /** Hands one event to the host; false once the call was cancelled (stop reading then). */
  emit(event: ChatEvent): boolean;
  fetch(url: string, init?: FetchInit): Promise<StreamingResponse>;
  cancelled(): boolean;
}
