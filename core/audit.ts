/**
 * The audit event: one row for every install, load, unload, grant, call, denial, timeout and crash.
 * Rows carry digests of arguments and results, never the raw values, so a secret passed to a tool does
 * not end up in the log. Events go through the host-only `audit` SyncHook; the store is one tap on it.
 */

export const AUDIT_OUTCOMES = ['ok', 'denied', 'error', 'timeout', 'crash'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export interface AuditEvent {
  ts: number;
  /** e.g. plugin.install, plugin.load, tool.call, syscall.denied */
  kind: string;
  plugin?: string | undefined;
  tool?: string | undefined;
  /** trust class of whoever asked: operator, model, plugin:<id>, … */
  caller?: string | undefined;
  outcome: AuditOutcome;
  code?: string | undefined;
  durationUs?: number | undefined;
  argsDigest?: string | undefined;
  resultDigest?: string | undefined;
  detail?: Record<string, unknown> | undefined;
}

export interface AuditRow extends AuditEvent {
  seq: number;
}

/** A row with its place in the hash chain (core/audit-hash.ts), as `caduceus audit export` writes it. */
export interface AuditChainRow extends AuditRow {
  prevHash: string;
  hash: string;
}

/** sha256 of a JSON text, short enough to read, long enough to compare. */
type OneShotHash = (algorithm: string, data: string, encoding: 'hex') => string;
let hash: OneShotHash | undefined;

export function digest(text: string): string {
  // Loaded on first use: listings never hash, and every builtin costs start-up time without a snapshot.
  // crypto.hash is the one-shot form, about three times cheaper than createHash for short inputs.
  hash ??= (process.getBuiltinModule('node:crypto') as unknown as { hash: OneShotHash }).hash;
  return `sha256:${hash('sha256', text, 'hex').slice(0, 32)}`;
}
