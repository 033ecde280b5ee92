/**
 * `net.fetch` for plugins: http/https only, the host must be granted and not on the operator's blocklist
 * (the checks themselves live in url-policy.ts, shared with `caduceus guards check url`), every resolved address is checked
 * against the address policy, and the connection goes to the address that was checked (the custom
 * lookup hands the socket exactly that address, so there is no second DNS answer to race). Redirects are
 * followed by hand and each hop is checked again. Bodies are capped.
 */
import http from 'node:http';
import https from 'node:https';
import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { CaduceusError } from '../errors.js';
import { addressRefusal, hostRefusal, schemeRefusal } from './url-policy.js';
import type { FetchInit, FetchResponse as FetchResult } from '../../sdk/types.js';

export type { FetchInit, FetchResponse as FetchResult } from '../../sdk/types.js';

export const MAX_REDIRECTS = 5;
const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
/** Ceilings a plugin cannot raise: its init may only ask for less. */
export const MAX_BODY_BYTES = 50 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;
export const MAX_TIMEOUT_MS = 120_000;
/** Credentials meant for one host are not forwarded to another on a redirect. */
export const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization', 'x-api-key', 'api-key', 'x-goog-api-key']);

/** Does a net:<host> grant cover this URL host (and port)? Returns 'exact' when named literally. */
export function matchNetGrant(hostGrants: readonly string[], host: string, port: string): 'exact' | 'wildcard' | undefined {
  let best: 'exact' | 'wildcard' | undefined;
  for (const g of hostGrants) {
    const [gHost, gPort] = splitHostPort(g);
    if (gPort && gPort !== port) continue;
    if (gHost === host) return 'exact';
    if (gHost === '*') best = 'wildcard';
    if (gHost.startsWith('*.') && host.endsWith(gHost.slice(1))) best = 'wildcard';
  }
  return best;
}

function splitHostPort(grant: string): [string, string | undefined] {
  if (grant.startsWith('[')) {
    const end = grant.indexOf(']');
    const rest = grant.slice(end + 1);
    return [grant.slice(1, end), rest.startsWith(':') ? rest.slice(1) : undefined];
  }
  const i = grant.lastIndexOf(':');
  return i < 0 ? [grant, undefined] : [grant.slice(0, i), grant.slice(i + 1)];
}

/** `blockedDomains`: the operator's security.blockedDomains (normalised, see core/safety/policy.ts), checked on every hop. */
export async function guardedFetch(plugin: string, hostGrants: readonly string[], rawUrl: string, init: FetchInit, blockedDomains: readonly string[] = []): Promise<FetchResult> {
  let url = parseUrl(plugin, rawUrl);
  let redirected = false;
  let method = (init.method ?? 'GET').toUpperCase();
  let body = init.body;
  let headers = { ...(init.headers ?? {}) };
  const limits = {
    maxBytes: clamp(init.maxBytes, DEFAULT_MAX_BYTES, MAX_BODY_BYTES),
    timeoutMs: clamp(init.timeoutMs, DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS),
  };
  for (let hop = 0; ; hop++) {
    const address = await checkUrl(plugin, hostGrants, url, blockedDomains);
    const res = await request(url, address, { method, body, headers, ...limits });
    if ([301, 302, 303, 307, 308].includes(res.status) && res.location) {
      if (hop >= MAX_REDIRECTS) throw blocked(plugin, url.href, `more than ${MAX_REDIRECTS} redirects`);
      const next = parseUrl(plugin, new URL(res.location, url).href);
      if (next.host !== url.host || next.protocol !== url.protocol) headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !CREDENTIAL_HEADERS.has(k.toLowerCase())));
      url = next;
      redirected = true;
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
      }
      continue;
    }
    return { status: res.status, statusText: res.statusText, headers: res.headers, body: res.body, url: url.href, redirected };
  }
}

export function clamp(value: unknown, fallback: number, max: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.min(value, max) : fallback;
}

export function parseUrl(plugin: string, raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CaduceusError('CAD_ERR_SYSCALL_INVALID', `Plugin '${plugin}' passed net.fetch an invalid URL ${JSON.stringify(raw)}.`, { plugin });
  }
  const refusal = schemeRefusal(url);
  if (refusal) throw blocked(plugin, raw, refusal.why);
  return url;
}

/** The net permission that names this URL's host, with the port when the URL spells one out. */
export function netPermissionFor(url: URL): string {
  return `net:${url.hostname.toLowerCase()}${url.port ? `:${url.port}` : ''}`;
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

/**
 * The checks that need no DNS: scheme, metadata names and literals, the operator's blocklist, and the
 * grant. Also used on its own when a test replaces the network (see fakes.ts), so a fake fetch is refused
 * exactly where a real one is.
 */
export function checkUrlGrant(plugin: string, hostGrants: readonly string[], rawUrl: string, blockedDomains: readonly string[] = []): { url: URL; match: 'exact' | 'wildcard' } {
  const url = parseUrl(plugin, rawUrl);
  return { url, match: checkHost(plugin, hostGrants, url, blockedDomains) };
}

function checkHost(plugin: string, hostGrants: readonly string[], url: URL, blockedDomains: readonly string[]): 'exact' | 'wildcard' {
  const host = hostOf(url);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  // Metadata names and literals, then the blocklist (url-policy.ts): no grant lifts these, so they come
  // before the grant check and its "grant net:<host>" advice.
  const refusal = hostRefusal(url, blockedDomains);
  if (refusal) throw blocked(plugin, url.href, refusal.why, refusal.entry);
  const match = matchNetGrant(hostGrants, host, port);
  if (!match) {
    throw new CaduceusError('CAD_ERR_PERMISSION_DENIED',
      `Plugin '${plugin}' fetched ${JSON.stringify(url.href)} but host '${host}' is not granted. Run \`caduceus plugins grant ${plugin} ${netPermissionFor(url)}\` if it should be (the manifest must request it).`,
      { plugin, details: { syscall: 'net.fetch', host } });
  }
  return match;
}

/** Returns the one address the connection will use, after every check passed. */
export async function checkUrl(plugin: string, hostGrants: readonly string[], url: URL, blockedDomains: readonly string[]): Promise<{ address: string; family: number }> {
  const host = hostOf(url);
  const match = checkHost(plugin, hostGrants, url, blockedDomains);
  let addresses: { address: string; family: number }[];
  if (isIP(host)) addresses = [{ address: host, family: isIP(host) }];
  else {
    try {
      addresses = await lookup(host, { all: true, verbatim: true });
    } catch (err) {
      throw new CaduceusError('CAD_ERR_NET_FAILED', `Plugin '${plugin}' fetched ${JSON.stringify(url.href)}: host '${host}' did not resolve (${(err as Error).message}).`, { plugin });
    }
  }
  for (const a of addresses) {
    const refusal = addressRefusal(host, a.address, match === 'exact');
    if (refusal) throw blocked(plugin, url.href, refusal.why);
  }
  return addresses[0]!;
}

export function blocked(plugin: string, url: string, why: string, blockedBy?: string): CaduceusError {
  return new CaduceusError('CAD_ERR_NET_BLOCKED', `Plugin '${plugin}' may not fetch ${JSON.stringify(url)}: ${why}.`,
    { plugin, details: blockedBy === undefined ? { url } : { url, blockedBy } });
}

interface RawResponse {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  body: string;
  location: string | undefined;
}

function request(url: URL, pinned: { address: string; family: number }, init: FetchInit & { method: string }): Promise<RawResponse> {
  const pinnedLookup: LookupFunction = (_host, options, cb) => {
    if ((options as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [pinned]);
    else cb(null, pinned.address, pinned.family);
  };
  const lib = url.protocol === 'https:' ? https : http;
  const maxBytes = init.maxBytes ?? DEFAULT_MAX_BYTES;
  const timeout = init.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, {
      method: init.method,
      headers: init.headers ?? {},
      lookup: pinnedLookup,
      timeout,
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) {
          req.destroy(new Error(`response body exceeds ${maxBytes} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
        resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', headers, body: Buffer.concat(chunks).toString('utf8'), location: res.headers.location });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', (err) => reject(new CaduceusError('CAD_ERR_NET_FAILED', `Request to ${url.href} failed: ${err.message}.`)));
    if (init.body !== undefined) req.write(init.body);
    req.end();
  });
}
