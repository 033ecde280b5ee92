/**
 * The frozen prompt snapshot. At `sessionStart` the stores are rendered once and kept in kv under the
 * session id; every `buildPrompt` of that session adds exactly that text as a stable section, so writes
 * made during the session never change the cacheable prompt prefix (they show from the next session).
 * Kept in kv rather than in isolate memory because the isolate may restart mid-session, and each CLI
 * command is its own process. A resumed session keeps the snapshot it began with (its prompt prefix
 * stays the one its history was made with); the oldest snapshots beyond MAX_SNAPSHOTS are pruned.
 */
import type { PluginContext } from 'caduceus/sdk';
import { load, TARGETS, type Target } from './store.js';

export interface Snapshot {
  text: string;
  takenAt: number;
}

const INDEX = 'snapshots';
/** Sessions whose snapshot is kept; the oldest is dropped beyond this. */
export const MAX_SNAPSHOTS = 200;

const HEADINGS: Record<Target, string> = {
  memory: 'Your notes (kept with the memory tool, target "memory")',
  user: 'About the user (target "user")',
};

/** kv keys are at most 512 bytes: long session ids are replaced by a 64-bit FNV-1a digest. */
export function sessionKey(sessionId: string): string {
  if (sessionId.length <= 200) return sessionId;
  let h1 = 0x811c9dc5;
  let h2 = 0xcbf29ce4;
  for (let i = 0; i < sessionId.length; i++) {
    const c = sessionId.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x01000193 ^ 0x5bd1e995) >>> 0;
  }
  return `#${h1.toString(16).padStart(8, '0')}${h2.toString(16).padStart(8, '0')}`;
}

/** The prompt text for the stores as they are now; empty when both are empty. */
export function render(stores: Record<Target, readonly string[]>): string {
  const parts: string[] = [];
  for (const t of TARGETS) {
    if (!stores[t].length) continue;
    const items = stores[t].map((e) => `- ${e.trim().split('\n').join('\n  ')}`);
    parts.push(`${HEADINGS[t]}:\n${items.join('\n')}`);
  }
  if (!parts.length) return '';
  return `${parts.join('\n\n')}\n\nThis is a snapshot taken when the session started. Changes you make with the memory tool now are saved at once but appear here only from the next session.`;
}

export async function takeSnapshot(ctx: PluginContext, sessionId: string): Promise<Snapshot> {
  const [memory, user] = await Promise.all([load(ctx, 'memory'), load(ctx, 'user')]);
  const snap: Snapshot = { text: render({ memory: memory.entries, user: user.entries }), takenAt: ctx.clock.now() };
  const k = sessionKey(sessionId);
  await ctx.kv.set(`snapshot:${k}`, snap);
  const index = ((await ctx.kv.get<{ k: string; at: number }[]>(INDEX)) ?? []).filter((e) => e && e.k !== k);
  index.push({ k, at: snap.takenAt });
  while (index.length > MAX_SNAPSHOTS) await ctx.kv.delete(`snapshot:${index.shift()!.k}`);
  await ctx.kv.set(INDEX, index);
  return snap;
}

/** The session's snapshot; one is taken now if the session began before the plugin was enabled. */
export async function snapshotFor(ctx: PluginContext, sessionId: string): Promise<Snapshot> {
  const stored = await ctx.kv.get<Snapshot>(`snapshot:${sessionKey(sessionId)}`);
  return stored && typeof stored.text === 'string' ? stored : takeSnapshot(ctx, sessionId);
}
