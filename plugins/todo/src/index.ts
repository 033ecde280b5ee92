/**
 * todo: a task list the model keeps for the work of one session, so a long job stays on track. One
 * `todo` tool: add items, update their status (pending → in_progress → completed, or cancelled) or
 * text, list, clear. Lists are keyed by the session id the host passes every call (`call.sessionId`);
 * calls outside a session share one list named "default". Stored in the plugin's own kv namespace, so
 * a resumed session finds its list again. Enabled by default: it touches nothing but its own kv.
 */
import { definePlugin, defineTool, z, type PluginContext } from 'caduceus/sdk';

const STATUSES = ['pending', 'in_progress', 'completed', 'cancelled'] as const;
type Status = (typeof STATUSES)[number];

interface Item {
  id: number;
  content: string;
  status: Status;
}

interface List {
  nextId: number;
  items: Item[];
}

/** Most items one list holds; clearing finished items makes room. */
export const MAX_ITEMS = 100;
/** Session lists kept; the least recently written is dropped beyond this (the default list never is). */
const MAX_LISTS = 500;
const INDEX = 'lists';

const item = z.object({ id: z.int(), content: z.string(), status: z.enum(STATUSES) });

function todoError(code: 'todo:bad_args' | 'todo:not_found' | 'todo:full', message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** kv keys are at most 512 bytes: long session ids are replaced by a 64-bit FNV-1a digest. */
function sessionKey(sessionId: string): string {
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

function keyOf(sessionId: string | null): string {
  return sessionId === null ? 'list:default' : `list:session:${sessionKey(sessionId)}`;
}

async function loadList(ctx: PluginContext, key: string): Promise<List> {
  const raw = await ctx.kv.get<List>(key);
  return raw && Array.isArray(raw.items) ? { nextId: raw.nextId ?? raw.items.length + 1, items: raw.items } : { nextId: 1, items: [] };
}

async function saveList(ctx: PluginContext, key: string, list: List): Promise<void> {
  await ctx.kv.set(key, list);
  if (key === 'list:default') return;
  // Remember when each session list was written, and drop the stalest beyond MAX_LISTS.
  const index = ((await ctx.kv.get<{ k: string; at: number }[]>(INDEX)) ?? []).filter((e) => e && e.k !== key);
  index.push({ k: key, at: ctx.clock.now() });
  while (index.length > MAX_LISTS) await ctx.kv.delete(index.shift()!.k);
  await ctx.kv.set(INDEX, index);
}

function counts(items: readonly Item[]): Record<Status, number> {
  const c: Record<Status, number> = { pending: 0, in_progress: 0, completed: 0, cancelled: 0 };
  for (const i of items) c[i.status]++;
  return c;
}

const todo = defineTool({
  name: 'todo',
  description: 'Your task list for this session: plan multi-step work, then keep it current. Actions: add (items: [{content, status?}]), update (updates: [{id, status?, content?}]), list, clear (drops completed and cancelled items; all: true drops everything). Statuses: pending, in_progress, completed, cancelled. Keep one item in_progress at a time and mark items completed as soon as they are done. Every call returns the whole list.',
  input: z.strictObject({
    action: z.enum(['add', 'update', 'list', 'clear']),
    items: z.array(z.strictObject({
      content: z.string().min(1).max(500),
      status: z.enum(STATUSES).optional().describe('default pending'),
    })).min(1).max(50).optional().describe('new items, for add'),
    updates: z.array(z.strictObject({
      id: z.int().min(1),
      status: z.enum(STATUSES).optional(),
      content: z.string().min(1).max(500).optional(),
    })).min(1).max(50).optional().describe('changes by item id, for update'),
    all: z.boolean().optional().describe('clear: drop every item, not only finished ones'),
  }),
  output: z.object({
    list: z.string(),
    session: z.string().nullable(),
    message: z.string(),
    items: z.array(item),
    counts: z.object({ pending: z.int(), in_progress: z.int(), completed: z.int(), cancelled: z.int() }),
  }),
  mutating: true,
  idempotent: false,
  toolset: 'todo',
  timeoutMs: 10_000,
  maxResultBytes: 256 * 1024,
  auditKind: 'todo',
  availability: { permissions: ['kv'] },
  handler: async ({ action, items, updates, all }, ctx, call) => {
    const key = keyOf(call.sessionId);
    const list = await loadList(ctx, key);
    let message: string;
    if (action === 'add') {
      if (!items?.length) throw todoError('todo:bad_args', 'todo: action "add" needs items, e.g. [{"content":"write the tests"}].');
      if (list.items.length + items.length > MAX_ITEMS) {
        const c = counts(list.items);
        throw todoError('todo:full', `todo: the list holds ${list.items.length} of ${MAX_ITEMS} items (${c.completed} completed, ${c.cancelled} cancelled), so ${items.length} more do not fit. Use action "clear" to drop finished items first.`);
      }
      const added = items.map((i) => ({ id: list.nextId++, content: i.content.trim() || i.content, status: i.status ?? 'pending' }));
      list.items.push(...added);
      message = `added ${added.map((i) => `#${i.id}`).join(', ')}`;
    } else if (action === 'update') {
      if (!updates?.length) throw todoError('todo:bad_args', 'todo: action "update" needs updates, e.g. [{"id":1,"status":"completed"}].');
      const missing = updates.filter((u) => !list.items.some((i) => i.id === u.id)).map((u) => u.id);
      if (missing.length) {
        throw todoError('todo:not_found', `todo: no item with id ${missing.join(', ')} in this list (ids: ${list.items.map((i) => i.id).join(', ') || 'none'}). Nothing was changed; use action "list" to see the items.`);
      }
      const empty = updates.find((u) => u.status === undefined && u.content === undefined);
      if (empty) throw todoError('todo:bad_args', `todo: the update for item ${empty.id} changes nothing; give a status or a content. Nothing was changed.`);
      for (const u of updates) {
        const target = list.items.find((i) => i.id === u.id)!;
        if (u.status) target.status = u.status;
        if (u.content) target.content = u.content;
      }
      message = `updated ${updates.map((u) => `#${u.id}`).join(', ')}`;
    } else if (action === 'clear') {
      const before = list.items.length;
      list.items = all ? [] : list.items.filter((i) => i.status === 'pending' || i.status === 'in_progress');
      message = `cleared ${before - list.items.length} ${all ? '' : 'finished '}item${before - list.items.length === 1 ? '' : 's'}`;
    } else {
      message = `${list.items.length} item${list.items.length === 1 ? '' : 's'}`;
    }
    if (action !== 'list') await saveList(ctx, key, list);
    return {
      list: call.sessionId === null ? 'default' : `session:${call.sessionId}`,
      session: call.sessionId,
      message,
      items: list.items,
      counts: counts(list.items),
    };
  },
});

export default definePlugin({ tools: [todo] });
