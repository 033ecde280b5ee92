/**
 * The last tool list each MCP server gave, kept in the store (`meta` rows `mcp.tools:<server>`), so that
 * `caduceus tools list` shows MCP tools without starting a server or loading the MCP SDK. An entry is used
 * only while the server's connection settings still match the ones it was fetched with (`fingerprint`);
 * after an edit of `command`, `args`, `env`, `url` or `headers` the server has to be listed again
 * (`caduceus mcp test <name>`, or any connection).
 */
import type { Store } from '../store/store.js';

const PREFIX = 'mcp.tools:';

/** One tool as its server described it, input schema already normalised (descriptor.ts). */
export interface CachedTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  annotations?: { readOnlyHint?: boolean; destructiveHint?: boolean; idempotentHint?: boolean; openWorldHint?: boolean; title?: string };
}

export interface CachedList {
  fingerprint: string;
  fetchedAt: number;
  server?: { name?: string; version?: string };
  tools: CachedTool[];
}

export function readCache(store: Store): Map<string, CachedList> {
  const rows = store.db.prepare('SELECT key, value FROM meta WHERE key >= ? AND key < ?').all(PREFIX, `${PREFIX}\uffff`) as { key: string; value: string }[];
  const out = new Map<string, CachedList>();
  for (const r of rows) {
    try {
      out.set(r.key.slice(PREFIX.length), JSON.parse(r.value) as CachedList);
    } catch {
      // A damaged entry is as good as none: the server is listed again on its next connection.
    }
  }
  return out;
}

export function writeCache(store: Store, server: string, list: CachedList): void {
  store.setMeta(PREFIX + server, JSON.stringify(list));
}

export function dropCache(store: Store, server: string): void {
  store.db.prepare('DELETE FROM meta WHERE key = ?').run(PREFIX + server);
}
