/**
 * The operator's settings for the web plugin (`plugins.web` in $CADUCEUS_HOME/config.json), already
 * validated against the manifest's configSchema by the host; this fills in the defaults and names the
 * plugin's own error codes, which callers find in `error.details.pluginError.code`.
 */
import type { PluginContext } from 'caduceus/sdk';

export interface SearchSettings {
  provider: 'searxng' | 'brave';
  url?: string;
  language?: string;
  country?: string;
  categories?: string;
  safesearch?: 0 | 1 | 2;
}

export interface WebSettings {
  search: SearchSettings | undefined;
  maxBytes: number;
  timeoutMs: number;
  maxChars: number;
  userAgent: string;
}

export const DEFAULTS = {
  maxBytes: 5 * 1024 * 1024,
  timeoutMs: 20_000,
  maxChars: 20_000,
  userAgent: 'Mozilla/5.0 (compatible; Caduceus-web/0.1)',
};

/** The secret web_search reads for Brave; the manifest requests `secret:BRAVE_API_KEY`. */
export const BRAVE_SECRET = 'BRAVE_API_KEY';
export const BRAVE_DEFAULT_URL = 'https://api.search.brave.com';

export function settings(ctx: PluginContext): WebSettings {
  const c = ctx.config as Partial<WebSettings> & Record<string, unknown>;
  return {
    search: c.search as SearchSettings | undefined,
    maxBytes: typeof c.maxBytes === 'number' ? c.maxBytes : DEFAULTS.maxBytes,
    timeoutMs: typeof c.timeoutMs === 'number' ? c.timeoutMs : DEFAULTS.timeoutMs,
    maxChars: typeof c.maxChars === 'number' ? c.maxChars : DEFAULTS.maxChars,
    userAgent: typeof c.userAgent === 'string' ? c.userAgent : DEFAULTS.userAgent,
  };
}

export type WebErrorCode =
  | 'web:http_status'
  | 'web:binary'
  | 'web:too_large'
  | 'web:offset'
  | 'web:search_not_configured'
  | 'web:search_key_missing'
  | 'web:search_failed';

/**
 * An Error whose `code` survives the sandbox boundary (see docs/tools.md for the table). Host errors
 * (`CAD_ERR_NET_BLOCKED`, `CAD_ERR_PERMISSION_DENIED`, …) are passed on with their own code.
 */
export function webError(code: WebErrorCode, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** Re-throws a host error with what the tool was doing in front of its message, keeping its code. */
export function hostError(doing: string, err: unknown): Error {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : 'CAD_ERR_NET_FAILED';
  return Object.assign(new Error(`${doing}: ${typeof e?.message === 'string' ? e.message : String(err)}`), { code });
}

/** A short, single-line excerpt of a body for error messages. */
export function excerpt(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}
