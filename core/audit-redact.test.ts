/** Redaction of secret-looking audit detail values before an event is journaled and hashed. */
import { describe, expect, it } from 'vitest';
import { REDACTED, redactEvent } from './audit-redact.js';
import type { AuditEvent } from './audit.js';

const base: AuditEvent = { ts: 1, kind: 'tool.call', outcome: 'ok', argsDigest: 'sha256:abc' };

describe('redactEvent', () => {
  it('redacts values under secret-looking keys at any depth, keeping digests and other fields', () => {
    const e = redactEvent({
      ...base,
      detail: {
        token: 't0k', apiKey: 'k', 'api-key': 'k', API_KEY: 'k', password: 'p', Authorization: 'Bearer x', cookie: 'c',
        clientSecret: 's', plain: 'visible', nested: { headers: { 'x-auth-token': 'n' }, list: [{ refresh_token: 'r', n: 1 }] },
      },
    });
    expect(e.argsDigest).toBe('sha256:abc');
    expect(e.detail).toEqual({
      token: REDACTED, apiKey: REDACTED, 'api-key': REDACTED, API_KEY: REDACTED, password: REDACTED, Authorization: REDACTED,
      cookie: REDACTED, clientSecret: REDACTED, plain: 'visible', nested: { headers: { 'x-auth-token': REDACTED }, list: [{ refresh_token: REDACTED, n: 1 }] },
    });
  });

  it('redacts secret query parameters and passwords in URL strings', () => {
    const e = redactEvent({ ...base, detail: { url: 'https://user:hunter2@api.example.com/v1?q=cats&api_key=SECRET&access_token=T' } });
    const url = new URL(e.detail!.url as string);
    expect(url.password).not.toContain('hunter2');
    expect(url.searchParams.get('q')).toBe('cats');
    expect(url.searchParams.get('api_key')).toBe(REDACTED);
    expect(url.searchParams.get('access_token')).toBe(REDACTED);
    expect(JSON.stringify(e)).not.toMatch(/SECRET|hunter2|"T"/);
  });

  it('returns the same event when there is nothing to redact, and never mutates the caller\'s object', () => {
    const clean = { ...base, detail: { reason: 'kernel closed', url: 'https://example.com/?q=1' } };
    expect(redactEvent(clean)).toBe(clean);
    expect(redactEvent(base)).toBe(base);
    const detail = { token: 'x' };
    redactEvent({ ...base, detail });
    expect(detail.token).toBe('x');
  });
});
