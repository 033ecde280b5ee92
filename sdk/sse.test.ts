/**
 * The SDK's server-sent events decoder and Retry-After parser: the decoder must give the same events
 * whatever way the body is cut into pieces (every cut point is tried, including between a CR and its
 * LF), and follow the WHATWG field rules provider servers rely on.
 */
import { describe, expect, it } from 'vitest';
import { SseDecoder, parseRetryAfter, type SseEvent } from './sse.js';

function decodeIn(pieces: string[]): SseEvent[] {
  const d = new SseDecoder();
  const out: SseEvent[] = [];
  for (const p of pieces) out.push(...d.push(p));
  out.push(...d.end());
  return out;
}

const BODY = '\uFEFF: keep-alive comment\r\nevent: message_start\r\ndata: {"a":1}\r\n\r\n'
  + 'data: line one\ndata: line two\n\n'
  + 'id: 7\rdata:no-space\r\r'
  + 'event: only-event\n\n'
  + 'data\n\n'
  + 'data: {"é":"ü✓"}\n\n'
  + 'data: [DONE]';

const EXPECTED: SseEvent[] = [
  { event: 'message_start', data: '{"a":1}' },
  { event: 'message', data: 'line one\nline two' },
  { event: 'message', data: 'no-space', id: '7' },
  { event: 'message', data: '', id: '7' },
  { event: 'message', data: '{"é":"ü✓"}', id: '7' },
  { event: 'message', data: '[DONE]', id: '7' },
];

describe('SseDecoder', () => {
  it('decodes a body fed whole', () => {
    expect(decodeIn([BODY])).toEqual(EXPECTED);
  });

  it('gives the same events for every single cut point', () => {
    for (let i = 0; i <= BODY.length; i++) {
      expect(decodeIn([BODY.slice(0, i), BODY.slice(i)]), `cut at ${i}`).toEqual(EXPECTED);
    }
  });

  it('gives the same events fed one character at a time', () => {
    expect(decodeIn([...BODY])).toEqual(EXPECTED);
  });

  it('does not turn a CRLF split across pieces into an extra blank line', () => {
    const d = new SseDecoder();
    expect(d.push('data: a\r')).toEqual([]);
    expect(d.push('\ndata: b\r\n\r')).toEqual([{ event: 'message', data: 'a\nb' }]);
    expect(d.push('\n')).toEqual([]);
  });

  it('dispatches nothing for an event without data, and drops a half line only at end()', () => {
    const d = new SseDecoder();
    expect(d.push('event: ping\n\n')).toEqual([]);
    expect(d.push('data: {"partial"')).toEqual([]);
    expect(d.end()).toEqual([{ event: 'message', data: '{"partial"' }]);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it('reads seconds, fractional seconds and milliseconds', () => {
    expect(parseRetryAfter({ 'retry-after': '2' }, now)).toBe(2000);
    expect(parseRetryAfter({ 'Retry-After': '0.5' }, now)).toBe(500);
    expect(parseRetryAfter({ 'retry-after-ms': '1234', 'retry-after': '9' }, now)).toBe(1234);
  });
  it('reads an HTTP date relative to now, never negative', () => {
    expect(parseRetryAfter({ 'retry-after': 'Wed, 01 Jan 2025 00:00:07 GMT' }, now)).toBe(7000);
    expect(parseRetryAfter({ 'retry-after': 'Tue, 31 Dec 2024 23:59:00 GMT' }, now)).toBe(0);
  });
  it('is undefined when absent or unreadable', () => {
    expect(parseRetryAfter({}, now)).toBeUndefined();
    expect(parseRetryAfter({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(parseRetryAfter({ 'retry-after': '-3' }, now)).toBeUndefined();
  });
});
