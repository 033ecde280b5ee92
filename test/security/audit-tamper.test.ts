/**
 * The tamper-evident audit log through the built CLI against a real store: a home gets rows the way an
 * operator makes them (install and enable examples/hello, call hello_greet), then a copy of it is edited
 * with better-sqlite3 directly, as someone with write access to caduceus.db would, and
 * `caduceus audit verify` must name the row and what was done to it. `audit export --jsonl` must write
 * every row with hashes that chain, and secrets in audit detail must never reach the journal or the store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { cpSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { makeHome, ROOT, tempDir, type CliResult, type Home } from '../helpers/cli.js';

const GENESIS = '0'.repeat(64);
const CONTENT = 'ts, kind, plugin, tool, caller, outcome, code, duration_us, args_digest, result_digest, detail';

describe('tamper-evident audit through the caduceus CLI', () => {
  let home: Home;
  const copies: string[] = [];
  let calls: number[] = [];
  let last = 0;

  beforeAll(() => {
    home = makeHome('cad-audit-tamper-');
    expect(home.run(['plugins', 'install', 'examples/hello']).code).toBe(0);
    expect(home.run(['plugins', 'enable', 'hello', '--yes']).code).toBe(0);
    for (const name of ['Ada', 'Bo', 'Cy', 'Di', 'Ed']) {
      const r = home.run(['tools', 'call', 'hello_greet', JSON.stringify({ name }), '--json']);
      expect(r.code, r.stderr).toBe(0);
    }
    const db = new Database(join(home.dir, 'caduceus.db'), { readonly: true });
    calls = db.prepare("SELECT seq FROM audit WHERE kind = 'tool.call' ORDER BY seq").pluck().all() as number[];
    last = db.prepare('SELECT max(seq) FROM audit').pluck().get() as number;
    db.close();
    expect(calls.length).toBe(5);
    expect(calls[4]).toBeLessThan(last); // the last call is followed by its plugin.unload row
  });
  afterAll(() => {
    home.cleanup();
    for (const d of copies) rmSync(d, { recursive: true, force: true });
  });

  /** A copy of the home whose store `change` edits directly; returns a runner for it. */
  function tampered(change: (db: Database.Database) => void): (args: string[]) => CliResult {
    const dir = tempDir('cad-audit-tampered-');
    copies.push(dir);
    cpSync(home.dir, dir, { recursive: true });
    const db = new Database(join(dir, 'caduceus.db'));
    change(db);
    db.close();
    return (args) => home.run(args, { env: { CADUCEUS_HOME: dir } });
  }

  function expectBad(run: (args: string[]) => CliResult, seq: number, problem: string): void {
    const r = run(['audit', 'verify']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain('CAD_ERR_AUDIT_TAMPERED');
    expect(r.stderr).toContain(`row seq ${seq} (${problem})`);
    expect(r.stderr).toContain('caduceus audit export --jsonl --since'); // how to investigate
    const j = run(['audit', 'verify', '--json']);
    expect(j.code).toBe(1);
    expect(j.json()).toMatchObject({ ok: false, firstBad: { seq, problem, detail: expect.any(String) }, error: { code: 'CAD_ERR_AUDIT_TAMPERED' } });
  }

  it('passes an untouched log, exit 0', () => {
    const r = home.run(['audit', 'verify']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`✓ ${last} rows, chain intact`);
    expect(home.run(['audit', 'verify', '--json']).json()).toMatchObject({ ok: true, rows: last, head: { seq: last, hash: expect.stringMatching(/^[0-9a-f]{64}$/) } });
  });

  it('names a row whose field was edited', () => {
    const seq = calls[2]!;
    expectBad(tampered((db) => db.prepare("UPDATE audit SET outcome = 'denied', code = 'CAD_ERR_TOOL_DENIED' WHERE seq = ?").run(seq)), seq, 'edited');
    expectBad(tampered((db) => db.prepare('UPDATE audit SET ts = ts - 60000 WHERE seq = ?').run(seq)), seq, 'edited');
  });

  it('names a deleted middle row', () => {
    const seq = calls[1]!;
    expectBad(tampered((db) => db.prepare('DELETE FROM audit WHERE seq = ?').run(seq)), seq, 'deleted');
  });

  it('catches two rows whose contents were swapped, and two rows swapped whole', () => {
    const [a, b] = [calls[0]! - 1, calls[3]!];
    const swapContent = tampered((db) => {
      const get = db.prepare(`SELECT ${CONTENT} FROM audit WHERE seq = ?`);
      const set = db.prepare(`UPDATE audit SET ${CONTENT.split(', ').map((c) => `${c} = @${c}`).join(', ')} WHERE seq = @seq`);
      const [ra, rb] = [get.get(a) as object, get.get(b) as object];
      set.run({ ...rb, seq: a });
      set.run({ ...ra, seq: b });
    });
    expectBad(swapContent, a, 'reordered');
    const swapRows = tampered((db) => db.exec(`UPDATE audit SET seq = -1 WHERE seq = ${a}; UPDATE audit SET seq = ${a} WHERE seq = ${b}; UPDATE audit SET seq = ${b} WHERE seq = -1;`));
    expectBad(swapRows, a, 'reordered');
  });

  it('names the deleted newest row, also after later commands append more rows', () => {
    const run = tampered((db) => db.prepare('DELETE FROM audit WHERE seq = ?').run(last));
    expectBad(run, last, 'deleted');
    expect(run(['tools', 'call', 'hello_greet', '{"name":"Fy"}']).code).toBe(0);
    expectBad(run, last, 'deleted');
  });

  it('exports every row as one JSON line whose hashes chain and can be recomputed from the line', () => {
    const r = home.run(['audit', 'export', '--jsonl']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.length).toBe(last);
    const rows = lines.map((l) => JSON.parse(l));
    let prev = GENESIS;
    rows.forEach((row, i) => {
      expect(row.seq).toBe(i + 1);
      expect(row.prevHash).toBe(prev);
      const canonical = [row.seq, row.ts, row.kind, row.plugin ?? null, row.tool ?? null, row.caller ?? null, row.outcome, row.code ?? null,
        row.durationUs ?? null, row.argsDigest ?? null, row.resultDigest ?? null, row.detail === undefined ? null : JSON.stringify(row.detail)];
      expect(row.hash, `seq ${row.seq}`).toBe(createHash('sha256').update(prev + JSON.stringify(canonical)).digest('hex'));
      prev = row.hash;
    });
    expect(home.run(['audit', 'verify', '--json']).json().head.hash).toBe(prev);
    expect(rows.filter((x) => x.kind === 'tool.call').every((x) => /^sha256:/.test(x.argsDigest) && !('args' in x))).toBe(true);
  });

  it('exports to a file and from a seq on', () => {
    const out = join(tempDir('cad-audit-export-'), 'audit.jsonl');
    copies.push(join(out, '..'));
    const r = home.run(['audit', 'export', '--jsonl', '--out', out, '--since', String(calls[0])]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`wrote ${last - calls[0]!} rows`);
    const rows = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((x) => x.seq)).toEqual(Array.from({ length: last - calls[0]! }, (_, i) => calls[0]! + 1 + i));
    const bad = home.run(['audit', 'export', '--since', 'abc']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('CAD_ERR_CLI_USAGE');
    expect(bad.stderr).toContain('"abc"');
  });
});

describe('redaction of audit detail', () => {
  it('redacts secret-looking values before the journal write and the hash, keeping the rest', async () => {
    const api = await import(join(ROOT, 'dist/core/index.js'));
    const dir = tempDir('cad-audit-redact-');
    const k = new api.Kernel({ home: dir });
    try {
      k.audit({ ts: Date.now(), kind: 'test.secret', outcome: 'ok', argsDigest: 'sha256:0123', detail: { apiKey: 'SEKRIT-1', headers: { Authorization: 'Bearer SEKRIT-2' }, url: 'https://x.example/?token=SEKRIT-3&q=kept', note: 'kept' } });
      const journal = readdirSync(join(dir, 'audit-journal')).map((f) => readFileSync(join(dir, 'audit-journal', f), 'utf8')).join('');
      expect(journal).toContain('test.secret');
      expect(journal).not.toContain('SEKRIT');
      const [row] = k.tailAudit(1, { kind: 'test.secret' });
      expect(row).toMatchObject({ argsDigest: 'sha256:0123', detail: { apiKey: '[redacted]', headers: { Authorization: '[redacted]' }, note: 'kept' } });
      expect(row.detail.url).toContain('q=kept');
      expect(JSON.stringify(row)).not.toContain('SEKRIT');
      expect(k.verifyAudit()).toMatchObject({ ok: true });
    } finally {
      await k.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
