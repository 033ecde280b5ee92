/**
 * The audit log loses nothing on SIGKILL: every event whose append returned is in the store after the
 * next kernel opens it, including events still in the journal when the process died (never duplicated).
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { existsSync, readdirSync } from 'node:fs';
import { ROOT, tempDir } from '../helpers/cli.js';

const api = await import(join(ROOT, 'dist/core/index.js'));

describe('audit durability', () => {
  it('keeps every reported event after SIGKILL, exactly once', async () => {
    const home = tempDir('cad-audit-kill-');
    const child = spawn(process.execPath, ['--no-node-snapshot', join(ROOT, 'test/fixtures/scripts/audit-writer.mjs'), join(ROOT, 'dist/core/index.js'), home], { stdio: ['ignore', 'pipe', 'inherit'] });
    let reported = 0;
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        const last = d.toString().trim().split('\n').pop();
        reported = Math.max(reported, Number(last));
        if (reported >= 19_999) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve());
    });
    expect(reported).toBeGreaterThanOrEqual(19_999);
    expect(readdirSync(join(home, 'audit-journal')).length).toBe(1);
    const k = new api.Kernel({ home });
    try {
      const rows = k.store.db.prepare("SELECT json_extract(detail, '$.i') AS i FROM audit WHERE kind = 'test.event' ORDER BY seq").pluck().all() as number[];
      expect(rows.length).toBeGreaterThanOrEqual(reported);
      expect(new Set(rows).size).toBe(rows.length);
      for (let i = 0; i < rows.length; i++) expect(rows[i]).toBe(i + 1);
    } finally {
      await k.close();
    }
    // The recovered journal is removed; only the (now closed) kernel's own one existed and is gone too.
    expect(readdirSync(join(home, 'audit-journal'))).toEqual([]);
    expect(existsSync(join(home, 'caduceus.db'))).toBe(true);
  });
});
