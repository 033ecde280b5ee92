/**
 * `caduceus files undo [--steps N] [--force]` and `caduceus files history [--all]`: the operator's side
 * of the checkpoints write_file and patch record. Undo works on the files of the workspace the command
 * runs in (the current folder), newest write first.
 */
import { defineCommand, type CommandIO, type PluginContext } from 'caduceus/sdk';
import { history, serial, undo } from './checkpoints.js';

const USAGE = 'usage: caduceus files undo [--steps N] [--force] | caduceus files history [--all]';

function parse(args: string[]): { steps: number; force: boolean; all: boolean } | string {
  let steps = 1;
  let force = false;
  let all = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = /^--steps=(.*)$/.exec(a);
    if (a === '--steps' || a === '-n' || eq) {
      const v = eq ? eq[1]! : args[++i];
      if (v === undefined || !/^\d+$/.test(v) || Number(v) < 1) return `--steps needs a whole number of at least 1, got ${JSON.stringify(v ?? '')}`;
      steps = Number(v);
    } else if (a === '--force') force = true;
    else if (a === '--all') all = true;
    else return `unknown argument ${JSON.stringify(a)}`;
  }
  return { steps, force, all };
}

async function runHistory(ctx: PluginContext, io: CommandIO, all: boolean): Promise<number> {
  const root = await ctx.fs.realpath('.');
  const list = await history(ctx, all ? null : root);
  if (io.json) {
    io.print(JSON.stringify(list.map(({ seq, path, asGiven, existed, tool, sessionId, ts }) => ({ seq, path, asGiven, existed, tool, sessionId, ts }))));
    return 0;
  }
  if (list.length === 0) {
    io.print(all ? 'No checkpoints: write_file and patch have not changed any file yet.' : `No checkpoints for files under ${root}. (caduceus files history --all lists every workspace.)`);
    return 0;
  }
  for (const c of list) {
    io.print(`${String(c.seq).padStart(4)}  ${new Date(c.ts).toISOString()}  ${c.tool.padEnd(10)} ${c.existed ? 'changed' : 'created'}  ${all ? c.path : c.asGiven}${c.sessionId ? `  (session ${c.sessionId})` : ''}`);
  }
  return 0;
}

async function runUndo(ctx: PluginContext, io: CommandIO, steps: number, force: boolean): Promise<number> {
  const root = await ctx.fs.realpath('.');
  const r = await serial(() => undo(ctx, root, steps, force));
  if (io.json) io.print(JSON.stringify(r));
  else {
    if (r.undone.length === 0 && !r.stopped) io.print(`Nothing to undo: no checkpoints for files under ${root}.`);
    for (const s of r.undone) io.print(`${s.action === 'restored' ? 'restored' : 'removed '} ${s.path} (checkpoint ${s.seq})`);
    if (r.stopped) io.error(`stopped: ${r.stopped}.`);
    if (r.undone.length > 0 || r.stopped) io.print(`${r.remaining} checkpoint(s) left for this workspace.`);
  }
  return r.stopped ? 1 : 0;
}

export const filesCommand = defineCommand({
  name: 'files',
  description: 'Roll back file writes made by the files tools (write_file, patch)',
  subcommands: [
    { name: 'undo', description: 'Undo the last write(s) to files in this workspace, newest first', usage: 'files undo [--steps N] [--force]' },
    { name: 'history', description: 'List the recorded writes (checkpoints), newest first', usage: 'files history [--all]' },
  ],
  timeoutMs: 120_000,
  run: async ([sub, ...rest], ctx, io) => {
    const opts = parse(rest);
    if (typeof opts === 'string' || (sub !== 'undo' && sub !== 'history')) {
      io.error(typeof opts === 'string' && (sub === 'undo' || sub === 'history') ? `${opts}. ${USAGE}` : USAGE);
      return 2;
    }
    return sub === 'undo' ? runUndo(ctx, io, opts.steps, opts.force) : runHistory(ctx, io, opts.all);
  },
});
