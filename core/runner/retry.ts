/**
 * Retries at the provider boundary: rate limits, server errors and broken connections are retried with
 * exponential backoff and jitter (half the delay fixed, half random), a server's Retry-After is honoured
 * when it asks for longer, and both are capped. Authentication, invalid requests, context overflow and
 * cancellation are never retried; neither is anything once the caller has cancelled.
 */
import { CaduceusError } from '../errors.js';

export interface RetryPolicy {
  /** Extra attempts after the first. */
  retries: number;
  baseMs: number;
  maxDelayMs: number;
  /** A Retry-After beyond this is not waited for: the error is reported instead. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 3, baseMs: 1000, maxDelayMs: 30_000, maxRetryAfterMs: 60_000 };

const RETRYABLE = new Set(['CAD_ERR_PROVIDER_RATE_LIMIT', 'CAD_ERR_PROVIDER_SERVER', 'CAD_ERR_PROVIDER_NETWORK']);

/** The delay before attempt `attempt + 1`, or undefined when the error must not be retried. */
export function retryDelay(err: unknown, attempt: number, policy: RetryPolicy, random: () => number = Math.random): number | undefined {
  if (!(err instanceof CaduceusError) || !RETRYABLE.has(err.code) || attempt > policy.retries) return undefined;
  const backoff = Math.min(policy.maxDelayMs, policy.baseMs * 2 ** (attempt - 1));
  const jittered = backoff / 2 + random() * (backoff / 2);
  const after = err.details?.retryAfterMs;
  if (typeof after === 'number') {
    if (after > policy.maxRetryAfterMs) return undefined;
    return Math.max(jittered, after);
  }
  return jittered;
}

/** Sleeps, waking early (with the cancel error) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(cancelled());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function cancelled(): CaduceusError {
  return new CaduceusError('CAD_ERR_PROVIDER_CANCELLED', 'The model call was cancelled.', { details: { kind: 'cancelled' } });
}
