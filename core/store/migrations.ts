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
];
