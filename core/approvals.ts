/**
 * Approvals: the one place a guard's "ask" (a tool call a guard wants confirmed, a dangerous command)
 * is decided. The mode comes from `security.approvals.mode` in config.json:
 *   - `ask`: the question goes through the host-only `approval` hook, so whoever can ask answers it (the
 *     CLI prompt today; the chat REPL and the HTTP API tap the same hook). Answers: once, session (this
 *     kernel's lifetime), always (kept in the store), deny. With nobody tapped, the answer is deny.
 *   - `deny` (what a kernel with nobody to ask behaves as anyway): every ask is refused.
 *   - `allowlist`: nothing is asked; only what matched an allow glob earlier runs.
 * Remembered answers are checked first. Every decision is audited, including remembered ones.
 */
import { CaduceusError } from './errors.js';
import type { Kernel } from './kernel.js';
import { commandPolicy } from './safety/policy.js';

export type ApprovalMode = 'ask' | 'deny' | 'allowlist';
export const APPROVAL_MODES: readonly ApprovalMode[] = ['ask', 'deny', 'allowlist'];
export type ApprovalAnswer = 'once' | 'session' | 'always' | 'deny';

export interface ApprovalRequest {
  /** What needs approval: a tool call a guard asked about, or a command for the exec syscall. */
  kind: 'tool' | 'command';
  /** The tool name, or the normalised command; remembered answers are keyed on kind + subject. */
  subject: string;
  /** One sentence for the operator. */
  question: string;
  caller: string;
  plugin?: string | undefined;
  tool?: string | undefined;
  /** The rule that asked (a guard's plugin id, or a command-safety rule id). */
  rule?: string | undefined;
}

const META_PREFIX = 'approval.always:';

export function approvalMode(k: Kernel): ApprovalMode {
  const raw = (k.settings() as { security?: { approvals?: { mode?: unknown } } }).security?.approvals?.mode;
  if (raw === undefined) return 'ask';
  if (typeof raw === 'string' && (APPROVAL_MODES as readonly string[]).includes(raw)) return raw as ApprovalMode;
  throw new CaduceusError('CAD_ERR_CONFIG_INVALID',
    `Config field security.approvals.mode is ${JSON.stringify(raw)}; use one of ${APPROVAL_MODES.map((m) => `"${m}"`).join(', ')} in $CADUCEUS_HOME/config.json.`);
}

/** The command globs and mode the exec syscall applies (security.commands and security.approvals). */
export function execPolicyOf(k: Kernel): { allow: string[]; deny: string[]; mode: ApprovalMode } {
  return { ...commandPolicy(k.settings()), mode: approvalMode(k) };
}

/** Decides one request; resolves true when it may go ahead. Never throws for a refusal. */
export async function decide(k: Kernel, req: ApprovalRequest, session: Set<string>): Promise<boolean> {
  const key = `${req.kind}:${req.subject}`;
  const mode = approvalMode(k);
  const record = (answer: ApprovalAnswer | 'remembered' | 'no-one-to-ask', ok: boolean) => {
    k.audit({
      ts: Date.now(), kind: 'approval', plugin: req.plugin, tool: req.tool, caller: req.caller, outcome: ok ? 'ok' : 'denied',
      detail: { request: req.kind, subject: req.subject.slice(0, 300), rule: req.rule, mode, answer },
    });
    return ok;
  };
  if (mode === 'ask' && (session.has(key) || k.store.getMeta(META_PREFIX + key) !== undefined)) return record('remembered', true);
  if (mode !== 'ask') return record('deny', false);
  if (!k.hooks.approval.isUsed()) return record('no-one-to-ask', false);
  let answer: ApprovalAnswer | undefined;
  try {
    answer = await k.hooks.approval.promise(req);
  } catch {
    answer = 'deny';
  }
  switch (answer) {
    case 'once':
      return record(answer, true);
    case 'session':
      session.add(key);
      return record(answer, true);
    case 'always':
      k.store.setMeta(META_PREFIX + key, String(Date.now()));
      return record(answer, true);
    default:
      return record('deny', false);
  }
}

/** Answers kept with "always", for listing and revoking. */
export function rememberedApprovals(k: Kernel): { kind: string; subject: string; since: number }[] {
  const rows = k.store.db.prepare('SELECT key, value FROM meta WHERE key LIKE ?').all(`${META_PREFIX}%`) as { key: string; value: string }[];
  return rows.map((r) => {
    const rest = r.key.slice(META_PREFIX.length);
    const colon = rest.indexOf(':');
    return { kind: rest.slice(0, colon), subject: rest.slice(colon + 1), since: Number(r.value) };
  });
}

export function forgetApproval(k: Kernel, kind: string, subject: string): boolean {
  return k.store.db.prepare('DELETE FROM meta WHERE key = ?').run(`${META_PREFIX}${kind}:${subject}`).changes > 0;
}
