/**
 * The embedded store: one SQLite file in WAL mode under the Caduceus home. It holds installed plugins,
 * grants, enable state, each plugin's kv namespace and the audit log, a hash chain (audit-chain.ts). WAL
 * with synchronous=NORMAL means a committed row survives SIGKILL of the process (only an OS crash can lose
 * the newest commits), which is what the audit log promises.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { CaduceusError } from '../errors.js';
import { MIGRATIONS } from './migrations.js';
import { AuditChainWriter } from './audit-chain.js';
import { verifyAuditChain, type AuditVerification } from './audit-verify.js';
import type { AuditChainRow, AuditEvent, AuditRow } from '../audit.js';

export interface PluginRow {
  id: string;
  version: string;
  source: string;
  path: string;
  integrity: string;
  manifest: string;
  bundled: number;
  enabled: number;
  installed_at: number;
  updated_at: number;
}

export class Store {
  readonly db: Database.Database;
  private readonly auditChain: AuditChainWriter;
  private readonly auditTx: Database.Transaction<(events: readonly AuditEvent[], then?: () => void) => void>;
  private readonly kvGetStmt: Database.Statement;
  private readonly kvSetStmt: Database.Statement;

  constructor(readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
    this.auditChain = new AuditChainWriter(this.db);
    this.auditTx = this.db.transaction((events: readonly AuditEvent[], then?: () => void) => {
      this.auditChain.append(events);
      then?.();
    });
    this.kvGetStmt = this.db.prepare('SELECT value FROM kv WHERE plugin_id = ? AND key = ?').pluck();
    this.kvSetStmt = this.db.prepare(
      `INSERT INTO kv (plugin_id, key, value, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(plugin_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    );
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    if (current > MIGRATIONS.length) {
      throw new CaduceusError('CAD_ERR_STORE_VERSION',
        `The store at '${this.file}' has schema version ${current}, newer than this Caduceus knows (${MIGRATIONS.length}). Upgrade Caduceus or set CADUCEUS_HOME to another folder.`);
    }
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        const step = MIGRATIONS[v]!;
        if (typeof step === 'string') this.db.exec(step);
        else step(this.db);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // plugins
  listPlugins(): PluginRow[] {
    return this.db.prepare('SELECT * FROM plugins ORDER BY id').all() as PluginRow[];
  }

  getPlugin(id: string): PluginRow | undefined {
    return this.db.prepare('SELECT * FROM plugins WHERE id = ?').get(id) as PluginRow | undefined;
  }

  upsertPlugin(row: Omit<PluginRow, 'installed_at' | 'updated_at'>): void {
    const now = Date.now();
    this.db.prepare(
      `INSERT INTO plugins (id, version, source, path, integrity, manifest, bundled, enabled, installed_at, updated_at)
       VALUES (@id, @version, @source, @path, @integrity, @manifest, @bundled, @enabled, @now, @now)
       ON CONFLICT(id) DO UPDATE SET version = excluded.version, source = excluded.source, path = excluded.path,
         integrity = excluded.integrity, manifest = excluded.manifest, bundled = excluded.bundled,
         enabled = excluded.enabled, updated_at = excluded.updated_at`,
    ).run({ ...row, now });
  }

  deletePlugin(id: string): void {
    this.db.prepare('DELETE FROM plugins WHERE id = ?').run(id);
    this.db.prepare('DELETE FROM kv WHERE plugin_id = ?').run(id);
  }

  setEnabled(id: string, enabled: boolean): void {
    this.db.prepare('UPDATE plugins SET enabled = ?, updated_at = ? WHERE id = ?').run(enabled ? 1 : 0, Date.now(), id);
  }

  // grants
  grants(id: string): string[] {
    return this.db.prepare('SELECT permission FROM grants WHERE plugin_id = ? ORDER BY permission').pluck().all(id) as string[];
  }

  allGrants(): Map<string, string[]> {
    const rows = this.db.prepare('SELECT plugin_id, permission FROM grants ORDER BY permission').all() as { plugin_id: string; permission: string }[];
    const out = new Map<string, string[]>();
    for (const r of rows) {
      const list = out.get(r.plugin_id) ?? [];
      list.push(r.permission);
      out.set(r.plugin_id, list);
    }
    return out;
  }

  grant(id: string, permissions: readonly string[]): void {
    const stmt = this.db.prepare('INSERT OR IGNORE INTO grants (plugin_id, permission, granted_at) VALUES (?, ?, ?)');
    const now = Date.now();
    for (const p of permissions) stmt.run(id, p, now);
  }

  revoke(id: string, permissions: readonly string[] | 'all'): void {
    if (permissions === 'all') {
      this.db.prepare('DELETE FROM grants WHERE plugin_id = ?').run(id);
      return;
    }
    const stmt = this.db.prepare('DELETE FROM grants WHERE plugin_id = ? AND permission = ?');
    for (const p of permissions) stmt.run(id, p);
  }

  // kv
  kvGet(plugin: string, key: string): string | undefined {
    return this.kvGetStmt.get(plugin, key) as string | undefined;
  }

  kvSet(plugin: string, key: string, value: string): void {
    this.kvSetStmt.run(plugin, key, value, Date.now());
  }

  kvDelete(plugin: string, key: string): boolean {
    return this.db.prepare('DELETE FROM kv WHERE plugin_id = ? AND key = ?').run(plugin, key).changes > 0;
  }

  kvList(plugin: string, prefix: string, limit: number): string[] {
    return this.db.prepare(
      "SELECT key FROM kv WHERE plugin_id = ? AND substr(key, 1, length(?)) = ? ORDER BY key LIMIT ?",
    ).pluck().all(plugin, prefix, prefix, limit) as string[];
  }

  // meta
  getMeta(key: string): string | undefined {
    return this.db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
  }

  private setMetaStmt: Database.Statement | undefined;

  setMeta(key: string, value: string): void {
    // Prepared once: every audit batch records its journal offset here, so this is on the tool-call path.
    this.setMetaStmt ??= this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
    this.setMetaStmt.run(key, value);
  }

  // audit
  /**
   * Appends events to the hash chain in one BEGIN IMMEDIATE transaction (a savepoint when the caller
   * already holds one), then runs `then` inside it. IMMEDIATE because several processes write this file:
   * the chain's head must be read under the write lock, or two writers would chain from the same row.
   */
  appendAudit(events: readonly AuditEvent[], then?: () => void): void {
    this.auditTx.immediate(events, then);
  }

  /** Checks the audit hash chain (core/store/audit-verify.ts). */
  verifyAudit(): AuditVerification {
    return verifyAuditChain(this.db);
  }

  /** At most `limit` rows after `afterSeq`, oldest first, with their chain hashes (for exports). */
  auditRowsAfter(afterSeq: number, limit: number): AuditChainRow[] {
    const rows = this.db.prepare('SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?').all(afterSeq, limit) as Array<Record<string, unknown>>;
    return rows.map((r) => ({ ...toAuditRow(r), prevHash: r.prev_hash as string, hash: r.hash as string }));
  }

  tailAudit(limit: number, filter: { plugin?: string; kind?: string } = {}): AuditRow[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.plugin) { where.push('plugin = ?'); params.push(filter.plugin); }
    if (filter.kind) { where.push('kind = ?'); params.push(filter.kind); }
    const sql = `SELECT * FROM (SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY seq DESC LIMIT ?) ORDER BY seq ASC`;
    const rows = this.db.prepare(sql).all(...params, limit) as Array<Record<string, unknown>>;
    return rows.map(toAuditRow);
  }
}

function toAuditRow(r: Record<string, unknown>): AuditRow {
  return {
    seq: r.seq as number,
    ts: r.ts as number,
    kind: r.kind as string,
    plugin: (r.plugin as string | null) ?? undefined,
    tool: (r.tool as string | null) ?? undefined,
    caller: (r.caller as string | null) ?? undefined,
    outcome: r.outcome as AuditRow['outcome'],
    code: (r.code as string | null) ?? undefined,
    durationUs: (r.duration_us as number | null) ?? undefined,
    argsDigest: (r.args_digest as string | null) ?? undefined,
    resultDigest: (r.result_digest as string | null) ?? undefined,
    detail: r.detail ? JSON.parse(r.detail as string) as Record<string, unknown> : undefined,
  };
}
