/**
 * Reading a streamed Chat Completions reply: each SSE data payload (a `chat.completion.chunk`, the usage
 * chunk, `[DONE]`, or an in-stream `{"error": ...}`) becomes host ChatEvents. Pure: it returns events,
 * and the caller emits them.
 *
 * Tool calls arrive as `delta.tool_calls[]` entries keyed by `index`: the first carries `id` and
 * `function.name`, later ones pieces of `function.arguments`; parallel calls use different indexes and
 * may interleave. Compatible servers bend this: some send a whole call in one entry, some omit `index`
 * (the entry's position stands in), and some put every parallel call at index 0 with distinct ids (a
 * new id at a busy index therefore starts a new call). Events number calls 0, 1, 2... in order of
 * appearance. Calls are closed when the choice's finish_reason arrives; `finish` comes from `end()`, after
 * the usage chunk that follows the finish_reason.
 *
 * A data line that is not JSON fails the reply as `network` instead of being skipped: a skipped chunk
 * can hold a piece of a tool call's arguments, and running a tool with silently corrupted arguments is
 * worse than the host retrying the request.
 */
import { ProviderError, type ChatEvent } from 'caduceus/sdk';
import { streamError, type ErrorContext } from './errors.js';

type FinishReason = Extract<ChatEvent, { type: 'finish' }>['reason'];

interface CallState {
  n: number;
  id: string;
  name: string;
  started: boolean;
  ended: boolean;
  pending: string;
}

export function mapFinishReason(raw: string | null, sawToolCalls: boolean): FinishReason {
  switch (raw) {
    case 'stop':
    case 'eos':
    case 'end_turn':
      // Some servers (older Ollama) say "stop" after tool calls; the calls are what matter.
      return sawToolCalls ? 'tool_calls' : 'stop';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case 'length':
    case 'max_tokens':
      return 'length';
    case 'content_filter':
      return 'content_filter';
    case null:
      return sawToolCalls ? 'tool_calls' : 'stop';
    default:
      return 'other';
  }
}

export class ChunkReader {
  private readonly byWire = new Map<number, CallState>();
  private readonly calls: CallState[] = [];
  private finishRaw: string | null = null;
  private finished = false;
  /** `[DONE]` arrived: the server finished the reply. */
  done = false;

  constructor(private readonly ctx: ErrorContext) {}

  /** A finish_reason (or [DONE]) arrived, so the reply itself is complete even if the usage chunk is not. */
  get complete(): boolean {
    return this.finished || this.done;
  }

  /** One SSE data payload. Throws ProviderError for an error chunk or a payload that is not JSON. */
  data(payload: string): ChatEvent[] {
    const text = payload.trim();
    if (text === '[DONE]') {
      this.done = true;
      return [];
    }
    if (text === '') return [];
    let chunk: Record<string, unknown>;
    try {
      chunk = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new ProviderError('network', `${this.ctx.baseUrl} sent a malformed stream chunk (not JSON): ${JSON.stringify(text.slice(0, 120))}. The request can be retried.`);
    }
    if (chunk === null || typeof chunk !== 'object') {
      throw new ProviderError('network', `${this.ctx.baseUrl} sent a malformed stream chunk (not an object): ${JSON.stringify(text.slice(0, 120))}.`);
    }
    if (chunk.error !== undefined && chunk.error !== null) throw streamError(chunk.error, this.ctx);
    const out: ChatEvent[] = [];
    const choices = Array.isArray(chunk.choices) ? (chunk.choices as Record<string, unknown>[]) : [];
    for (const choice of choices) {
      if (!choice || typeof choice !== 'object' || (typeof choice.index === 'number' && choice.index !== 0)) continue;
      const delta = (choice.delta && typeof choice.delta === 'object' ? choice.delta : choice.message ?? {}) as Record<string, unknown>;
      const reasoning = typeof delta.reasoning_content === 'string' ? delta.reasoning_content : typeof delta.reasoning === 'string' ? delta.reasoning : '';
      if (reasoning) out.push({ type: 'reasoning', delta: reasoning });
      if (typeof delta.content === 'string' && delta.content !== '') out.push({ type: 'text', delta: delta.content });
      if (Array.isArray(delta.tool_calls)) this.toolCalls(delta.tool_calls as Record<string, unknown>[], out);
      if (typeof choice.finish_reason === 'string' && choice.finish_reason !== '') {
        this.finishRaw = choice.finish_reason;
        this.finished = true;
        this.closeCalls(out);
      }
    }
    const usage = chunk.usage as Record<string, unknown> | null | undefined;
    if (usage && typeof usage === 'object' && typeof usage.prompt_tokens === 'number') {
      const e: ChatEvent = { type: 'usage', inputTokens: usage.prompt_tokens, outputTokens: typeof usage.completion_tokens === 'number' ? usage.completion_tokens : 0 };
      const details = usage.prompt_tokens_details as Record<string, unknown> | null | undefined;
      if (details && typeof details.cached_tokens === 'number') e.cacheReadTokens = details.cached_tokens;
      out.push(e);
    }
    return out;
  }

  /**
   * The body ended. Returns the closing events; throws `network` when the reply stopped before the
   * server said it was finished (no finish_reason and no [DONE]).
   */
  end(): ChatEvent[] {
    if (!this.complete) {
      throw new ProviderError('network', `The stream from ${this.ctx.baseUrl} ended before the reply was finished (no finish_reason and no [DONE]). The request can be retried.`);
    }
    const out: ChatEvent[] = [];
    this.closeCalls(out);
    out.push({ type: 'finish', reason: mapFinishReason(this.finishRaw, this.calls.length > 0) });
    return out;
  }

  private toolCalls(entries: Record<string, unknown>[], out: ChatEvent[]): void {
    entries.forEach((tc, position) => {
      if (!tc || typeof tc !== 'object') return;
      const wire = typeof tc.index === 'number' ? tc.index : position;
      const id = typeof tc.id === 'string' && tc.id !== '' ? tc.id : undefined;
      let st = this.byWire.get(wire);
      if (st && ((id !== undefined && st.id !== '' && id !== st.id) || st.ended)) st = undefined;
      if (!st) {
        st = { n: this.calls.length, id: '', name: '', started: false, ended: false, pending: '' };
        this.byWire.set(wire, st);
        this.calls.push(st);
      }
      if (id !== undefined && st.id === '') st.id = id;
      const fn = (tc.function && typeof tc.function === 'object' ? tc.function : {}) as Record<string, unknown>;
      if (typeof fn.name === 'string' && !st.started) st.name += fn.name;
      if (typeof fn.arguments === 'string') st.pending += fn.arguments;
      else if (fn.arguments && typeof fn.arguments === 'object') st.pending += JSON.stringify(fn.arguments);
      if (!st.started && st.name !== '') this.start(st, out);
      if (st.started && st.pending !== '') {
        out.push({ type: 'tool_call_delta', index: st.n, delta: st.pending });
        st.pending = '';
      }
    });
  }

  private start(st: CallState, out: ChatEvent[]): void {
    st.started = true;
    out.push({ type: 'tool_call_start', index: st.n, id: st.id || `call_${st.n}`, name: st.name });
  }

  private closeCalls(out: ChatEvent[]): void {
    for (const st of this.calls) {
      if (st.ended) continue;
      if (!st.started) this.start(st, out);
      if (st.pending !== '') out.push({ type: 'tool_call_delta', index: st.n, delta: st.pending });
      st.pending = '';
      st.ended = true;
      out.push({ type: 'tool_call_end', index: st.n });
    }
  }
}

/** A whole (non-streamed) chat.completion, for servers that answer `stream: true` with plain JSON. */
export function completionEvents(text: string, ctx: ErrorContext): ChatEvent[] {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ProviderError('network', `${ctx.baseUrl} answered with a body that is neither an event stream nor JSON: ${JSON.stringify(text.slice(0, 120))}.`);
  }
  const choices = Array.isArray(body.choices) ? (body.choices as Record<string, unknown>[]) : [];
  const first = choices[0] ?? {};
  const message = (first.message && typeof first.message === 'object' ? first.message : {}) as Record<string, unknown>;
  const reader = new ChunkReader(ctx);
  const chunk = {
    choices: [{ index: 0, delta: { ...message, tool_calls: Array.isArray(message.tool_calls) ? (message.tool_calls as Record<string, unknown>[]).map((c, i) => ({ index: i, ...c })) : undefined }, finish_reason: typeof first.finish_reason === 'string' ? first.finish_reason : 'stop' }],
    usage: body.usage,
    error: body.error,
  };
  return [...reader.data(JSON.stringify(chunk)), ...reader.end()];
}
