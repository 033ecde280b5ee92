/**
 * `caduceus sessions list|show|export`: what the runner saved. Export writes ShareGPT-style JSONL
 * trajectories (one session per line: system, human, gpt and tool turns), with secrets redacted: the
 * values of stored secrets and of secret-looking environment variables, and common key shapes.
 */
import { createWriteStream } from 'node:fs';
import { withKernel } from './open.js';
import { c, EXIT, printJson, table } from './output.js';
import type { Kernel } from '../kernel.js';
import type { Sessions, StoredMessage } from '../runner/sessions.js';

async function sessionsOf(k: Kernel): Promise<Sessions> {
  const { Sessions: S } = await import('../runner/sessions.js');
  return new S(k.store);
}

export async function list(opts: { json?: boolean; limit?: string }): Promise<number> {
  return withKernel(async (k) => {
    const rows = (await sessionsOf(k)).list(Number(opts.limit ?? 50) || 50);
    if (opts.json) {
      printJson(rows.map((r) => ({ id: r.id, title: r.title, model: r.model, status: r.status, turns: r.turns, createdAt: new Date(r.created_at).toISOString(), updatedAt: new Date(r.updated_at).toISOString(), cwd: r.cwd, usage: { inputTokens: r.input_tokens, outputTokens: r.output_tokens, cacheReadTokens: r.cache_read_tokens, cacheWriteTokens: r.cache_write_tokens } })));
      return EXIT.OK;
    }
    if (rows.length === 0) {
      console.log('No sessions yet. `caduceus run "<prompt>"` or `caduceus chat` starts one.');
      return EXIT.OK;
    }
    console.log(table(rows.map((r) => [r.id, new Date(r.updated_at).toISOString().slice(0, 16).replace('T', ' '), r.model, String(r.turns), `${r.input_tokens}/${r.output_tokens}`, r.title.slice(0, 50)]),
      ['ID', 'UPDATED', 'MODEL', 'TURNS', 'TOKENS IN/OUT', 'TITLE']));
    return EXIT.OK;
  });
}

export async function show(id: string, opts: { json?: boolean; call?: string }): Promise<number> {
  return withKernel(async (k) => {
    const s = await sessionsOf(k);
    const row = s.get(id);
    const calls = s.toolCalls(id);
    if (opts.call) {
      const call = calls.find((t) => t.callId === opts.call);
      if (!call) {
        const { CaduceusError } = await import('../errors.js');
        throw new CaduceusError('CAD_ERR_SESSION_NOT_FOUND', `Session '${id}' has no tool call '${opts.call}'. Its calls: ${calls.map((t) => t.callId).join(', ') || 'none'}.`);
      }
      if (opts.json) printJson(call);
      else process.stdout.write(`${call.result}\n`);
      return EXIT.OK;
    }
    const messages = s.messages(id);
    if (opts.json) {
      printJson({ session: row, messages, toolCalls: calls, modelCalls: s.modelCalls(id) });
      return EXIT.OK;
    }
    console.log(`${c.bold(row.id)}  ${row.model}  ${row.status}  ${row.turns} turn(s)  ${row.input_tokens} in / ${row.output_tokens} out tokens (cache read ${row.cache_read_tokens})`);
    console.log(c.dim(`started ${new Date(row.created_at).toISOString()} in ${row.cwd}`));
    const byId = new Map(calls.map((t) => [t.callId, t]));
    for (const m of messages) {
      if (m.role === 'system') continue;
      if (m.role === 'user') console.log(`\n${c.bold('you')}: ${m.content}`);
      else if (m.role === 'assistant') {
        if (m.content) console.log(`\n${c.bold('agent')}: ${m.content}`);
        for (const t of m.toolCalls ?? []) console.log(c.dim(`  ⚙ ${t.name} ${t.arguments.slice(0, 200)}  [${t.id}]`));
      } else if (m.role === 'tool') {
        const t = byId.get(m.toolCallId ?? '');
        console.log(c.dim(`  ↳ ${m.name} ${m.isError ? c.red('error') : 'ok'}${t ? ` ${(t.durationUs / 1000).toFixed(1)} ms` : ''}: ${m.content.slice(0, 200).replace(/\s+/g, ' ')}`));
      }
    }
    return EXIT.OK;
  });
}

/** Values that must not leave the machine in an export: stored secrets and secret-looking env vars. */
function secretValues(k: Kernel): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  for (const name of k.secrets.names()) {
    const v = k.secrets.get(name);
    if (v && v.length >= 6) out.push({ name, value: v });
  }
  for (const [name, v] of Object.entries(process.env)) {
    if (v && v.length >= 8 && /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL/i.test(name)) out.push({ name, value: v });
  }
  return out.sort((a, b) => b.value.length - a.value.length);
}

const KEY_SHAPES: RegExp[] = [
  /\bsk-[A-Za-z0-9_-]{16,}\b/g,
  /\bsk-ant-[A-Za-z0-9_-]{16,}\b/g,
  /\bgh[pousr]_[A-Za-z0-9]{20,}\b/g,
  /\bAKIA[0-9A-Z]{16}\b/g,
  /\bxox[abpr]-[A-Za-z0-9-]{10,}\b/g,
  /(Bearer\s+)[A-Za-z0-9._~+/=-]{16,}/g,
];

export function redactText(text: string, secrets: { name: string; value: string }[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s.value)) out = out.split(s.value).join(`[REDACTED:${s.name}]`);
  for (const re of KEY_SHAPES) out = out.replace(re, (m, prefix: unknown) => (typeof prefix === 'string' && prefix.startsWith('Bearer') ? `${prefix}[REDACTED]` : '[REDACTED]'));
  return out;
}

/** The session's first system prompt leads, as trainers expect; later prompt changes are not replayed. */
function trajectory(messages: StoredMessage[]): { from: string; value: string }[] {
  const out: { from: string; value: string }[] = [];
  const system = messages.find((m) => m.role === 'system');
  if (system) out.push({ from: 'system', value: system.content });
  for (const m of messages) {
    if (m.role === 'system') continue;
    if (m.role === 'user') out.push({ from: 'human', value: m.content });
    else if (m.role === 'assistant') {
      const calls = (m.toolCalls ?? []).map((t) => `<tool_call>\n${JSON.stringify({ name: t.name, arguments: safeParse(t.arguments) })}\n</tool_call>`);
      out.push({ from: 'gpt', value: [m.content, ...calls].filter(Boolean).join('\n') });
    } else out.push({ from: 'tool', value: `<tool_response>\n${JSON.stringify({ name: m.name, tool_call_id: m.toolCallId, content: m.content, ...(m.isError ? { error: true } : {}) })}\n</tool_response>` });
  }
  return out;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function exportSessions(ids: string[], opts: { out?: string; all?: boolean }): Promise<number> {
  return withKernel(async (k) => {
    const s = await sessionsOf(k);
    const { CaduceusError } = await import('../errors.js');
    if (ids.length === 0 && !opts.all) throw new CaduceusError('CAD_ERR_CLI_USAGE', 'Name the sessions to export, or pass --all: caduceus sessions export <id> [--out file.jsonl].');
    const rows = ids.length ? ids.map((id) => s.get(id)) : s.all();
    const secrets = secretValues(k);
    const sink = opts.out ? createWriteStream(opts.out, { flags: 'w', mode: 0o600 }) : process.stdout;
    for (const row of rows) {
      const line = {
        id: row.id,
        model: row.model,
        created_at: new Date(row.created_at).toISOString(),
        usage: { input_tokens: row.input_tokens, output_tokens: row.output_tokens, cache_read_tokens: row.cache_read_tokens, cache_write_tokens: row.cache_write_tokens },
        conversations: trajectory(s.messages(row.id)),
      };
      sink.write(`${redactText(JSON.stringify(line), secrets.map((x) => ({ name: x.name, value: JSON.stringify(x.value).slice(1, -1) })))}\n`);
    }
    if (opts.out) {
      await new Promise<void>((resolve, reject) => (sink as ReturnType<typeof createWriteStream>).end((err?: Error | null) => (err ? reject(err) : resolve())));
      process.stderr.write(`exported ${rows.length} session(s) to ${opts.out}\n`);
    }
    return EXIT.OK;
  });
}
