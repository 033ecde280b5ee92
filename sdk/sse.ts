/**
 * Helpers for provider plugins that read streamed HTTP replies: a server-sent events decoder that takes
 * text in pieces cut anywhere (mid-line, between a CR and its LF) and hands back whole events, and the
 * parsing of `Retry-After`. Both are plain code with no host access, exported from `caduceus/sdk` and
 * from the sandbox runtime alike, so a third-party provider gets exactly what the bundled ones use.
 */

/**
 * One server-sent event: its `event:` name (`message` when the server sent none), its data lines joined
 * with `\n`, and its `id:` when the server sent one.
 *
 * @example
 * ```ts
 * const e: SseEvent = { event: 'message_start', data: '{"type":"message_start"}' };
 * ```
 */
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/**
 * Decodes a `text/event-stream` body fed in arbitrary pieces, following the WHATWG rules: lines end in
 * LF, CRLF or CR; `:` starts a comment (keep-alives such as `: OPENROUTER PROCESSING`); one space after
 * the colon is dropped; an event is dispatched at a blank line and only when it carries data.
 * `end()` flushes a last event the server did not close with a blank line.
 *
 * @example
 * ```ts
 * const sse = new SseDecoder();
 * for (let chunk = await res.read(); chunk !== null; chunk = await res.read()) {
 *   for (const e of sse.push(chunk)) if (e.data !== '[DONE]') handle(JSON.parse(e.data));
 * }
 * for (const e of sse.end()) handle(JSON.parse(e.data));
 * ```
 */
export class SseDecoder {
  private partial = '';
  private afterCR = false;
  private started = false;
  private data: string[] = [];
  private eventName = '';
  private lastId: string | undefined;

  /** Feeds the next piece of the body; returns the events it completed, in order. */
  push(chunk: string): SseEvent[] {
    let text = chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const out: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10 && this.afterCR && i === start && this.partial === '') {
        // The LF of a CRLF whose CR ended the previous piece (or the previous line).
        this.afterCR = false;
        start = i + 1;
        continue;
      }
      if (c === 10 || c === 13) {
        const line = this.partial + text.slice(start, i);
        this.partial = '';
        this.line(line, out);
        this.afterCR = c === 13;
        start = i + 1;
        continue;
      }
      this.afterCR = false;
    }
    if (start < text.length) this.partial += text.slice(start);
    return out;
  }

  /** The body ended: returns the last event if the server did not finish it with a blank line. */
  end(): SseEvent[] {
    const out: SseEvent[] = [];
    if (this.partial !== '') {
      this.line(this.partial, out);
      this.partial = '';
    }
    this.line('', out);
    return out;
  }

  private line(line: string, out: SseEvent[]): void {
    if (line === '') {
      if (this.data.length > 0) {
        const e: SseEvent = { event: this.eventName || 'message', data: this.data.join('\n') };
        if (this.lastId !== undefined) e.id = this.lastId;
        out.push(e);
      }
      this.data = [];
      this.eventName = '';
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ':' comment
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.eventName = value;
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
    // `retry` and unknown fields are ignored: reconnecting is the host's runner's business, not the stream's.
  }
}

/**
 * How long a server asked the client to wait, in milliseconds, from its `retry-after-ms` header
 * (milliseconds, as OpenAI sends) or `retry-after` header (seconds, or an HTTP date compared with
 * `nowMs`). Undefined when neither header is there or readable. Header names match in any case.
 *
 * @example
 * ```ts
 * if (res.status === 429) throw new ProviderError('rate_limit', 'slow down', { status: 429, retryAfterMs: parseRetryAfter(res.headers, ctx.clock.now()) });
 * ```
 */
export function parseRetryAfter(headers: Record<string, string>, nowMs: number): number | undefined {
  const get = (name: string): string | undefined => {
    for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v.trim();
    return undefined;
  };
  const ms = get('retry-after-ms');
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms)) return Math.round(Number(ms));
  const after = get('retry-after');
  if (after === undefined || after === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(after)) return Math.round(Number(after) * 1000);
  // An HTTP date names its weekday and month; anything else (a negative number, say) is unreadable.
  const at = /[a-z]{3}/i.test(after) ? Date.parse(after) : Number.NaN;
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
