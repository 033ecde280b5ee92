/**
 * The audit hash chain's arithmetic: which of a row's fields are hashed, in what order, and how. Each row
 * stores `hash = sha256(prev_hash || canonical JSON of its fields)` (full hex), where prev_hash is the hash
 * of the row before it, or GENESIS for the first row. The canonical JSON is a JSON array of the row's
 * columns in table order, seq first, absent values as null and `detail` as the JSON text stored in the
 * row, so anyone holding an export can recompute every hash (docs/security.md, "Tamper-evident audit").
 */
import type { AuditEvent } from './audit.js';

/** prev_hash of the first row. */
export const GENESIS = '0'.repeat(64);

/** The hashed columns, in the order they appear in the canonical array (and in the audit table). */
export const CHAINED_COLUMNS = 'seq, ts, kind, plugin, tool, caller, outcome, code, duration_us, args_digest, result_digest, detail';

/** One row's hashed fields, in CHAINED_COLUMNS order: [seq, ts, kind, …, detail]. */
export type ChainedFields = [
  seq: number, ts: number, kind: string, plugin: string | null, tool: string | null, caller: string | null,
  outcome: string, code: string | null, durationUs: number | null, argsDigest: string | null,
  resultDigest: string | null, detail: string | null,
];

/** The fields an event will be stored with at `seq`. */
export function fieldsOf(seq: number, e: AuditEvent): ChainedFields {
  return [
    seq, e.ts, e.kind, e.plugin ?? null, e.tool ?? null, e.caller ?? null, e.outcome, e.code ?? null,
    e.durationUs ?? null, e.argsDigest ?? null, e.resultDigest ?? null,
    e.detail === undefined ? null : JSON.stringify(e.detail),
  ];
}

type OneShotHash = (algorithm: string, data: string, encoding: 'hex') => string;
let sha256: OneShotHash | undefined;

/** The hash of a row with these fields whose predecessor's hash is `prevHash`. */
export function chainHash(prevHash: string, fields: readonly unknown[]): string {
  // Loaded on first use, as in audit.ts; crypto.hash is the cheap one-shot form.
  sha256 ??= (process.getBuiltinModule('node:crypto') as unknown as { hash: OneShotHash }).hash;
  return sha256('sha256', prevHash + JSON.stringify(fields), 'hex');
}
