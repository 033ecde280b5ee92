/**
 * The URL checks of net.fetch as plain functions, so the syscall (net.ts, which turns a refusal into
 * CAD_ERR_NET_BLOCKED) and `caduceus guards check url` (which prints it) apply the same rules in the same
 * order: scheme → cloud metadata names and literals → the operator's domain blocklist → (the grant, in
 * net.ts) → every address the host resolves to. Each function returns why a URL is refused, or undefined.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { classifyAddress, describeAddress, METADATA_HOSTS, type AddressVerdict } from './address-policy.js';
import { matchBlockedDomain } from '../safety/policy.js';

export interface UrlRefusal {
  rule: 'scheme' | 'metadata-host' | 'metadata-address' | 'blocked-domain' | 'internal-address';
  why: string;
  /** The security.blockedDomains entry that matched (rule 'blocked-domain'). */
  entry?: string;
}

/** The host as the checks compare it: IPv6 brackets removed, lowercase. */
export function urlHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

export function schemeRefusal(url: URL): UrlRefusal | undefined {
  if (url.protocol === 'http:' || url.protocol === 'https:') return undefined;
  return { rule: 'scheme', why: `scheme "${url.protocol}" is not http or https` };
}

/** The checks on the host name that need neither DNS nor a grant; no grant can lift any of them. */
export function hostRefusal(url: URL, blockedDomains: readonly string[]): UrlRefusal | undefined {
  const host = urlHost(url);
  if (METADATA_HOSTS.has(host)) return { rule: 'metadata-host', why: `"${host}" is a cloud metadata endpoint, never allowed` };
  // A metadata address written as an IP literal (a redirect to http://169.254.169.254/, say) is refused
  // as such before the grant check: no grant could allow it, so "grant net:<ip>" would be a false fix.
  if (isIP(host) && classifyAddress(host) === 'metadata') return { rule: 'metadata-address', why: `${host} is a cloud metadata address, never allowed` };
  const entry = matchBlockedDomain(host, blockedDomains);
  if (entry !== undefined) {
    return {
      rule: 'blocked-domain', entry,
      why: `'${host}' is blocked by the entry "${entry}" in security.blockedDomains ($CADUCEUS_HOME/config.json), whatever the grants; remove that entry if plugins should reach it`,
    };
  }
  return undefined;
}

/** One address the host resolved to; `exact` says whether the grant names the host exactly. */
export function addressRefusal(host: string, address: string, exact: boolean): UrlRefusal | undefined {
  const verdict = classifyAddress(address);
  if (verdict === 'metadata') return { rule: 'metadata-address', why: `'${host}' resolves to ${address}, a cloud metadata address, never allowed` };
  if (verdict === 'internal' && !exact) {
    return { rule: 'internal-address', why: `'${host}' resolves to ${address}, a private/loopback/link-local address; only a grant naming '${host}' exactly allows that` };
  }
  return undefined;
}

export interface UrlInspection {
  /**
   * allowed: a plugin with a net:<host> grant may fetch it; exact-grant-only: refused unless a grant names
   * this host exactly; refused: never, whatever the grants; unresolved: the host did not resolve.
   */
  verdict: 'allowed' | 'exact-grant-only' | 'refused' | 'unresolved';
  rule: string | null;
  reason: string;
  url: string | null;
  host: string | null;
  /** The grant a plugin would need. */
  permission: string | null;
  blockedBy: string | null;
  addresses: { address: string; family: number; verdict: AddressVerdict; range: string }[];
}

type LookupAll = (host: string) => Promise<{ address: string; family: number }[]>;

const lookupAll: LookupAll = (host) => lookup(host, { all: true, verbatim: true });

/** Everything net.fetch would decide about a URL before connecting, resolving the host as it would. */
export async function inspectUrl(raw: string, blockedDomains: readonly string[], resolve: LookupAll = lookupAll): Promise<UrlInspection> {
  const out: UrlInspection = { verdict: 'refused', rule: null, reason: '', url: null, host: null, permission: null, blockedBy: null, addresses: [] };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ...out, rule: 'invalid-url', reason: `${JSON.stringify(raw)} is not a valid URL (net.fetch fails with CAD_ERR_SYSCALL_INVALID)` };
  }
  out.url = url.href;
  const scheme = schemeRefusal(url);
  if (scheme) return { ...out, rule: scheme.rule, reason: scheme.why };
  const host = urlHost(url);
  out.host = host;
  out.permission = `net:${url.hostname.toLowerCase()}${url.port ? `:${url.port}` : ''}`;
  const refusal = hostRefusal(url, blockedDomains);
  if (refusal) {
    if (isIP(host)) out.addresses = [{ address: host, family: isIP(host), ...describeAddress(host) }];
    return { ...out, rule: refusal.rule, reason: refusal.why, blockedBy: refusal.entry ?? null };
  }
  let addresses: { address: string; family: number }[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await resolve(host);
    } catch (err) {
      return { ...out, verdict: 'unresolved', rule: 'dns', reason: `'${host}' did not resolve (${(err as Error).message}); net.fetch would fail with CAD_ERR_NET_FAILED` };
    }
  }
  out.addresses = addresses.map((a) => ({ address: a.address, family: a.family, ...describeAddress(a.address) }));
  const metadata = addresses.map((a) => addressRefusal(host, a.address, true)).find((r) => r !== undefined);
  if (metadata) return { ...out, rule: metadata.rule, reason: metadata.why };
  const internal = out.addresses.find((a) => addressRefusal(host, a.address, false) !== undefined);
  if (internal) {
    return { ...out, verdict: 'exact-grant-only', rule: 'internal-address', reason: `'${host}' resolves to ${internal.address} (${internal.range}): refused unless a grant names this host exactly (${out.permission})` };
  }
  return { ...out, verdict: 'allowed', reason: `every address is public; a plugin granted ${out.permission} (or a *. wildcard covering it) may fetch it` };
}
