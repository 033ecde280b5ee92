/**
 * Writing the audit hash chain into SQLite. Rows get their seq, prev_hash and hash here, inside the write
 * transaction (BEGIN IMMEDIATE, so no other process can commit between reading the head and writing
 * after it). The head, `{ rows, seq, hash }` of the last committed row, lives in `meta` under
 * `audit.head` and is rewritten by every commit: new rows chain from it rather than from whatever row is
 * last in the table, so deleting the newest rows leaves a break that later appends cannot paper over,
 * and `caduceus audit verify` compares the table's end with it (core/store/audit-verify.ts).
 */
import type Database from 'better-sqlite3';
import type { AuditEvent } from '../audit.js';
import { CHAINED_COLUMNS, GENESIS, chainHash, fieldsOf } from '../audit-hash.js';

export const HEAD_KEY = 'audit.head';

export interface AuditHead {
  /** Rows in the chain. */
  rows: number;
  /** seq and hash of the newest row (0 and GENESIS when there is none). */
  seq: number;
  hash: string;
}

export function readHead(db: Database.Database): AuditHead | undefined {
  const text = db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(HEAD_KEY) as string | undefined;
  return text === undefined ? undefined : parseHead(text);
}

function parseHead(text: string): AuditHead | undefined {
  try {
    const h = JSON.parse(text) as Partial<AuditHead>;
    if (Number.isInteger(h.rows) && Number.isInteger(h.seq) && typeof h.hash === 'string') return h as AuditHead;
  } catch {
    // an unreadable head is reported by verify like a missing one
  }
  return undefined;
}

const setHeadSql = 'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value';

export function writeHead(db: Database.Database, head: AuditHead): void {
  db.prepare(setHeadSql).run(HEAD_KEY, JSON.stringify(head));
}

/**
 * Migration step: gives rows written before the chain existed their prev_hash and hash, oldest first,
 * and records the head, so an upgraded store verifies. Pages through the table because better-sqlite3
 * cannot update while a read statement is still iterating.
 */
export function chainExistingRows(db: Database.Database): void {
  const page = db.prepare(`SELECT ${CHAINED_COLUMNS} FROM audit WHERE seq > ? ORDER BY seq LIMIT 5000`).raw();
  const update = db.prepare('UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?');
  const head: AuditHead = { rows: 0, seq: 0, hash: GENESIS };
  for (;;) {
    const rows = page.all(head.seq) as unknown[][];
    if (rows.length === 0) break;
    for (const r of rows) {
      const hash = chainHash(head.hash, r);
      update.run(head.hash, hash, r[0]);
      head.hash = hash;
      head.seq = r[0] as number;
      head.rows++;
    }
  }
  writeHead(db, head);
}

/** Appends events to the chain; the caller runs it inside a write transaction. */
export class AuditChainWriter {
  private readonly insert: Database.Statement;
  private readonly getHead: Database.Statement;
  private readonly setHead: Database.Statement;
  private readonly lastRow: Database.Statement;
  private readonly countRows: Database.Statement;

  constructor(db: Database.Database) {
    this.insert = db.prepare(
      `INSERT INTO audit (${CHAINED_COLUMNS}, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.getHead = db.prepare('SELECT value FROM meta WHERE key = ?').pluck();
    this.setHead = db.prepare(setHeadSql);
    this.lastRow = db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1');
    this.countRows = db.prepare('SELECT count(*) FROM audit').pluck();
  }

  /** Inserts the events after the head and moves the head; one head read and one write per call. */
  append(events: readonly AuditEvent[]): void {
    if (events.length === 0) return;
    const head = this.head();
    // Never reuse a seq, even one that rows inserted behind the chain's back already took: those rows
    // are reported by verify; refusing to write would only lose the events that come after them.
    const last = this.lastRow.get() as { seq: number } | undefined;
    let seq = Math.max(head.seq, last?.seq ?? 0);
    let hash = head.hash;
    for (const e of events) {
      const row: unknown[] = fieldsOf(++seq, e);
      const prev = hash;
      hash = chainHash(prev, row);
      row.push(prev, hash);
      this.insert.run(row);
    }
    this.setHead.run(HEAD_KEY, JSON.stringify({ rows: head.rows + events.length, seq, hash }));
  }

  private head(): AuditHead {
    const text = this.getHead.get(HEAD_KEY) as string | undefined;
    const head = text === undefined ? undefined : parseHead(text);
    if (head) return head;
    // No head although the migration writes one: it was removed. Continue from the newest row; verify
    // has nothing left to compare the end of the table with, which docs/security.md says.
    const last = this.lastRow.get() as { seq: number; hash: string | null } | undefined;
    return last ? { rows: this.countRows.get() as number, seq: last.seq, hash: last.hash ?? GENESIS } : { rows: 0, seq: 0, hash: GENESIS };
  }
}
