/**
 * The audit hash chain at the store level: rows written before the chain existed are chained by the
 * migration (an upgraded store verifies), two connections writing the same file alternately keep one
 * chain, and verify names what was done to a row.
 */
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from './store.js';
import { MIGRATIONS } from './migrations.js';
import { GENESIS, chainHash } from '../audit-hash.js';
import type { AuditEvent } from '../audit.js';

const dirs: string[] = [];
function dbFile(): string {
  const d = mkdtempSync(join(tmpdir(), 'cad-chain-'));
  dirs.push(d);
  return join(d, 'caduceus.db');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const event = (i: number, extra: Partial<AuditEvent> = {}): AuditEvent =>
  ({ ts: 1_700_000_000_000 + i, kind: 'tool.call', plugin: 'hello', tool: 'hello_greet', outcome: 'ok', durationUs: i, ...extra });

/** A store as Caduceus 0.1.0 left it: schema version 1, audit rows without hashes (with a gap at seq 3). */
function legacyStore(file: string): void {
  const db = new Database(file);
  db.exec(MIGRATIONS[0] as string);
  db.pragma('user_version = 1');
  const insert = db.prepare('INSERT INTO audit (seq, ts, kind, plugin, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)');
  for (const seq of [1, 2, 4, 5]) insert.run(seq, 1_600_000_000_000 + seq, 'plugin.load', 'hello', 'ok', JSON.stringify({ generation: seq }));
  db.close();
}

describe('migration to the hash chain', () => {
  it('chains the rows an older store holds, so the upgraded store verifies and keeps chaining', () => {
    const file = dbFile();
    legacyStore(file);
    const store = new Store(file);
    try {
      expect(store.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      const rows = store.db.prepare('SELECT seq, prev_hash, hash FROM audit ORDER BY seq').all() as { seq: number; prev_hash: string; hash: string }[];
      expect(rows.map((r) => r.seq)).toEqual([1, 2, 4, 5]);
      expect(rows[0]!.prev_hash).toBe(GENESIS);
      for (let i = 1; i < rows.length; i++) expect(rows[i]!.prev_hash).toBe(rows[i - 1]!.hash);
      expect(store.verifyAudit()).toMatchObject({ ok: true, rows: 4, head: { seq: 5, hash: rows[3]!.hash } });

      store.appendAudit([event(1), event(2)]);
      expect(store.verifyAudit()).toMatchObject({ ok: true, rows: 6, head: { seq: 7 } });

      store.db.prepare("UPDATE audit SET kind = 'plugin.unload' WHERE seq = 2").run();
      expect(store.verifyAudit()).toMatchObject({ ok: false, firstBad: { seq: 2, problem: 'edited' } });
    } finally {
      store.close();
    }
  });

  it('leaves an empty log with a genesis head', () => {
    const store = new Store(dbFile());
    try {
      expect(store.verifyAudit()).toEqual({ ok: true, rows: 0 });
      expect(JSON.parse(store.getMeta('audit.head')!)).toEqual({ rows: 0, seq: 0, hash: GENESIS });
    } finally {
      store.close();
    }
  });
});

describe('appending', () => {
  it('hashes sha256(prev_hash || canonical JSON of the row) in full hex', () => {
    const store = new Store(dbFile());
    try {
      store.appendAudit([event(1, { detail: { b: 1, a: [1, 'x'] } })]);
      const row = store.db.prepare('SELECT * FROM audit').get() as Record<string, unknown>;
      const canonical = [1, row.ts, 'tool.call', 'hello', 'hello_greet', null, 'ok', null, 1, null, null, '{"b":1,"a":[1,"x"]}'];
      expect(row.hash).toBe(chainHash(GENESIS, canonical));
      expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
    } finally {
      store.close();
    }
  });

  it('keeps one chain when two connections (two processes) write the same file in turns', () => {
    const file = dbFile();
    const a = new Store(file);
    const b = new Store(file);
    try {
      for (let i = 0; i < 20; i++) (i % 3 === 0 ? b : a).appendAudit([event(i), event(i + 100)]);
      expect(a.verifyAudit()).toMatchObject({ ok: true, rows: 40, head: { seq: 40 } });
      expect(b.verifyAudit()).toMatchObject({ ok: true, rows: 40 });
    } finally {
      a.close();
      b.close();
    }
  });

  it('runs the caller\'s step in the same transaction (the journal offset commits with the rows)', () => {
    const store = new Store(dbFile());
    try {
      expect(() => store.appendAudit([event(1)], () => { throw new Error('offset write failed'); })).toThrow('offset write failed');
      expect(store.db.prepare('SELECT count(*) FROM audit').pluck().get()).toBe(0);
      expect(store.verifyAudit()).toMatchObject({ ok: true, rows: 0 });
    } finally {
      store.close();
    }
  });
});

describe('verify', () => {
  function filled(n = 10): Store {
    const store = new Store(dbFile());
    store.appendAudit(Array.from({ length: n }, (_, i) => event(i + 1)));
    return store;
  }

  it('names a deleted row, and keeps naming it after new rows are appended', () => {
    const store = filled();
    try {
      store.db.prepare('DELETE FROM audit WHERE seq = 10').run();
      expect(store.verifyAudit().firstBad).toMatchObject({ seq: 10, problem: 'deleted' });
      store.appendAudit([event(11)]);
      expect(store.verifyAudit().firstBad).toMatchObject({ seq: 10, problem: 'deleted' });
    } finally {
      store.close();
    }
  });

  it('catches a whole row moved to another seq', () => {
    const store = filled();
    try {
      store.db.exec('UPDATE audit SET seq = 99 WHERE seq = 4');
      expect(store.verifyAudit()).toMatchObject({ ok: false, firstBad: { problem: 'reordered' } });
    } finally {
      store.close();
    }
  });

  it('catches rows inserted behind the chain, and a removed head', () => {
    const store = filled(3);
    try {
      store.db.prepare("INSERT INTO audit (seq, ts, kind, outcome) VALUES (4, 1, 'forged', 'ok')").run();
      expect(store.verifyAudit().firstBad).toMatchObject({ seq: 4, problem: 'chain-broken' });
      store.db.prepare('DELETE FROM audit WHERE seq = 4').run();
      store.db.prepare("DELETE FROM meta WHERE key = 'audit.head'").run();
      expect(store.verifyAudit().firstBad).toMatchObject({ seq: 3, problem: 'chain-broken' });
    } finally {
      store.close();
    }
  });
});
