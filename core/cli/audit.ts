/** `caduceus audit tail`: the newest audit rows, oldest first. */
import { CaduceusError } from '../errors.js';
import { c, printJson, statusColour, table, EXIT } from './output.js';
import { withKernel } from './open.js';

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
