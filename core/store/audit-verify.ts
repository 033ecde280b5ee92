/**
 * `caduceus audit verify`: walks the audit table in seq order, recomputes every row's hash and checks
 * that each row's prev_hash is the hash of the row before it, then compares the end of the table with the
 * head recorded at the last commit. On the first row that fails it works out what most likely happened
 * (edited, deleted, reordered, or the chain itself broken) so the report names the row and the change.
 * All of it runs in one read transaction, so writers committing meanwhile cannot look like tampering.
 */
import type Database from 'better-sqlite3';
import { CHAINED_COLUMNS, GENESIS, chainHash } from '../audit-hash.js';
import { readHead } from './audit-chain.js';

export type AuditProblem = 'edited' | 'deleted' | 'reordered' | 'chain-broken';

export interface AuditVerification {
  ok: boolean;
  /** Rows in the table. */
  rows: number;
  /** The newest row's seq and hash when the chain is intact: worth keeping somewhere else. */
  head?: { seq: number; hash: string };
  firstBad?: { seq: number; problem: AuditProblem; detail: string };
}

type Raw = unknown[];
const PREV = 12;
const HASH = 13;

interface Walked {
  rows: number;
  last: { seq: number; hash: string } | undefined;
  bad: { row: Raw; expectedPrev: string; prevSeq: number } | undefined;
}

export function verifyAuditChain(db: Database.Database): AuditVerification {
  return db.transaction((): AuditVerification => {
    const rows = db.prepare('SELECT count(*) FROM audit').pluck().get() as number;
    const walked = walk(db);
    if (walked.bad) return { ok: false, rows, firstBad: classify(db, walked.bad.row, walked.bad.expectedPrev, walked.bad.prevSeq) };
    const end = checkEnd(db, walked);
    if (end) return { ok: false, rows, firstBad: end };
    return { ok: true, rows, ...(walked.last ? { head: walked.last } : {}) };
  })();
}

/** Stops at the first row whose hash or link does not check out. */
function walk(db: Database.Database): Walked {
  let expectedPrev = GENESIS;
  let prevSeq = 0;
  let rows = 0;
  let last: Walked['last'];
  for (const row of db.prepare(`SELECT ${CHAINED_COLUMNS}, prev_hash, hash FROM audit ORDER BY seq`).raw().iterate() as Iterable<Raw>) {
    const prev = row[PREV];
    const hash = row[HASH];
    if (prev !== expectedPrev || typeof hash !== 'string' || chainHash(prev, row.slice(0, PREV)) !== hash) {
      return { rows, last, bad: { row, expectedPrev, prevSeq } };
    }
    rows++;
    expectedPrev = hash;
    prevSeq = row[0] as number;
    last = { seq: prevSeq, hash };
  }
  return { rows, last, bad: undefined };
}

const fields = (row: Raw) => row.slice(0, PREV);
const withSeq = (row: Raw, seq: number) => [seq, ...row.slice(1, PREV)];

function classify(db: Database.Database, row: Raw, expectedPrev: string, prevSeq: number): NonNullable<AuditVerification['firstBad']> {
  const seq = row[0] as number;
  const prev = row[PREV];
  const hash = row[HASH];
  const after = prevSeq === 0 ? 'the start of the log' : `seq ${prevSeq}`;
  if (typeof prev !== 'string' || typeof hash !== 'string') {
    return { seq, problem: 'chain-broken', detail: `row seq ${seq} has no ${typeof prev !== 'string' ? 'prev_hash' : 'hash'}: it was inserted behind Caduceus's back, not through the audit log` };
  }
  const intact = chainHash(prev, fields(row)) === hash;
  if (intact) {
    // The row is as written, but it was not written after the row now before it.
    const moved = db.prepare('SELECT seq FROM audit WHERE hash = ?').pluck().get(prev) as number | undefined;
    if (moved !== undefined) {
      return { seq: moved, problem: 'reordered', detail: `row seq ${seq} was written right after the row now at seq ${moved}, which was moved from its place` };
    }
    if (seq > prevSeq + 1) {
      const missing = seq - prevSeq - 1 === 1 ? `row seq ${prevSeq + 1} is missing` : `rows seq ${prevSeq + 1}–${seq - 1} are missing`;
      return { seq: prevSeq + 1, problem: 'deleted', detail: `${missing}: row seq ${seq} does not chain to ${after}` };
    }
    return { seq, problem: 'chain-broken', detail: `row seq ${seq} does not chain to ${after}: its prev_hash names a row that is not in the log (deleted, or its prev_hash and hash were rewritten)` };
  }
  if (prev !== expectedPrev && chainHash(expectedPrev, fields(row)) === hash) {
    return { seq, problem: 'chain-broken', detail: `the prev_hash column of row seq ${seq} was changed` };
  }
  const origin = findOrigin(db, row);
  if (origin !== undefined) return { seq, problem: 'reordered', detail: origin };
  return { seq, problem: 'edited', detail: `row seq ${seq} no longer matches its hash: a field of it (or its hash) was changed after it was written` };
}

/**
 * Looks for where a row's content really belongs: either its content was swapped with a later row's
 * (it fits that row's chain columns) or the whole row was moved (its own hash fits another seq).
 * Only runs once, on the first bad row.
 */
function findOrigin(db: Database.Database, row: Raw): string | undefined {
  const seq = row[0] as number;
  const later = db.prepare('SELECT seq, prev_hash, hash FROM audit WHERE seq > ? ORDER BY seq').raw();
  for (const [otherSeq, otherPrev, otherHash] of later.iterate(seq) as Iterable<[number, string | null, string | null]>) {
    if (typeof otherPrev === 'string' && chainHash(otherPrev, withSeq(row, otherSeq)) === otherHash) {
      return `row seq ${seq} holds the content written at seq ${otherSeq} (rows were swapped or moved)`;
    }
    if (chainHash(row[PREV] as string, withSeq(row, otherSeq)) === row[HASH]) {
      return `row seq ${seq} is the row written at seq ${otherSeq}, moved (rows were swapped or renumbered)`;
    }
  }
  return undefined;
}

/** The table ends where the last commit said it would. */
function checkEnd(db: Database.Database, walked: Walked): AuditVerification['firstBad'] {
  const head = readHead(db);
  const lastSeq = walked.last?.seq ?? 0;
  if (!head) {
    if (walked.rows === 0) return undefined;
    return { seq: lastSeq, problem: 'chain-broken', detail: "the head record (meta 'audit.head') is missing or unreadable, so a deleted tail cannot be ruled out" };
  }
  if (head.seq > lastSeq || head.rows > walked.rows) {
    const n = head.rows - walked.rows;
    return {
      seq: lastSeq + 1, problem: 'deleted',
      detail: `the log ends at ${walked.last ? `seq ${lastSeq}` : 'no row at all'}, but the last commit recorded ${head.rows} rows ending at seq ${head.seq}: ${n === 1 ? 'the newest row was' : `the newest ${n} rows were`} deleted`,
    };
  }
  if (head.seq === lastSeq && head.hash !== (walked.last?.hash ?? GENESIS)) {
    return { seq: lastSeq, problem: 'edited', detail: `row seq ${lastSeq}, the newest, is not the row the last commit recorded (its hash differs from the head): it was rewritten` };
  }
  if (lastSeq > head.seq || walked.rows > head.rows) {
    return { seq: head.seq + 1, problem: 'chain-broken', detail: `rows after seq ${head.seq}, the head recorded at the last commit, were added without going through Caduceus` };
  }
  return undefined;
}
