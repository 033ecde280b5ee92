/**
 * Replaceable effects for plugin tests (`caduceus/sdk/testing`). A fake stands in for what a syscall
 * does (the network, the environment, another plugin's tool), never for the permission check before it:
 * a test kernel with fakes refuses an ungranted fetch exactly as a production kernel does, so tests can
 * assert denials as well as results. Fakes are a host-side kernel option; no plugin can set them.
 */
import { CaduceusError } from '../errors.js';
import type { FetchInit, FetchResponse } from '../../sdk/types.js';
import { checkUrlGrant } from './net.js';

/** What a fake fetch may answer: a full response, a body string, or any JSON value (sent as JSON). */
export type FakeFetchReply = Partial<FetchResponse> & { json?: unknown } | string;

export interface SyscallFakes {
  /** Answers every granted `ctx.fetch`; the URL has passed the grant and metadata checks already. */
  fetch?: (url: string, init: FetchInit) => FakeFetchReply | Promise<FakeFetchReply>;
  /** The environment `ctx.env.get` reads from (instead of process.env). */
  env?: Record<string, string | undefined>;
  /** The secrets `ctx.secrets.get` reads (instead of the operator's secret store). */
  secrets?: Record<string, string | undefined>;
  /** Stand-ins for other plugins' tools reached with `ctx.tools.call`, by tool name. */
  tools?: Record<string, (args: unknown) => unknown>;
}

export async function fakeFetch(plugin: string, hostGrants: readonly string[], rawUrl: string, init: FetchInit, fake: NonNullable<SyscallFakes['fetch']>, blockedDomains: readonly string[] = []): Promise<FetchResponse> {
  const { url } = checkUrlGrant(plugin, hostGrants, rawUrl, blockedDomains);
  let reply: FakeFetchReply;
  try {
    reply = await fake(url.href, init);
  } catch (err) {
    throw new CaduceusError('CAD_ERR_NET_FAILED', `Plugin '${plugin}' fetched ${JSON.stringify(url.href)}: ${(err as Error).message}`, { plugin });
  }
  if (typeof reply === 'string') return { status: 200, statusText: 'OK', headers: { 'content-type': 'text/plain' }, body: reply, url: url.href, redirected: false };
  const headers = { ...(reply.headers ?? {}) };
  let body = reply.body ?? '';
  if (reply.json !== undefined) {
    body = JSON.stringify(reply.json);
    headers['content-type'] ??= 'application/json';
  }
  const status = reply.status ?? 200;
  return { status, statusText: reply.statusText ?? (status < 400 ? 'OK' : 'Error'), headers, body, url: reply.url ?? url.href, redirected: reply.redirected ?? false };
}
