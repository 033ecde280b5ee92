// Child process of bench/run.mjs: appends numbered audit events to a Caduceus home's store in a tight
// loop, through the public kernel API, and after every `every` events writes to stdout the number of the
// last event whose `kernel.audit()` call has returned (the audit log promises that such an event survives
// a SIGKILL of the process). The parent SIGKILLs it mid-loop, reopens the store and checks that every
// reported event is there.
//   node --no-node-snapshot bench/audit-writer-child.mjs <home> [every]
import { writeSync } from 'node:fs';
import { Kernel } from '../dist/core/index.js';

const home = process.argv[2];
const every = Number(process.argv[3] ?? 250);
if (!home) throw new Error('usage: audit-writer-child.mjs <home> [every]');

function report(line) {
  const buf = Buffer.from(line);
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(1, buf, off);
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err;
    }
  }
}

const k = new Kernel({ home });
report('ready\n');
for (let n = 1; ; n++) {
  k.audit({ ts: Date.now(), kind: 'bench.sigkill', plugin: 'bench', tool: 'bench_tool', caller: 'operator', outcome: 'ok', durationUs: n });
  if (n % every === 0) report(`${n}\n`);
}
