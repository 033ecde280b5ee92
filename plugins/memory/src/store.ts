/**
 * The two memory stores, kept in the plugin's own kv namespace: `memory` (what the agent learned about
 * its work: conventions, decisions, lessons) and `user` (facts about the person it works for:
 * preferences, role, habits). Each is an ordered list of entries capped in characters, so the prompt
 * section built from them stays small and predictable.
 */
import type { PluginContext } from 'caduceus/sdk';

export type Target = 'memory' | 'user';
export const TARGETS: readonly Target[] = ['memory', 'user'];

export interface StoreState {
  entries: string[];
  updatedAt: number;
}

export interface StoreView {
  entries: string[];
  used: number;
  limit: number;
}

/** Default caps in characters; the operator may change them (plugins.memory.memoryChars / userChars). */
export const DEFAULT_LIMITS: Record<Target, number> = { memory: 3000, user: 1500 };

export function limitOf(ctx: PluginContext, target: Target): number {
  const v = ctx.config[target === 'memory' ? 'memoryChars' : 'userChars'];
  return typeof v === 'number' ? v : DEFAULT_LIMITS[target];
}

const key = (target: Target) => `store:${target}`;

export async function load(ctx: PluginContext, target: Target): Promise<StoreState> {
  const raw = await ctx.kv.get<StoreState>(key(target));
  return raw && Array.isArray(raw.entries) ? { entries: raw.entries.filter((e) => typeof e === 'string'), updatedAt: raw.updatedAt ?? 0 } : { entries: [], updatedAt: 0 };
}

export async function save(ctx: PluginContext, target: Target, entries: string[]): Promise<void> {
  await ctx.kv.set(key(target), { entries, updatedAt: ctx.clock.now() });
}

/** Characters used: the sum of the entries' lengths. */
export function usage(entries: readonly string[]): number {
  return entries.reduce((n, e) => n + e.length, 0);
}

export function view(ctx: PluginContext, target: Target, entries: string[]): StoreView {
  return { entries, used: usage(entries), limit: limitOf(ctx, target) };
}

/** An Error whose `code` survives the sandbox boundary (codes listed in docs/tools.md). */
export function memoryError(code: 'memory:full' | 'memory:not_found' | 'memory:ambiguous' | 'memory:unsafe' | 'memory:bad_args', message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** Text the caller passed, quoted exactly as given (only shortened), for messages. */
export function quote(text: string, max = 80): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/** A one-line preview of an entry for messages. */
export function preview(entry: string, max = 60): string {
  const flat = entry.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > max ? `${flat.slice(0, max)}…` : flat);
}
