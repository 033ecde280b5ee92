/**
 * The operator's security policy from `$CADUCEUS_HOME/config.json` (`security.*`), validated in one place
 * so the net.fetch syscall, the exec syscall and `caduceus guards check` read the same thing: the domain
 * blocklist (`security.blockedDomains`) and the shell command globs (`security.commands.allow|deny`).
 * A malformed field fails closed with CAD_ERR_CONFIG_INVALID naming the field and its value. Also holds
 * the two decisions built on that policy: whether a host is blocked, and what happens to a command.
 */
import { isIP } from 'node:net';
import { CaduceusError } from '../errors.js';
import type { CaduceusConfig } from '../kernel.js';
import { COMMAND_RULES, commandGlobMatch, type CommandCheck } from './command.js';

export interface CommandPolicy {
  allow: string[];
  deny: string[];
}

const CONFIG = '$CADUCEUS_HOME/config.json';

function invalid(field: string, value: unknown, fix: string): CaduceusError {
  return new CaduceusError('CAD_ERR_CONFIG_INVALID', `Config field ${field} is ${JSON.stringify(value)}: ${fix} Fix it in ${CONFIG}.`, { details: { field } });
}

function security(config: CaduceusConfig): Record<string, unknown> {
  const s = (config as { security?: unknown }).security;
  if (s === undefined) return {};
  if (typeof s !== 'object' || s === null || Array.isArray(s)) throw invalid('security', s, 'it must be an object.');
  return s as Record<string, unknown>;
}

function stringList(field: string, value: unknown, example: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid(field, value, `it must be a list of strings, e.g. ${example}.`);
  value.forEach((v, i) => {
    if (typeof v !== 'string' || v.trim() === '') throw invalid(`${field}[${i}]`, v, `each entry must be a non-empty string, e.g. ${example}.`);
  });
  return value as string[];
}

/** `security.commands`: globs matched against normalised commands (see `commandGlobMatch`). */
export function commandPolicy(config: CaduceusConfig): CommandPolicy {
  const commands = security(config).commands;
  if (commands === undefined) return { allow: [], deny: [] };
  if (typeof commands !== 'object' || commands === null || Array.isArray(commands)) {
    throw invalid('security.commands', commands, 'it must be an object like { "allow": ["git status*"], "deny": ["git push *"] }.');
  }
  const c = commands as { allow?: unknown; deny?: unknown };
  return {
    allow: stringList('security.commands.allow', c.allow, '["git status*"]'),
    deny: stringList('security.commands.deny', c.deny, '["git push *"]'),
  };
}

/**
 * `security.blockedDomains`, each entry normalised the way URL hosts are (lowercase, punycode, no trailing
 * dot, IP literals in canonical form), so the comparison with a fetched URL's host is exact.
 */
export function blockedDomains(config: CaduceusConfig): string[] {
  const list = stringList('security.blockedDomains', security(config).blockedDomains, '["tracker.example.com", "*.ads.example"]');
  return list.map((entry, i) => {
    const normal = normaliseDomainEntry(entry);
    if (normal === undefined) {
      throw invalid(`security.blockedDomains[${i}]`, entry, 'each entry must be a host name, an IP address or "*." followed by a domain, with no scheme, port or path (e.g. "tracker.example.com" or "*.ads.example").');
    }
    return normal;
  });
}

const HOST_NAME = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$/;

/** The canonical form of one blocklist entry, or undefined when it is not a host or `*.suffix`. */
export function normaliseDomainEntry(entry: string): string | undefined {
  let text = entry.trim().toLowerCase();
  const wildcard = text.startsWith('*.');
  if (wildcard) text = text.slice(2);
  const bare = text.replace(/^\[|\]$/g, '');
  if (isIP(bare) === 6) {
    if (wildcard) return undefined;
    try {
      return hostOf(new URL(`http://[${bare}]/`).hostname);
    } catch {
      return undefined;
    }
  }
  if (text === '' || /[/?#@:\\\s*[\]]/.test(text)) return undefined;
  let host: string;
  try {
    host = hostOf(new URL(`http://${text}/`).hostname);
  } catch {
    return undefined;
  }
  if (!HOST_NAME.test(host) || (wildcard && isIP(host) !== 0)) return undefined;
  return wildcard ? `*.${host}` : host;
}

/** A URL host as blocklist entries are compared with it: no IPv6 brackets, lowercase, no trailing dot. */
export function hostOf(hostname: string): string {
  return hostname.replace(/^\[|\]$/g, '').toLowerCase().replace(/\.+$/, '');
}

/**
 * The blocklist entry that covers `hostname`, if any. `example.com` blocks only that host;
 * `*.example.com` blocks example.com itself and every name under it.
 */
export function matchBlockedDomain(hostname: string, blocked: readonly string[]): string | undefined {
  const host = hostOf(hostname);
  return blocked.find((entry) => {
    if (!entry.startsWith('*.')) return host === entry;
    const suffix = entry.slice(2);
    return host === suffix || host.endsWith(`.${suffix}`);
  });
}

/**
 * What happens to a shell command under the operator's policy, in the exec syscall's order: hardline
 * never runs; a deny glob refuses; an allow glob runs a dangerous command without asking; otherwise
 * dangerous asks a person and safe runs. Globs are matched against the whole normalised line and against
 * each command in it; an allow glob must cover every command on the line, so `git *` does not also allow
 * the `curl … | sh` after a `;`. In `allowlist` approval mode, a command no allow glob covers is refused.
 */
export type CommandDecision =
  | { verdict: 'hardline'; rule: string; reason: string }
  | { verdict: 'denied'; rule: 'config.deny' | 'config.allowlist'; reason: string; glob?: string }
  | { verdict: 'allowed'; rule: 'config.allow'; reason: string; globs: string[] }
  | { verdict: 'dangerous'; rule: string; reason: string }
  | { verdict: 'safe'; rule?: undefined; reason: string };

export function decideCommand(check: CommandCheck, policy: CommandPolicy, mode: string = 'ask'): CommandDecision {
  if (check.verdict === 'hardline') {
    return { verdict: 'hardline', rule: check.rule ?? 'hardline', reason: `${check.reason}; hardline commands never run, whatever the config or approval mode` };
  }
  const texts = [check.normalized, ...check.segments, ...check.matches.map((m) => m.segment)];
  for (const glob of policy.deny) {
    if (texts.some((t) => commandGlobMatch(glob, t))) return { verdict: 'denied', rule: 'config.deny', glob, reason: `denied by config glob ${JSON.stringify(glob)} in security.commands.deny` };
  }
  const commands = check.segments.length ? check.segments : [check.normalized];
  const covering = commands.map((s) => policy.allow.find((g) => commandGlobMatch(g, s)));
  if (policy.allow.length && covering.every((g) => g !== undefined)) {
    const globs = [...new Set(covering as string[])];
    return {
      verdict: 'allowed', rule: 'config.allow', globs,
      reason: `allowed without asking by config glob${globs.length > 1 ? 's' : ''} ${globs.map((g) => JSON.stringify(g)).join(', ')} in security.commands.allow${check.verdict === 'dangerous' ? ` (otherwise dangerous: ${check.reason})` : ''}`,
    };
  }
  if (mode === 'allowlist') {
    return { verdict: 'denied', rule: 'config.allowlist', reason: 'security.approvals.mode is "allowlist" and no glob in security.commands.allow covers every command on the line' };
  }
  if (check.verdict === 'dangerous') {
    // Name what is left to approve: the first match no allow glob covers (all of them when none is set).
    const open = check.matches.find((m) => !policy.allow.some((g) => commandGlobMatch(g, m.segment)));
    const other = open && open.rule !== check.rule ? open : undefined;
    const why = other ? COMMAND_RULES.find((r) => r.id === other.rule)?.description ?? `\`${other.segment}\` is dangerous` : check.reason;
    return {
      verdict: 'dangerous', rule: other?.rule ?? check.rule ?? 'dangerous',
      reason: `${why}; needs a person's approval${mode === 'deny' ? ' (security.approvals.mode is "deny", so it would be refused)' : ''}`,
    };
  }
  return { verdict: 'safe', reason: check.reason };
}
