/**
 * Store migrations, applied in order and recorded in SQLite's user_version. Never edit a shipped entry;
 * append a new one. An entry is SQL, or a function for steps SQL cannot express; each runs in its own
 * transaction.
 */
import type Database from 'better-sqlite3';
import { chainExistingRows } from './audit-chain.js';

export type Migration = string | ((db: Database.Database) => void);

export const MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE plugins (
     id TEXT PRIMARY KEY,
     version TEXT NOT NULL,
     source TEXT NOT NULL,
     path TEXT NOT NULL,
     integrity TEXT NOT NULL,
     manifest TEXT NOT NULL,
     bundled INTEGER NOT NULL DEFAULT 0,
     enabled INTEGER NOT NULL DEFAULT 0,
     installed_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE grants (
     plugin_id TEXT NOT NULL REFERENCES plugins(id) ON DELETE CASCADE,
     permission TEXT NOT NULL,
     granted_at INTEGER NOT NULL,
     PRIMARY KEY (plugin_id, permission)
   ) WITHOUT ROWID;
   CREATE TABLE kv (
     plugin_id TEXT NOT NULL,
     key TEXT NOT NULL,
     value TEXT NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (plugin_id, key)
   ) WITHOUT ROWID;
   CREATE TABLE audit (
     seq INTEGER PRIMARY KEY,
     ts INTEGER NOT NULL,
     kind TEXT NOT NULL,
     plugin TEXT,
     tool TEXT,
     caller TEXT,
     outcome TEXT NOT NULL,
     code TEXT,
     duration_us INTEGER,
     args_digest TEXT,
     result_digest TEXT,
     detail TEXT
   );
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  // 2: the tamper-evident audit chain (core/store/audit-chain.ts); rows already there are chained now.
  (db) => {
    db.exec('ALTER TABLE audit ADD COLUMN prev_hash TEXT; ALTER TABLE audit ADD COLUMN hash TEXT;');
    chainExistingRows(db);
  },
  // 3: agent sessions (core/runner/sessions.ts): every message, tool call and model call of a run or chat.
  `CREATE TABLE sessions (
     id TEXT PRIMARY KEY,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     model TEXT NOT NULL,
     cwd TEXT NOT NULL,
     title TEXT NOT NULL DEFAULT '',
     status TEXT NOT NULL DEFAULT 'active',
     turns INTEGER NOT NULL DEFAULT 0,
     input_tokens INTEGER NOT NULL DEFAULT 0,
     output_tokens INTEGER NOT NULL DEFAULT 0,
     cache_read_tokens INTEGER NOT NULL DEFAULT 0,
     cache_write_tokens INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE session_messages (
     session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
     seq INTEGER NOT NULL,
     turn INTEGER NOT NULL,
     role TEXT NOT NULL,
     content TEXT NOT NULL,
     tool_calls TEXT,
     tool_call_id TEXT,
     name TEXT,
     is_error INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (session_id, seq)
   ) WITHOUT ROWID;
   CREATE TABLE session_tool_calls (
     session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
     call_id TEXT NOT NULL,
     turn INTEGER NOT NULL,
     name TEXT NOT NULL,
     args TEXT NOT NULL,
     ok INTEGER NOT NULL,
     result TEXT NOT NULL,
     error_code TEXT,
     duration_us INTEGER NOT NULL,
     repairs TEXT,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (session_id, call_id)
   ) WITHOUT ROWID;
   CREATE TABLE session_model_calls (
     session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
     seq INTEGER NOT NULL,
     turn INTEGER NOT NULL,
     model TEXT NOT NULL,
     input_tokens INTEGER NOT NULL,
     output_tokens INTEGER NOT NULL,
     cache_read_tokens INTEGER NOT NULL,
     cache_write_tokens INTEGER NOT NULL,
     finish_reason TEXT,
     attempts INTEGER NOT NULL,
     duration_ms INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (session_id, seq)
   ) WITHOUT ROWID;
   CREATE INDEX sessions_updated ON sessions(updated_at);`,
];
