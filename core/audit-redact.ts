/**
 * Redaction of audit events at write time. Arguments and results already reach the log only as digests,
 * but `detail` is free-form: a value under a key that looks secret (token, secret, password, api key,
 * authorization, cookie), at any depth, is replaced by "[redacted]", and so are the password and the
 * values of such query parameters in a URL string (a fetch URL carrying `?api_key=…`). This runs before
 * the event is journaled or hashed, so the secret is on disk nowhere and the chain covers the redacted row.
 */
import type { AuditEvent } from './audit.js';

export const REDACTED = '[redacted]';
export const SECRET_KEY = /token|secret|password|api[-_]?key|authorization|cookie/i;

const MAX_DEPTH = 8;

/** The event with secret-looking detail values redacted; the same object when there is nothing to hide. */
export function redactEvent(e: AuditEvent): AuditEvent {
  if (e.detail === undefined) return e;
  const detail = redact(e.detail, 0) as Record<string, unknown>;
  return detail === e.detail ? e : { ...e, detail };
}

/** Returns `value` itself when nothing in it changes, so the common case allocates nothing. */
function redact(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactUrl(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((v, i) => {
      const r = redact(v, depth + 1);
      if (r !== v) (out ??= [...value])[i] = r;
    });
    return out ?? value;
  }
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value)) {
    const r = SECRET_KEY.test(k) ? (v === null || v === undefined ? v : REDACTED) : redact(v, depth + 1);
    if (r !== v) (out ??= { ...value as Record<string, unknown> })[k] = r;
  }
  return out ?? value;
}

function redactUrl(s: string): string {
  // Cheap tests first: almost every detail string is not a URL with a query or a password.
  if ((!s.includes('?') && !s.includes('@')) || !/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) return s;
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return s;
  }
  let changed = false;
  if (url.password) {
    url.password = REDACTED;
    changed = true;
  }
  for (const key of [...url.searchParams.keys()]) {
    if (SECRET_KEY.test(key)) {
      url.searchParams.set(key, REDACTED);
      changed = true;
    }
  }
  return changed ? url.toString() : s;
}
