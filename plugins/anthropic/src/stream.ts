/**
 * Reading a streamed Messages reply: `message_start` (input usage), then content blocks, each a
 * `content_block_start`, deltas and `content_block_stop` (text_delta → text, thinking_delta → reasoning,
 * input_json_delta → tool-call arguments), then `message_delta` (stop_reason, output usage) and
 * `message_stop`. `ping` is a keep-alive, `error` a failure after the stream began; event types the API
 * adds later are ignored, as its versioning policy asks. Pure: it returns events, the caller emits them.
 *
 * Tool calls are numbered 0, 1, 2... in the order their `tool_use` blocks start (block indexes also count
 * text and thinking blocks). Usage is reported as the whole prompt: `inputTokens` adds the cached and
 * cache-written tokens to the API's `input_tokens` (which counts only what follows the last cache
 * breakpoint), and `cacheReadTokens`/`cacheWriteTokens` say how much of it was which.
 *
 * A data line that is not JSON fails the reply as `network` rather than being skipped (a lost
 * input_json_delta would corrupt a tool call's arguments), and so does a stream that ends before
 * `message_stop`.
 */
import { ProviderError, type ChatEvent, type SseEvent } from 'caduceus/sdk';
import { streamError, type ErrorContext } from './errors.js';

type FinishReason = Extract<ChatEvent, { type: 'finish' }>['reason'];

interface BlockState {
  kind: 'text' | 'thinking' | 'tool' | 'other';
  tool: number;
  sawArgs: boolean;
  initialInput: string;
  ended: boolean;
}

export function mapStopReason(raw: string | null, sawToolCalls: boolean): FinishReason {
  switch (raw) {
    case 'end_turn':
    case 'stop_sequence':
      return sawToolCalls ? 'tool_calls' : 'stop';
    case 'tool_use':
      return 'tool_calls';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'refusal':
      return 'content_filter';
    case null:
      return sawToolCalls ? 'tool_calls' : 'stop';
    default:
      return 'other';
  }
}

export class EventReader {
  private readonly blocks = new Map<number, BlockState>();
  private tools = 0;
  private stopReason: string | null = null;
  private usage = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
  private started = false;
  /** `message_stop` arrived: the reply is complete. */
  done = false;

  constructor(private readonly ctx: ErrorContext) {}

  /** One SSE event. Throws ProviderError for an `error` event or data that is not JSON. */
  event(e: SseEvent): ChatEvent[] {
    let d: Record<string, unknown>;
    try {
      d = JSON.parse(e.data) as Record<string, unknown>;
    } catch {
      throw new ProviderError('network', `${this.ctx.baseUrl} sent a malformed stream event${e.event !== 'message' ? ` '${e.event}'` : ''} (not JSON): ${JSON.stringify(e.data.slice(0, 120))}. The request can be retried.`);
    }
    if (d === null || typeof d !== 'object') throw new ProviderError('network', `${this.ctx.baseUrl} sent a stream event that is not an object: ${JSON.stringify(e.data.slice(0, 120))}.`);
    const type = typeof d.type === 'string' ? d.type : e.event;
    const out: ChatEvent[] = [];
    switch (type) {
      case 'message_start': {
        this.started = true;
        const message = (d.message && typeof d.message === 'object' ? d.message : {}) as Record<string, unknown>;
        if (this.readUsage(message.usage)) out.push(this.usageEvent());
        break;
      }
      case 'content_block_start':
        this.blockStart(d, out);
        break;
      case 'content_block_delta':
        this.blockDelta(d, out);
        break;
      case 'content_block_stop': {
        const b = this.blocks.get(Number(d.index));
        if (b) this.closeBlock(b, out);
        break;
      }
      case 'message_delta': {
        const delta = (d.delta && typeof d.delta === 'object' ? d.delta : {}) as Record<string, unknown>;
        if (typeof delta.stop_reason === 'string') this.stopReason = delta.stop_reason;
        if (this.readUsage(d.usage)) out.push(this.usageEvent());
        break;
      }
      case 'message_stop':
        this.done = true;
        break;
      case 'error':
        throw streamError(d.error, this.ctx);
      default:
        // ping, and event types added to the API later.
        break;
    }
    return out;
  }

  /** The body ended: returns the closing events, or throws `network` if `message_stop` never came. */
  end(): ChatEvent[] {
    if (!this.done) {
      throw new ProviderError('network', `The stream from ${this.ctx.baseUrl} ended before message_stop${this.started ? '' : ' (no message_start either)'}. The request can be retried.`);
    }
    const out: ChatEvent[] = [];
    for (const b of this.blocks.values()) this.closeBlock(b, out);
    out.push({ type: 'finish', reason: mapStopReason(this.stopReason, this.tools > 0) });
    return out;
  }

  private blockStart(d: Record<string, unknown>, out: ChatEvent[]): void {
    const index = Number(d.index);
    const cb = (d.content_block && typeof d.content_block === 'object' ? d.content_block : {}) as Record<string, unknown>;
    const state: BlockState = { kind: 'other', tool: -1, sawArgs: false, initialInput: '', ended: false };
    if (cb.type === 'text') {
      state.kind = 'text';
      if (typeof cb.text === 'string' && cb.text !== '') out.push({ type: 'text', delta: cb.text });
    } else if (cb.type === 'thinking') {
      state.kind = 'thinking';
      if (typeof cb.thinking === 'string' && cb.thinking !== '') out.push({ type: 'reasoning', delta: cb.thinking });
    } else if (cb.type === 'tool_use') {
      state.kind = 'tool';
      state.tool = this.tools++;
      // The API starts `input` as {} and streams the JSON; a gateway may instead put the whole input here.
      if (cb.input && typeof cb.input === 'object' && Object.keys(cb.input).length > 0) state.initialInput = JSON.stringify(cb.input);
      out.push({ type: 'tool_call_start', index: state.tool, id: typeof cb.id === 'string' && cb.id !== '' ? cb.id : `toolu_${state.tool}`, name: typeof cb.name === 'string' ? cb.name : '' });
    }
    this.blocks.set(index, state);
  }

  private blockDelta(d: Record<string, unknown>, out: ChatEvent[]): void {
    const b = this.blocks.get(Number(d.index));
    const delta = (d.delta && typeof d.delta === 'object' ? d.delta : {}) as Record<string, unknown>;
    if (!b) return;
    if (delta.type === 'text_delta' && typeof delta.text === 'string' && delta.text !== '') out.push({ type: 'text', delta: delta.text });
    else if (delta.type === 'thinking_delta' && typeof delta.thinking === 'string' && delta.thinking !== '') out.push({ type: 'reasoning', delta: delta.thinking });
    else if (delta.type === 'input_json_delta' && b.kind === 'tool' && typeof delta.partial_json === 'string' && delta.partial_json !== '') {
      b.sawArgs = true;
      out.push({ type: 'tool_call_delta', index: b.tool, delta: delta.partial_json });
    }
    // signature_delta and citations_delta carry nothing the host's events have room for.
  }

  private closeBlock(b: BlockState, out: ChatEvent[]): void {
    if (b.ended) return;
    b.ended = true;
    if (b.kind !== 'tool') return;
    if (!b.sawArgs) out.push({ type: 'tool_call_delta', index: b.tool, delta: b.initialInput || '{}' });
    out.push({ type: 'tool_call_end', index: b.tool });
  }

  /** Merges a usage object (message_start's, or message_delta's cumulative one); true when it had counts. */
  private readUsage(raw: unknown): boolean {
    if (!raw || typeof raw !== 'object') return false;
    const u = raw as Record<string, unknown>;
    let any = false;
    const take = (key: string, field: keyof EventReader['usage']) => {
      if (typeof u[key] === 'number' && Number.isFinite(u[key]) && (u[key] as number) >= 0) {
        this.usage[field] = u[key] as number;
        any = true;
      }
    };
    take('input_tokens', 'input');
    take('output_tokens', 'output');
    take('cache_read_input_tokens', 'cacheRead');
    take('cache_creation_input_tokens', 'cacheWrite');
    return any;
  }

  private usageEvent(): ChatEvent {
    const u = this.usage;
    return { type: 'usage', inputTokens: u.input + u.cacheRead + u.cacheWrite, outputTokens: u.output, cacheReadTokens: u.cacheRead, cacheWriteTokens: u.cacheWrite };
  }
}

