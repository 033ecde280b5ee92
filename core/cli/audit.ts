/**
 * `caduceus audit tail`: the newest audit rows, oldest first. `audit verify`: checks the hash chain and
 * names the first bad row. `audit export`: every row with its chain hashes as JSON lines, written page by
 * page so a large log never sits in memory as one string.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { CaduceusError } from '../errors.js';
import { c, printJson, statusColour, table, EXIT } from './output.js';
import { withKernel } from './open.js';

const PAGE = 5_000;
const PROGRESS_FROM = 20_000;

export async function tail(opts: { json?: boolean; lines: string; plugin?: string; kind?: string }): Promise<number> {
  const n = Number(opts.lines);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) {
    throw new CaduceusError('CAD_ERR_CLI_USAGE', `-n ${JSON.stringify(opts.lines)} is not a row count; use a whole number from 1 to 100000.`);
  }
  return withKernel(async (k) => {
    const rows = k.tailAudit(n, { ...(opts.plugin ? { plugin: opts.plugin } : {}), ...(opts.kind ? { kind: opts.kind } : {}) });
    if (opts.json) { printJson(rows); return EXIT.OK; }
    if (rows.length === 0) { console.log('The audit log is empty.'); return EXIT.OK; }
    console.log(table(rows.map((r) => [
      new Date(r.ts).toISOString(), r.kind, r.plugin ?? '-', r.tool ?? '-', statusColour(r.outcome), r.code ?? '',
      r.durationUs === undefined ? '' : `${(r.durationUs / 1000).toFixed(2)} ms`,
      c.dim(r.argsDigest ? `args ${r.argsDigest.slice(7, 19)}` : r.detail ? JSON.stringify(r.detail).slice(0, 80) : ''),
    ]), ['TIME', 'KIND', 'PLUGIN', 'TOOL', 'OUTCOME', 'CODE', 'DURATION', 'DETAIL']));
    return EXIT.OK;
  });
}

export async function verify(opts: { json?: boolean }): Promise<number> {
  return withKernel(async (k) => {
    const v = k.verifyAudit();
    if (v.ok) {
      if (opts.json) { printJson(v); return EXIT.OK; }
      console.log(`${c.green('✓')} ${v.rows} rows, chain intact`);
      if (v.head) console.log(c.dim(`head: seq ${v.head.seq}, hash ${v.head.hash} (keep it outside this machine to detect a rewritten chain)`));
      return EXIT.OK;
    }
    const bad = v.firstBad!;
    const err = new CaduceusError('CAD_ERR_AUDIT_TAMPERED',
      `The audit log in '${k.store.file}' fails verification at row seq ${bad.seq} (${bad.problem}): ${bad.detail}. `
      + `To investigate, run \`caduceus audit export --jsonl --since ${Math.max(0, bad.seq - 6)}\` and compare the rows around seq ${bad.seq} `
      + 'with an earlier export or a backup of caduceus.db, and check who could write that file.',
      { details: { ...bad } });
    if (opts.json) printJson({ ...v, error: { code: err.code, message: err.message } });
    process.stderr.write(`${c.red('error')} ${err.code}: ${err.message}\n`);
    return EXIT.FAILURE;
  });
}

export async function exportRows(opts: { jsonl?: boolean; out?: string; since?: string }): Promise<number> {
  const since = opts.since === undefined ? 0 : Number(opts.since);
  if (!Number.isSafeInteger(since) || since < 0 || opts.since?.trim() === '') {
    throw new CaduceusError('CAD_ERR_CLI_USAGE', `--since ${JSON.stringify(opts.since)} is not a seq; use a whole number of 0 or more (the last seq of an earlier export, or 0 for every row).`);
  }
  return withKernel(async (k) => {
    const sink = opts.out === undefined ? stdoutSink() : fileSink(opts.out);
    const progress = process.stderr.isTTY === true && (opts.out !== undefined || process.stdout.isTTY !== true);
    let after = since;
    let n = 0;
    let first = 0;
    let lastHash: string | undefined;
    try {
      for (;;) {
        const rows = k.auditRowsAfter(after, PAGE);
        if (rows.length === 0) break;
        let chunk = '';
        for (const r of rows) chunk += `${JSON.stringify(r)}\n`;
        if (!(await sink.write(chunk))) return EXIT.OK; // the reader went away (e.g. `| head`)
        if (n === 0) first = rows[0]!.seq;
        n += rows.length;
        after = rows[rows.length - 1]!.seq;
        lastHash = rows[rows.length - 1]!.hash;
        if (progress && n >= PROGRESS_FROM) process.stderr.write(`\r${c.dim('…')} ${n.toLocaleString('en-US')} rows exported`);
      }
      if (progress && n >= PROGRESS_FROM) process.stderr.write('\n');
      sink.close();
    } catch (err) {
      sink.abort();
      throw err;
    }
    if (opts.out !== undefined) {
      console.log(n === 0
        ? `${c.green('✓')} no rows after seq ${since}; wrote an empty ${opts.out}`
        : `${c.green('✓')} wrote ${n} rows (seq ${first}–${after}) to ${opts.out}; last hash ${lastHash}`);
    }
    return EXIT.OK;
  });
}

interface Sink {
  /** Resolves false when the reader has gone away and nothing more can be written. */
  write(chunk: string): Promise<boolean>;
  close(): void;
  abort(): void;
}

/** stdout, honouring back-pressure; a closed pipe ends the export quietly rather than with EPIPE. */
function stdoutSink(): Sink {
  let gone = false;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    gone = true;
    process.stdout.emit('drain');
  });
  return {
    async write(chunk) {
      if (gone) return false;
      if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once('drain', r));
      return !gone;
    },
    close() {},
    abort() {},
  };
}

/** A file written beside its final name and renamed at the end, so a failed export never looks complete. */
function fileSink(out: string): Sink {
  const tmp = `${out}.${process.pid}.tmp`;
  let fd: number;
  try {
    fd = openSync(tmp, 'w', 0o600);
  } catch (err) {
    throw new CaduceusError('CAD_ERR_CLI_USAGE', `--out ${JSON.stringify(out)} cannot be written (${(err as NodeJS.ErrnoException).code ?? String(err)}); choose a file in an existing folder you can write.`);
  }
  return {
    async write(chunk) {
      const buf = Buffer.from(chunk);
      for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off);
      return true;
    },
    close() {
      closeSync(fd);
      renameSync(tmp, out);
    },
    abort() {
      try { closeSync(fd); } catch { /* already closed */ }
      rmSync(tmp, { force: true });
    },
  };
}
