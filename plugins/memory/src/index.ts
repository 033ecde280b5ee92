/**
 * memory: notes the agent keeps across sessions, in two stores (`memory` for its own notes, `user` for
 * facts about the user), edited with one `memory` tool (add / replace / remove / list). Every write is
 * scanned by the host's injection scanner and refused when dangerous, because these notes reach the
 * model in every later session. The stores enter the prompt as a frozen snapshot taken at session start
 * (see snapshot.ts). Enabled by default: it touches only its own kv namespace and the prompt.
 */
import { definePlugin, defineTool, z, type PluginContext } from 'caduceus/sdk';
import { limitOf, load, memoryError, preview, quote, save, TARGETS, usage, view, type StoreView, type Target } from './store.js';
import { snapshotFor, takeSnapshot, sessionKey } from './snapshot.js';

const storeView = z.object({ entries: z.array(z.string()), used: z.int(), limit: z.int() });

let host: PluginContext | undefined;

/** The index of the one entry containing `oldText`; identical duplicates count as one. */
function findOne(entries: readonly string[], oldText: string, target: Target): number {
  const hits = entries.flatMap((e, i) => (e.includes(oldText) ? [i] : []));
  if (!hits.length) {
    throw memoryError('memory:not_found', `memory: no entry in "${target}" contains ${quote(oldText)}. Use action "list" to see the entries, and pass part of one as oldText.`);
  }
  const distinct = [...new Set(hits.map((i) => entries[i]!))];
  if (distinct.length > 1) {
    throw memoryError('memory:ambiguous', `memory: ${quote(oldText)} matches ${distinct.length} different entries in "${target}": ${distinct.slice(0, 5).map((e, n) => `${n + 1}) ${preview(e)}`).join(', ')}. Pass a longer oldText that only one of them contains.`);
  }
  return hits[0]!;
}

/** Refuses text the scanner rates dangerous; returns a warning for caution. */
async function checkText(ctx: PluginContext, text: string): Promise<string | undefined> {
  const scan = await ctx.safety.scanText(text);
  const first = scan.findings.find((f) => f.rule === scan.rule);
  const where = `rule ${scan.rule}${first ? `: "${first.excerpt}"` : ''}`;
  if (scan.verdict === 'dangerous') {
    throw memoryError('memory:unsafe', `memory: refused to store this entry: the injection scanner rates it dangerous (${where}). Memory is shown to the model in every later session, so it may not hold text that overrides instructions, hides content or leaks secrets. Store the fact itself in plain words.`);
  }
  return scan.verdict === 'caution' ? `stored, but the injection scanner flags it as caution (${where})` : undefined;
}

function checkRoom(ctx: PluginContext, target: Target, entries: readonly string[], adding: number, removing = 0): void {
  const limit = limitOf(ctx, target);
  const used = usage(entries);
  if (used - removing + adding > limit) {
    const key = target === 'memory' ? 'memoryChars' : 'userChars';
    throw memoryError('memory:full', `memory: store "${target}" is full: ${used} of ${limit} characters used by ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}; this change adds ${adding - removing} and only ${limit - used} are free. Remove or shorten entries first (actions "remove" and "replace"; "list" shows them), or ask the operator to raise plugins.memory.${key}.`);
  }
}

const memory = defineTool({
  name: 'memory',
  description: 'Your long-term memory across sessions. Two stores: "memory" for your own notes (conventions, decisions, lessons learned about this work) and "user" for facts about the user (preferences, role, habits). Actions: add (content), replace (oldText = a unique part of one entry, content = its new text), remove (oldText), list. Keep entries short and factual; each store has a character limit. What is stored is shown to you at the start of every later session; changes made now appear from the next session.',
  input: z.strictObject({
    action: z.enum(['add', 'replace', 'remove', 'list']),
    target: z.enum(['memory', 'user']).optional().describe('which store; default "memory" (list without target shows both)'),
    content: z.string().min(1).max(16_000).optional().describe('the entry text, for add and replace'),
    oldText: z.string().min(1).max(16_000).optional().describe('a part of the entry to change, unique among the entries, for replace and remove'),
  }),
  output: z.object({
    action: z.enum(['add', 'replace', 'remove', 'list']),
    message: z.string(),
    stores: z.object({ memory: storeView.optional(), user: storeView.optional() }),
    warning: z.string().optional(),
  }),
  mutating: true,
  idempotent: false,
  toolset: 'memory',
  timeoutMs: 10_000,
  maxResultBytes: 256 * 1024,
  auditKind: 'memory',
  availability: { permissions: ['kv'] },
  handler: async ({ action, target, content, oldText }, ctx) => {
    if (action === 'list') {
      const stores: Partial<Record<Target, StoreView>> = {};
      for (const t of target ? [target] : TARGETS) stores[t] = view(ctx, t, (await load(ctx, t)).entries);
      const count = Object.values(stores).reduce((n, s) => n + s!.entries.length, 0);
      return { action, message: `${count} ${count === 1 ? 'entry' : 'entries'}`, stores };
    }
    const t: Target = target ?? 'memory';
    const { entries } = await load(ctx, t);
    let message: string;
    let warning: string | undefined;
    if (action === 'add') {
      const text = content?.trim();
      if (!text) throw memoryError('memory:bad_args', 'memory: action "add" needs content, the text of the new entry.');
      if (entries.includes(text)) {
        return { action, message: `already stored in "${t}"; nothing changed`, stores: { [t]: view(ctx, t, entries) } };
      }
      warning = await checkText(ctx, text);
      checkRoom(ctx, t, entries, text.length);
      entries.push(text);
      message = `added to "${t}"`;
    } else if (action === 'replace') {
      const text = content?.trim();
      if (!oldText || !text) throw memoryError('memory:bad_args', 'memory: action "replace" needs oldText (a unique part of the entry to change) and content (its new text).');
      const i = findOne(entries, oldText, t);
      warning = await checkText(ctx, text);
      checkRoom(ctx, t, entries, text.length, entries[i]!.length);
      const before = entries[i]!;
      // Replacing an entry with the text of another one merges the two.
      if (entries.includes(text) && before !== text) entries.splice(i, 1);
      else entries[i] = text;
      message = `replaced ${preview(before)} in "${t}"`;
    } else {
      if (!oldText) throw memoryError('memory:bad_args', 'memory: action "remove" needs oldText, a unique part of the entry to remove.');
      const i = findOne(entries, oldText, t);
      const [gone] = entries.splice(i, 1);
      message = `removed ${preview(gone!)} from "${t}"`;
    }
    await save(ctx, t, entries);
    const out: { action: typeof action; message: string; stores: Partial<Record<Target, StoreView>>; warning?: string } = {
      action, message: `${message}; it appears in the prompt from the next session`, stores: { [t]: view(ctx, t, entries) },
    };
    if (warning) out.warning = warning;
    return out;
  },
});

export default definePlugin({
  tools: [memory],
  setup: (ctx) => {
    host = ctx;
  },
  hooks: {
    sessionStart: {
      handler: async ({ sessionId, resumed }) => {
        const ctx = host!;
        // A resumed session keeps the snapshot it began with, so its prompt prefix does not change.
        if (resumed && (await ctx.kv.get(`snapshot:${sessionKey(sessionId)}`)) !== null) return;
        await takeSnapshot(ctx, sessionId);
      },
    },
    buildPrompt: {
      handler: async (prompt) => {
        const snap = await snapshotFor(host!, prompt.sessionId);
        if (!snap.text) return undefined;
        const sections = prompt.sections.filter((s) => s.id !== 'memory');
        sections.push({ id: 'memory', title: 'Memory', text: snap.text, stable: true });
        return { ...prompt, sections };
      },
    },
  },
});
