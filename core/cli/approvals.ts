/** `caduceus approvals list|forget`: the answers kept with "always", and how to take one back. */
import { CaduceusError } from '../errors.js';
import { forgetApproval, rememberedApprovals } from '../approvals.js';
import { c, printJson, table, EXIT } from './output.js';
import { withKernel } from './open.js';

export async function list(opts: { json?: boolean }): Promise<number> {
  return withKernel(async (k) => {
    const rows = rememberedApprovals(k);
    if (opts.json) { printJson(rows); return EXIT.OK; }
    if (rows.length === 0) { console.log('No approval is remembered. Answering "always" to an approval question keeps it here.'); return EXIT.OK; }
    console.log(table(rows.map((r) => [r.kind, r.subject, new Date(r.since).toISOString()]), ['KIND', 'SUBJECT', 'SINCE']));
    return EXIT.OK;
  });
}

export async function forget(kind: string, subject: string, opts: { json?: boolean }): Promise<number> {
  if (kind !== 'tool' && kind !== 'command') {
    throw new CaduceusError('CAD_ERR_CLI_USAGE', `Approval kind ${JSON.stringify(kind)} is not "tool" or "command"; see \`caduceus approvals list\`.`);
  }
  return withKernel(async (k) => {
    if (!forgetApproval(k, kind, subject)) {
      throw new CaduceusError('CAD_ERR_CLI_USAGE', `No remembered ${kind} approval for ${JSON.stringify(subject)}; \`caduceus approvals list\` shows them (quote the subject exactly).`);
    }
    k.audit({ ts: Date.now(), kind: 'approval.forget', outcome: 'ok', caller: 'operator', detail: { request: kind, subject: subject.slice(0, 300) } });
    if (opts.json) printJson({ ok: true, kind, subject });
    else console.log(`${c.green('✓')} forgot the "always" answer for ${kind} ${JSON.stringify(subject)}; it will be asked again`);
    return EXIT.OK;
  });
}
