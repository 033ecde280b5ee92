/**
 * Base URLs read by hand (the sandbox has no WHATWG URL class; the host checks the full URL again,
 * grants and SSRF floor included, when the request is made), and opening the streaming request with a
 * refusal that names the grant to give.
 */
import { ProviderError, type ChatStream, type FetchInit, type StreamingResponse } from 'caduceus/sdk';

/** The host name of a base URL; null for anything that is not an absolute http(s) URL. */
export function hostOf(url: string): string | null {
  const m = /^https?:\/\/([^/?#]+)/i.exec(url.trim());
  if (!m) return null;
  const authority = m[1]!.slice(m[1]!.lastIndexOf('@') + 1);
  const host = authority.startsWith('[') ? authority.slice(0, authority.indexOf(']') + 1) : authority.replace(/:\d*$/, '');
  return host === '' ? null : host.toLowerCase();
}

/** `host[:port]` as a `net:` grant names it (the host checks grants against exactly this). */
export function grantTarget(url: string): string | null {
  const m = /^https?:\/\/([^/?#]+)/i.exec(url.trim());
  if (!m) return null;
  return m[1]!.slice(m[1]!.lastIndexOf('@') + 1).toLowerCase();
}

/**
 * Opens the streaming request. A refusal because the server is on a loopback or private address (a
 * local llama.cpp or Ollama) gets the exact grant that allows it; everything else passes through.
 */
export async function openStream(stream: ChatStream, pluginId: string, endpoint: string, init: FetchInit): Promise<StreamingResponse> {
  try {
    return await stream.fetch(endpoint, init);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    const target = grantTarget(endpoint);
    if (e.code === 'CAD_ERR_NET_BLOCKED' && target && /only a grant naming/.test(e.message ?? '')) {
      throw new ProviderError('invalid_request', `${e.message}. To use a server on this machine or your network, grant it by name: \`caduceus plugins grant ${pluginId} net:${target}\`.`);
    }
    throw err;
  }
}

/** A 200 answer that is a web page (a wrong base URL, a proxy's login page): not worth a retry. */
export async function notAStream(res: StreamingResponse, baseUrl: string, setting: string): Promise<ProviderError> {
  await res.cancel().catch(() => undefined);
  return new ProviderError('invalid_request', `${baseUrl} answered with a web page (${res.headers['content-type']}) from ${res.url}, not an API event stream. Check ${setting}.`, { status: res.status });
}
