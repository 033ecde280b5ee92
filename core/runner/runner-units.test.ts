/** The provider-boundary helpers on their own: argument repair, schema sanitising, retry delays. */
import { describe, expect, it } from 'vitest';
import { repairArguments } from './repair.js';
import { sanitizeSchema } from './schema.js';
import { retryDelay, DEFAULT_RETRY } from './retry.js';
import { CaduceusError } from '../errors.js';

describe('repairArguments', () => {
  const cases: [string, string, unknown, string[]][] = [
    ['valid JSON is left alone', '{"a":1}', { a: 1 }, []],
    ['empty means no arguments', '  ', {}, ['empty']],
    ['a code fence is unwrapped', '```json\n{"path":"x"}\n```', { path: 'x' }, ['code-fence']],
    ['chatter after the object is dropped', '{"a":1} I hope this helps!', { a: 1 }, ['trailing-text']],
    ['chatter before the object is dropped', 'Sure: {"a":1}', { a: 1 }, ['trailing-text']],
    ['a trailing comma is removed', '{"a":1,"b":[1,2,],}', { a: 1, b: [1, 2] }, ['trailing-comma']],
    ['a truncated string and object are closed', '{"path":"src/ma', { path: 'src/ma' }, ['truncated']],
    ['a truncated nested value is closed', '{"a":{"b":[1,2', { a: { b: [1, 2] } }, ['truncated']],
    ['a dangling key is dropped', '{"a":1,"b"', { a: 1 }, ['truncated']],
    ['single quotes are fixed', "{'a': 'x'}", { a: 'x' }, ['single-quotes']],
    ['braces inside strings do not confuse the scan', '{"s":"}{"} tail', { s: '}{' }, ['trailing-text']],
  ];
  for (const [name, input, value, repairs] of cases) {
    it(name, () => {
      const r = repairArguments(input);
      expect(r).toEqual({ ok: true, value, repairs });
    });
  }
  it('refuses what is not an object', () => {
    expect(repairArguments('[1,2]').ok).toBe(false);
    expect(repairArguments('just words').ok).toBe(false);
    expect(repairArguments('{"a":1]').ok).toBe(false);
  });
});

describe('sanitizeSchema', () => {
  it('drops bookkeeping keywords everywhere and declared unsupported ones, but never property names', () => {
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object',
      properties: { format: { type: 'string', format: 'date' }, list: { type: 'array', items: { type: 'string', format: 'uri', $comment: 'x' } } },
      anyOf: [{ required: ['format'] }],
    };
    expect(sanitizeSchema(schema, ['format'])).toEqual({
      type: 'object',
      properties: { format: { type: 'string' }, list: { type: 'array', items: { type: 'string' } } },
      anyOf: [{ required: ['format'] }],
    });
  });
  it('gives an object schema a properties map', () => {
    expect(sanitizeSchema({ type: 'object' })).toEqual({ type: 'object', properties: {} });
  });
});

describe('retryDelay', () => {
  const err = (code: 'CAD_ERR_PROVIDER_SERVER' | 'CAD_ERR_PROVIDER_AUTH' | 'CAD_ERR_PROVIDER_RATE_LIMIT', retryAfterMs?: number) =>
    new CaduceusError(code, 'x', { details: retryAfterMs === undefined ? {} : { retryAfterMs } });
  it('backs off exponentially with jitter between half and all of the step', () => {
    expect(retryDelay(err('CAD_ERR_PROVIDER_SERVER'), 1, DEFAULT_RETRY, () => 0)).toBe(500);
    expect(retryDelay(err('CAD_ERR_PROVIDER_SERVER'), 1, DEFAULT_RETRY, () => 1)).toBe(1000);
    expect(retryDelay(err('CAD_ERR_PROVIDER_SERVER'), 3, DEFAULT_RETRY, () => 1)).toBe(4000);
  });
  it('stops after the configured retries', () => {
    expect(retryDelay(err('CAD_ERR_PROVIDER_SERVER'), 4, DEFAULT_RETRY)).toBeUndefined();
  });
  it('caps the backoff', () => {
    expect(retryDelay(err('CAD_ERR_PROVIDER_SERVER'), 3, { ...DEFAULT_RETRY, retries: 10, maxDelayMs: 1500 }, () => 1)).toBe(1500);
  });
  it('honours Retry-After when it asks for longer, and gives up when it asks for too long', () => {
    expect(retryDelay(err('CAD_ERR_PROVIDER_RATE_LIMIT', 7000), 1, DEFAULT_RETRY, () => 0)).toBe(7000);
    expect(retryDelay(err('CAD_ERR_PROVIDER_RATE_LIMIT', 120_000), 1, DEFAULT_RETRY)).toBeUndefined();
  });
  it('never retries auth errors or uncoded errors', () => {
    expect(retryDelay(err('CAD_ERR_PROVIDER_AUTH'), 1, DEFAULT_RETRY)).toBeUndefined();
    expect(retryDelay(new Error('x'), 1, DEFAULT_RETRY)).toBeUndefined();
  });
});
