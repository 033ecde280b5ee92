/**
 * Checkpoints: before write_file or patch changes a file, what it held (or that it did not exist) is kept
 * in the plugin's kv, so `caduceus files undo` can roll the last writes back, newest first. Each record
 * names the file by its real path (so undo from another folder cannot touch the wrong file), and the
 * fingerprint of what the write left; undo refuses a file that changed since, unless forced.
 *
 * Layout in kv: `cp:index` is the list of records (oldest first), `cp:seq` the last number used, and
 * `cp:<seq>:<n>` the previous content in pieces small enough for kv's 1 MiB value limit. The oldest
 * records are dropped past `maxCheckpoints` records or `maxCheckpointBytes` of kept content.
 */
import type { PluginContext } from 'caduceus/sdk';
import { fail, fingerprint } from './text.js';

export interface Checkpoint {
  seq: number;
  /** Real path of the file. */
  path: string;
  /** The path as the caller wrote it. */
  asGiven: string;
  existed: boolean;
  /** Characters of previous content kept (0 when it did not exist). */
  chars: number;
  chunks: number;
  /** Fingerprint of the content the write left. */
  after: string;
  tool: string;
  sessionId: string | null;
  ts: number;
}

const INDEX = 'cp:index';
const SEQ = 'cp:seq';
/** Characters per kv piece: even if every character became a 6-byte JSON escape, a piece stays under 1 MiB. */
const CHUNK = 128 * 1024;
const DEFAULT_MAX = 200;
const DEFAULT_BYTES = 64 * 1024 * 1024;

let queue: Promise<unknown> = Promise.resolve();

/**
 * Runs writes (and undos) one at a time: two calls changing files at once would interleave their
 * checkpoint bookkeeping in kv.
 */
export function serial<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn, fn);
  queue = run.catch(() => undefined);
  return run;
}

async function index(ctx: PluginContext): Promise<Checkpoint[]> {
  return (await ctx.kv.get<Checkpoint[]>(INDEX)) ?? [];
}

/** Records the state before a write; returns the record (call `drop` if the write then fails). */
export async function record(ctx: PluginContext, p: { path: string; asGiven: string; previous: string | null; next: string; tool: string; sessionId: string | null }): Promise<Checkpoint> {
  const seq = ((await ctx.kv.get<number>(SEQ)) ?? 0) + 1;
  await ctx.kv.set(SEQ, seq);
  const prev = p.previous ?? '';
  const chunks = Math.ceil(prev.length / CHUNK);
  for (let i = 0; i < chunks; i++) await ctx.kv.set(`cp:${seq}:${i}`, prev.slice(i * CHUNK, (i + 1) * CHUNK));
  const cp: Checkpoint = {
    seq, path: p.path, asGiven: p.asGiven, existed: p.previous !== null, chars: prev.length, chunks,
    after: fingerprint(p.next), tool: p.tool, sessionId: p.sessionId, ts: ctx.clock.now(),
  };
  const list = [...await index(ctx), cp];
  const max = positive(ctx.config.maxCheckpoints, DEFAULT_MAX);
  const budget = positive(ctx.config.maxCheckpointBytes, DEFAULT_BYTES);
  let total = list.reduce((n, c) => n + c.chars, 0);
  // The newest record is always kept, even alone over the budget: the write it guards is about to happen.
  while (list.length > 1 && (list.length > max || total > budget)) {
    const old = list.shift()!;
    total -= old.chars;
    await removeChunks(ctx, old);
  }
  await ctx.kv.set(INDEX, list);
  return cp;
}

export async function drop(ctx: PluginContext, cp: Checkpoint): Promise<void> {
  await removeChunks(ctx, cp);
  await ctx.kv.set(INDEX, (await index(ctx)).filter((c) => c.seq !== cp.seq));
}

async function removeChunks(ctx: PluginContext, cp: Checkpoint): Promise<void> {
  for (let i = 0; i < cp.chunks; i++) await ctx.kv.delete(`cp:${cp.seq}:${i}`);
}

async function previousContent(ctx: PluginContext, cp: Checkpoint): Promise<string> {
  let text = '';
  for (let i = 0; i < cp.chunks; i++) {
    const part = await ctx.kv.get<string>(`cp:${cp.seq}:${i}`);
    if (typeof part !== 'string') throw fail('files:checkpoint_lost', `checkpoint ${cp.seq} of ${cp.path} is incomplete in the store (piece ${i} is missing); it cannot be restored.`);
    text += part;
  }
  return text;
}

/** The checkpoints of files under `root` (a real path), newest first; all of them when root is null. */
export async function history(ctx: PluginContext, root: string | null): Promise<Checkpoint[]> {
  return (await index(ctx)).filter((c) => root === null || within(root, c.path)).reverse();
}

export interface UndoStep {
  seq: number;
  path: string;
  action: 'restored' | 'removed';
}

export interface UndoResult {
  undone: UndoStep[];
  /** Why undo stopped early, when it did. */
  stopped?: string;
  remaining: number;
}

/**
 * Rolls back the newest `steps` writes to files under `root`, newest first. Stops at the first file that
 * changed since its write (unless `force`): an older checkpoint only makes sense once the newer ones are
 * undone.
 */
export async function undo(ctx: PluginContext, root: string, steps: number, force: boolean): Promise<UndoResult> {
  const undone: UndoStep[] = [];
  let stopped: string | undefined;
  for (const cp of (await history(ctx, root)).slice(0, steps)) {
    const st = await ctx.fs.stat(cp.path);
    if (st && st.type !== 'file') {
      stopped = `${cp.asGiven} is no longer a file (checkpoint ${cp.seq}); nothing was restored from there on`;
      break;
    }
    const current = st ? await ctx.fs.read(cp.path) : null;
    if (!force && (current === null ? 'missing' : fingerprint(current)) !== cp.after) {
      stopped = `${cp.asGiven} changed after ${cp.tool} wrote it (checkpoint ${cp.seq}), so undo stopped there to keep that change. Pass --force to roll it back anyway`;
      break;
    }
    if (cp.existed) {
      await ctx.fs.write(cp.path, await previousContent(ctx, cp));
      undone.push({ seq: cp.seq, path: cp.asGiven, action: 'restored' });
    } else {
      await ctx.fs.remove(cp.path);
      undone.push({ seq: cp.seq, path: cp.asGiven, action: 'removed' });
    }
    await drop(ctx, cp);
  }
  const remaining = (await history(ctx, root)).length;
  return stopped ? { undone, stopped, remaining } : { undone, remaining };
}

function within(root: string, path: string): boolean {
  const base = root.endsWith('/') ? root : `${root}/`;
  return path === root || path.startsWith(base);
}

function positive(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : fallback;
}
