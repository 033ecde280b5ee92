/**
 * `caduceus secrets set|list|remove`: the operator's named secrets. Values are read from stdin (piped,
 * or typed without echo at a terminal), never from the command line, where they would land in shell
 * history and `ps`.
 */
import { CaduceusError } from '../errors.js';
import { checkName } from '../secrets.js';
import { c, printJson, table, EXIT } from './output.js';
import { withKernel } from './open.js';

async function readValue(name: string): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  }
  process.stderr.write(`Value for ${name} (not echoed): `);
  return new Promise((resolve) => {
    let value = '';
    process.stdin.setRawMode(true);
    process.stdin.resume();
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          process.stdin.setRawMode(false);
          process.stdin.pause();
          process.stdin.off('data', onData);
          process.stderr.write('\n');
          resolve(value);
          return;
        }
        if (ch === '\u0003') process.exit(130);
        value = ch === '\u007f' ? value.slice(0, -1) : value + ch;
      }
    };
    process.stdin.on('data', onData);
  });
}

export async function set(name: string, opts: { json?: boolean }): Promise<number> {
  checkName(name);
  const value = await readValue(name);
  return withKernel(async (k) => {
    const existed = k.secrets.get(name) !== undefined;
    k.secrets.set(name, value);
    k.audit({ ts: Date.now(), kind: 'secret.set', outcome: 'ok', caller: 'operator', detail: { name, replaced: existed } });
    if (opts.json) printJson({ ok: true, name, replaced: existed });
    else console.log(`${c.green('✓')} ${existed ? 'replaced' : 'stored'} secret ${name}`);
    return EXIT.OK;
  });
}

/** Names only, with the plugins whose grants can read each one. */
export async function list(opts: { json?: boolean }): Promise<number> {
  return withKernel(async (k) => {
    const readers = (name: string) => k.plugins().filter((p) => p.grants.includes(`secret:${name}`)).map((p) => p.id);
    const rows = k.secrets.names().map((name) => ({ name, readableBy: readers(name) }));
    if (opts.json) { printJson(rows); return EXIT.OK; }
    if (rows.length === 0) { console.log('No secrets stored. Add one with: printf %s "$VALUE" | caduceus secrets set NAME'); return EXIT.OK; }
    console.log(table(rows.map((r) => [r.name, r.readableBy.join(', ') || c.dim('(no plugin granted)')]), ['NAME', 'READABLE BY']));
    return EXIT.OK;
  });
}

export async function remove(name: string, opts: { json?: boolean }): Promise<number> {
  return withKernel(async (k) => {
    if (!k.secrets.remove(name)) {
      throw new CaduceusError('CAD_ERR_SECRET_INVALID', `No secret is named '${name}'. Run \`caduceus secrets list\` to see the names.`);
    }
    k.audit({ ts: Date.now(), kind: 'secret.remove', outcome: 'ok', caller: 'operator', detail: { name } });
    if (opts.json) printJson({ ok: true, name });
    else console.log(`${c.green('✓')} removed secret ${name}`);
    return EXIT.OK;
  });
}
