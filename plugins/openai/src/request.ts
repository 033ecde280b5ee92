/**
 * The Chat Completions request body for a host ChatRequest. The system blocks become one system message
 * (stable blocks first, as the host orders them, so OpenAI's automatic prefix caching sees the same
 * prefix every turn; one message because several local chat templates accept only one, at the start).
 * Assistant tool calls and `tool` messages map one to one; an empty `tools` list is left out, because
 * some compatible servers reject `tools: []`.
 */
import type { ChatMessage, ChatRequest } from 'caduceus/sdk';

export interface RequestOptions {
  /** Ask for the usage chunk before [DONE] (stream_options.include_usage). */
  includeUsage: boolean;
  /** Output limit when the request sets none. */
  maxTokens: number | undefined;
  /** OpenAI's own API wants max_completion_tokens (its reasoning models reject max_tokens); others know max_tokens. */
  maxTokensField: 'max_tokens' | 'max_completion_tokens';
}

type WireMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[] }
  | { role: 'tool'; tool_call_id: string; content: string };

export function buildBody(req: ChatRequest, opts: RequestOptions): Record<string, unknown> {
  const messages: WireMessage[] = [];
  const system = req.system.map((b) => b.text).filter((t) => t !== '').join('\n\n');
  if (system) messages.push({ role: 'system', content: system });
  for (const m of req.messages) messages.push(toWire(m));
  const body: Record<string, unknown> = { model: req.model, messages, stream: true };
  if (opts.includeUsage) body.stream_options = { include_usage: true };
  if (req.tools.length > 0) {
    body.tools = req.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.inputSchema } }));
  }
  const maxTokens = req.maxTokens ?? opts.maxTokens;
  if (maxTokens !== undefined) body[opts.maxTokensField] = maxTokens;
  if (req.temperature !== undefined) body.temperature = req.temperature;
  return body;
}

function toWire(m: ChatMessage): WireMessage {
  switch (m.role) {
    case 'user':
      return { role: 'user', content: m.content };
    case 'assistant': {
      const calls = m.toolCalls ?? [];
      if (calls.length === 0) return { role: 'assistant', content: m.content };
      return {
        role: 'assistant',
        // The API wants content null (not "") beside tool calls when the model said nothing.
        content: m.content === '' ? null : m.content,
        tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments === '' ? '{}' : c.arguments } })),
      };
    }
    case 'tool':
      // Chat Completions has no error flag on a tool result; the host's error text says what failed.
      return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
  }
}
