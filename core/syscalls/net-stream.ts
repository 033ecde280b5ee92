/**
 * The streaming side of `net.fetch`, for provider plugins reading server-sent events: the same checks as
 * net.ts (grant, blocklist, SSRF floor on the one pinned address, every redirect hop re-checked,
 * credentials dropped on a host or scheme change), but the body is handed over chunk by chunk as it
 * arrives instead of being buffered. Chunks are decoded as UTF-8 across chunk boundaries, so a plugin
 * never sees half a character. The total body is capped, and a connection that goes quiet for the idle
 * timeout is closed.
 */
import http from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import type { LookupFunction } from 'node:net';
import { CaduceusError } from '../errors.js';
import { blocked, checkUrl, clamp, CREDENTIAL_HEADERS, MAX_BODY_BYTES, MAX_REDIRECTS, MAX_TIMEOUT_MS, parseUrl, type FetchInit } from './net.js';

const DEFAULT_IDLE_MS = 120_000;

export interface StreamHead {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  url: string;
}

/** One open response body. `read()` resolves to everything that arrived since the last read, or null at the end. */
export class HttpStream {
  private readonly decoder = new StringDecoder('utf8');
  private queue: string[] = [];
  private ended = false;
  private failure: Error | undefined;
  private waiter: { resolve: (v: string | null) => void; reject: (e: Error) => void } | undefined;
  private bytes = 0;

  constructor(private readonly req: http.ClientRequest, res: http.IncomingMessage, private readonly what: string, maxBytes: number) {
    res.on('data', (c: Buffer) => {
      this.bytes += c.length;
      if (this.bytes > maxBytes) {
        this.fail(new CaduceusError('CAD_ERR_NET_FAILED', `${what}: the response body passed ${maxBytes} bytes and was cut off.`));
        req.destroy();
        return;
      }
      const text = this.decoder.write(c);
      if (text) this.push(text);
    });
    res.on('end', () => {
      const rest = this.decoder.end();
      if (rest) this.queue.push(rest);
      this.ended = true;
      this.wake();
    });
    res.on('aborted', () => this.fail(new CaduceusError('CAD_ERR_NET_FAILED', `${what}: the server closed the connection mid-response.`)));
    res.on('error', (err) => this.fail(new CaduceusError('CAD_ERR_NET_FAILED', `${what}: ${err.message}.`)));
    req.on('error', (err) => this.fail(new CaduceusError('CAD_ERR_NET_FAILED', `${what}: ${err.message}.`)));
    // Some Node versions end a reset stream without 'aborted'; 'close' before 'end' is the same failure.
    res.on('close', () => {
      if (!this.ended) this.fail(new CaduceusError('CAD_ERR_NET_FAILED', `${what}: the connection closed before the response ended.`));
    });
  }

  read(): Promise<string | null> {
    if (this.queue.length) {
      const out = this.queue.join('');
      this.queue = [];
      return Promise.resolve(out);
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Closes the connection; a pending read rejects with `reason`. */
  close(reason?: CaduceusError): void {
    this.fail(reason ?? new CaduceusError('CAD_ERR_NET_FAILED', `${this.what}: the stream was closed.`));
    this.req.destroy();
  }

  private push(text: string): void {
    this.queue.push(text);
    this.wake();
  }

  private fail(err: Error): void {
    if (this.failure || this.ended) return;
    this.failure = err;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    if (!w) return;
    this.waiter = undefined;
    if (this.queue.length) {
      const out = this.queue.join('');
      this.queue = [];
      w.resolve(out);
    } else if (this.failure) w.reject(this.failure);
    else if (this.ended) w.resolve(null);
    else this.waiter = w;
  }
}

/** Opens a checked request and resolves once the response headers are in. */
export async function openStream(plugin: string, hostGrants: readonly string[], rawUrl: string, init: FetchInit, blockedDomains: readonly string[]): Promise<{ head: StreamHead; stream: HttpStream }> {
  let url = parseUrl(plugin, rawUrl);
  let method = (init.method ?? 'GET').toUpperCase();
  let body = init.body;
  let headers = { ...(init.headers ?? {}) };
  const maxBytes = clamp(init.maxBytes, MAX_BODY_BYTES, MAX_BODY_BYTES);
  const idleMs = clamp(init.timeoutMs, DEFAULT_IDLE_MS, MAX_TIMEOUT_MS);
  for (let hop = 0; ; hop++) {
    const address = await checkUrl(plugin, hostGrants, url, blockedDomains);
    const { req, res } = await send(url, address, method, headers, body, idleMs);
    const status = res.statusCode ?? 0;
    if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
      res.resume();
      req.destroy();
      if (hop >= MAX_REDIRECTS) throw blocked(plugin, url.href, `more than ${MAX_REDIRECTS} redirects`);
      const next = parseUrl(plugin, new URL(res.headers.location, url).href);
      if (next.host !== url.host || next.protocol !== url.protocol) headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !CREDENTIAL_HEADERS.has(k.toLowerCase())));
      url = next;
      if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
      }
      continue;
    }
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : v;
    const stream = new HttpStream(req, res, `Request to ${url.href}`, maxBytes);
    return { head: { status, statusText: res.statusMessage ?? '', headers: flat, url: url.href }, stream };
  }
}

function send(url: URL, pinned: { address: string; family: number }, method: string, headers: Record<string, string>, body: string | undefined, idleMs: number): Promise<{ req: http.ClientRequest; res: http.IncomingMessage }> {
  const pinnedLookup: LookupFunction = (_host, options, cb) => {
    if ((options as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [pinned]);
    else cb(null, pinned.address, pinned.family);
  };
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, { method, headers, lookup: pinnedLookup, timeout: idleMs }, (res) => resolve({ req, res }));
    req.on('timeout', () => req.destroy(new Error(`no data for ${idleMs} ms`)));
    req.on('error', (err) => reject(new CaduceusError('CAD_ERR_NET_FAILED', `Request to ${url.href} failed: ${err.message}.`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}
