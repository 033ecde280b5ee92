/**
 * The audit log's write path. Each event is appended to this process's journal file with one write()
 * before `append` returns, so once the caller goes on, the event survives a SIGKILL (the bytes are in the
 * OS); events are then copied into SQLite in batches, one transaction per event-loop turn but at most one
 * every MIN_COMMIT_INTERVAL_MS, which is what makes tens of thousands of events per second affordable, and
 * keeps commits off the path of each request in a long-running server that audits one call at a time
 * (`caduceus mcp serve`): one commit of ~150 rows costs little more than one of a single row. Other
 * processes see a busy server's rows up to that interval late. The journal offset that has reached SQLite
 * is recorded in the same transaction, so recovery after a crash replays exactly the missing tail.
 * Journals of processes that are gone are recovered when the next kernel opens the store. Secret-looking
 * detail values are redacted before the journal write (core/audit-redact.ts); the hash chain is computed
 * as rows enter SQLite (core/store/audit-chain.ts).
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEvent } from '../audit.js';
import { redactEvent } from '../audit-redact.js';
import type { Store } from './store.js';

const MAX_BATCH = 2_000;
/** A commit follows the previous one by at least this much; an event waits at most this long to reach SQLite. */
const MIN_COMMIT_INTERVAL_MS = 50;
const META = 'audit.journal.';

export class AuditLog {
  private fd: number | undefined;
  private readonly name: string;
  private written = 0;
  private pending: AuditEvent[] = [];
  private scheduled = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastCommit = -Infinity;
  private closed = false;

  constructor(private readonly store: Store, private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.recover();
    this.name = `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.jsonl`;
  }

  append(event: AuditEvent): void {
    const e = redactEvent(event);
    if (this.closed) {
      this.store.appendAudit([e]);
      return;
    }
    const line = `${JSON.stringify(e)}\n`;
    // The journal file is created on the first event, so read-only commands never touch the disk.
    this.fd ??= openSync(join(this.dir, this.name), 'a', 0o600);
    writeSync(this.fd, line);
    this.written += Buffer.byteLength(line);
    this.pending.push(e);
    if (this.pending.length >= MAX_BATCH) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      const wait = this.lastCommit + MIN_COMMIT_INTERVAL_MS - performance.now();
      if (wait <= 0) setImmediate(() => this.flush());
      else this.timer = setTimeout(() => this.flush(), wait);
    }
  }

  /** Copies pending events into SQLite now (readers in this process call it before they read). */
  flush(): void {
    this.scheduled = false;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0) return;
    this.lastCommit = performance.now();
    const batch = this.pending;
    this.pending = [];
    const offset = String(this.written);
    this.store.appendAudit(batch, () => this.store.setMeta(META + this.name, offset));
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.retire(this.name);
  }

  /** Replays journals left by processes that died before flushing, then removes them. */
  private recover(): void {
    if (!existsSync(this.dir)) return;
    for (const file of readdirSync(this.dir)) {
      if (!file.endsWith('.jsonl')) continue;
      const pid = Number(file.split('-')[0]);
      if (pid !== process.pid && alive(pid)) continue;
      this.store.db.transaction(() => {
        const mark = this.store.getMeta(META + file);
        if (mark === 'done') return;
        const from = mark === undefined ? 0 : Number(mark);
        const text = readFileSync(join(this.dir, file)).subarray(from).toString('utf8');
        const end = text.lastIndexOf('\n');
        const events: AuditEvent[] = [];
        for (const line of text.slice(0, end + 1).split('\n')) {
          if (!line) continue;
          try {
            // Redacted again: a journal left by an older Caduceus was written before redaction existed.
            events.push(redactEvent(JSON.parse(line) as AuditEvent));
          } catch {
            // A torn line can only be the last one written before a crash; it is skipped.
          }
        }
        this.store.appendAudit(events);
        this.store.setMeta(META + file, 'done');
      }).immediate();
      this.retire(file);
    }
  }

  private retire(file: string): void {
    this.store.setMeta(META + file, 'done');
    try {
      unlinkSync(join(this.dir, file));
    } catch {
      // already gone
    }
    this.store.db.prepare('DELETE FROM meta WHERE key = ?').run(META + file);
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
