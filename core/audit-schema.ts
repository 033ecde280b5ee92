/**
 * The audit event as a zod schema, the source of manifests/audit-event.v1.schema.json. Consumers of
 * `caduceus audit tail --json` and of `caduceus audit export --jsonl` lines can validate rows against it.
 */
import { z } from 'zod';
import { AUDIT_OUTCOMES } from './audit.js';

export const auditEventSchema = z.object({
  seq: z.int().optional(),
  ts: z.int(),
  kind: z.string(),
  plugin: z.string().optional(),
  tool: z.string().optional(),
  caller: z.string().optional(),
  outcome: z.enum(AUDIT_OUTCOMES),
  code: z.string().optional(),
  durationUs: z.int().optional(),
  argsDigest: z.string().optional(),
  resultDigest: z.string().optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
  /** `caduceus audit export` only: the row's place in the hash chain (core/audit-hash.ts). */
  prevHash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  hash: z.string().regex(/^[0-9a-f]{64}$/).optional(),
});
