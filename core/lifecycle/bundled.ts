/**
 * Bundled first-party plugins. The build writes `.bundled.json` into the bundled folder (validated
 * manifests plus pinned bundle hashes); the kernel mirrors it into the store when it changes. New
 * bundled plugins that ask to be on by default start enabled with their requested permissions granted
 * (they ship with Caduceus itself); every other one is opt-in. The operator's later choices stick.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Kernel } from '../kernel.js';
import type { Manifest } from '../manifest/schema.js';
import type { AuditEvent } from '../audit.js';

export const BUNDLED_INDEX = '.bundled.json';

export interface BundledIndex {
  version: 1;
  plugins: { dir: string; manifest: Manifest; integrity: string }[];
}

export function syncBundled(k: Kernel, bundledDir: string): void {
  const file = join(bundledDir, BUNDLED_INDEX);
  if (!existsSync(file)) return;
  // A cheap fingerprint (path, size, mtime): this runs on every CLI start, listings included.
  const st = statSync(file);
  const hash = `${bundledDir}\0${st.size}\0${st.mtimeMs}`;
  if (k.store.getMeta('bundled.hash') === hash) return;
  const index = JSON.parse(readFileSync(file, 'utf8')) as BundledIndex;
  const store = k.store;
  // Audit rows are emitted after the transaction and the cache reset, so nothing observes a half-synced
  // plugin list (building the hooks mid-sync once left a bundled guard untapped).
  const events: AuditEvent[] = [];
  store.db.transaction(() => {
    const seen = new Set<string>();
    for (const entry of index.plugins) {
      const m = entry.manifest;
      const existing = store.getPlugin(m.id);
      if (existing && existing.bundled !== 1) {
        events.push({ ts: Date.now(), kind: 'plugin.bundled_skipped', plugin: m.id, outcome: 'error', detail: { reason: 'an installed plugin already uses this id' } });
        continue;
      }
      seen.add(m.id);
      const enable = existing ? existing.enabled === 1 : m.bundled?.enabledByDefault === true;
      store.upsertPlugin({
        id: m.id, version: m.version, source: 'bundled', path: join(bundledDir, entry.dir), integrity: entry.integrity,
        manifest: JSON.stringify(m), bundled: 1, enabled: enable ? 1 : 0,
      });
      if (!existing && enable) store.grant(m.id, m.permissions);
      if (!existing) events.push({ ts: Date.now(), kind: 'plugin.install', plugin: m.id, outcome: 'ok', detail: { version: m.version, source: 'bundled', enabled: enable } });
    }
    for (const row of store.listPlugins()) {
      if (row.bundled === 1 && !seen.has(row.id)) {
        store.revoke(row.id, 'all');
        store.deletePlugin(row.id);
      }
    }
    store.setMeta('bundled.hash', hash);
  })();
  k.invalidate();
  for (const e of events) k.audit(e);
}
