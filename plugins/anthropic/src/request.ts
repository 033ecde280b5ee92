/**
 * The Messages API request body for a host ChatRequest.
 *
 * - System blocks go in `system` as text blocks; the last stable one carries the prompt-cache marker
 *   (`cache_control: {type: 'ephemeral'}`), so everything up to it (tools included: the API caches in
 *   the order tools, system, messages) is read from the cache on the next turn.
 * - The last tool also carries a marker, so the tool list is cached even when no system block is stable.
 * - The last block of the conversation carries the third marker: in an agent loop each request repeats
 *   the previous one plus a tool result, so this turns the whole history into a cache read. Three
 *   markers, under the API's limit of four.
 * - Tool calls become `tool_use` blocks, tool results `tool_result` blocks in a user message; the API
 *   wants all results for one assistant turn in the single user message that follows it, results first,
 *   so consecutive user-side messages are merged and tool results put ahead of text.
 * - Empty text is dropped (the API refuses empty text blocks) and so is a message left with nothing.
 */
import type { ChatMessage, ChatRequest } from 'caduceus/sdk';

export const DEFAULT_MAX_TOKENS = 8192;

type Block = Record<string, unknown> & { type: string };
interface WireMessage {
  role: 'user' | 'assistant';
  content: Block[];
}

const EPHEMERAL = { type: 'ephemeral' } as const;

export interface RequestOptions {
  maxTokens: number | undefined;
  promptCaching: boolean;
}

export function buildBody(req: ChatRequest, opts: RequestOptions): Record<string, unknown> {
  const body: Record<string, unknown> = { model: req.model, max_tokens: req.maxTokens ?? opts.maxTokens ?? DEFAULT_MAX_TOKENS };
  const system: Block[] = [];
  let lastStable = -1;
  for (const b of req.system) {
    if (b.text === '') continue;
    if (b.stable) lastStable = system.length;
    system.push({ type: 'text', text: b.text });
  }
  if (opts.promptCaching && lastStable >= 0) system[lastStable]!.cache_control = EPHEMERAL;
  if (system.length) body.system = system;
  const messages = toMessages(req.messages);
  if (opts.promptCaching) {
    const last = messages[messages.length - 1];
    const block = last?.content[last.content.length - 1];
    if (block) block.cache_control = EPHEMERAL;
  }
  body.messages = messages;
  if (req.tools.length > 0) {
    const tools: Record<string, unknown>[] = req.tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.inputSchema }));
    if (opts.promptCaching) tools[tools.length - 1]!.cache_control = EPHEMERAL;
    body.tools = tools;
  }
  if (req.temperature !== undefined) body.temperature = req.temperature;
  body.stream = true;
  return body;
}

function blocksOf(m: ChatMessage): WireMessage {
  switch (m.role) {
    case 'user':
      return { role: 'user', content: m.content === '' ? [] : [{ type: 'text', text: m.content }] };
    case 'assistant': {
      const content: Block[] = m.content === '' ? [] : [{ type: 'text', text: m.content }];
      for (const c of m.toolCalls ?? []) content.push({ type: 'tool_use', id: c.id, name: c.name, input: inputOf(c.arguments) });
      return { role: 'assistant', content };
    }
    case 'tool': {
      // The API refuses an error result with empty content.
      const block: Block = { type: 'tool_result', tool_use_id: m.toolCallId, content: m.isError && m.content === '' ? 'The tool failed without a message.' : m.content };
      if (m.isError) block.is_error = true;
      return { role: 'user', content: [block] };
    }
  }
}

function toMessages(history: ChatMessage[]): WireMessage[] {
  const out: WireMessage[] = [];
  for (const m of history) {
    const next = blocksOf(m);
    if (next.content.length === 0) continue;
    const prev = out[out.length - 1];
    if (prev && prev.role === next.role) prev.content.push(...next.content);
    else out.push(next);
  }
  for (const m of out) {
    if (m.role !== 'user') continue;
    const results = m.content.filter((b) => b.type === 'tool_result');
    if (results.length > 0 && results.length < m.content.length) m.content = [...results, ...m.content.filter((b) => b.type !== 'tool_result')];
  }
  return out;
}

/** `tool_use.input` must be an object; the host hands over arguments as JSON text (already repaired). */
function inputOf(args: string): Record<string, unknown> {
  if (args.trim() === '') return {};
  try {
    const v = JSON.parse(args) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
