/**
 * Sessions in the Caduceus store (SQLite, migration 3): one row per session with running token totals,
 * every message in order, every tool call with its full arguments and result (the model may have been
 * shown a capped copy), and every model call with its usage. `caduceus sessions list|show|export` and
 * `chat --resume` read them back.
 */
import { randomBytes } from 'node:crypto';
import { CaduceusError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { Statement } from 'better-sqlite3';

const STATEMENTS = new WeakMap<Store, Map<string, Statement>>();
import type { ChatMessage, ChatToolCall } from '../../sdk/types.js';

export interface SessionRow {
  id: string;
  created_at: number;
  updated_at: number;
  model: string;
  cwd: string;
  title: string;
  status: string;
  turns: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
}

export interface StoredMessage {
  seq: number;
  turn: number;
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  toolCalls?: ChatToolCall[];
  toolCallId?: string;
  name?: string;
  isError?: boolean;
  createdAt: number;
}

export interface StoredToolCall {
  callId: string;
  turn: number;
  name: string;
  args: string;
  ok: boolean;
  result: string;
  errorCode: string | null;
  durationUs: number;
  repairs: string[];
}

export interface ModelCallRecord {
  turn: number;
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  finishReason: string | undefined;
  attempts: number;
  durationMs: number;
}

/** Time-ordered, short, unguessable enough to not collide: `s_<base36 ms><6 hex>`. */
export function newSessionId(): string {
  return `s_${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

export class Sessions {
  constructor(private readonly store: Store) {}

  private get db() {
    return this.store.db;
  }

  /** Prepared statements, compiled once per store (a turn writes a dozen rows; preparing costs more than running). */
  private stmt(sql: string): Statement {
    let cache = STATEMENTS.get(this.store);
    if (!cache) STATEMENTS.set(this.store, (cache = new Map()));
    let st = cache.get(sql);
    if (!st) cache.set(sql, (st = this.store.db.prepare(sql)));
    return st;
  }

  create(id: string, model: string, cwd: string): void {
    const now = Date.now();
    this.stmt('INSERT INTO sessions (id, created_at, updated_at, model, cwd) VALUES (?, ?, ?, ?, ?)').run(id, now, now, model, cwd);
  }

  get(id: string): SessionRow {
    const row = this.stmt('SELECT * FROM sessions WHERE id = ?').get(id) as SessionRow | undefined;
    if (!row) throw new CaduceusError('CAD_ERR_SESSION_NOT_FOUND', `No session has the id '${id}'. Run \`caduceus sessions list\` to see session ids.`, { details: { session: id } });
    return row;
  }

  list(limit: number): SessionRow[] {
    return this.stmt('SELECT * FROM sessions ORDER BY updated_at DESC, id DESC LIMIT ?').all(limit) as SessionRow[];
  }

  all(): SessionRow[] {
    return this.stmt('SELECT * FROM sessions ORDER BY created_at, id').all() as SessionRow[];
  }

  private nextSeq(id: string): number {
    const r = this.stmt('SELECT COALESCE(MAX(seq), 0) AS s FROM session_messages WHERE session_id = ?').get(id) as { s: number };
    return r.s + 1;
  }

  addMessage(id: string, turn: number, m: ChatMessage | { role: 'system'; content: string }): void {
    const now = Date.now();
    const toolCalls = m.role === 'assistant' && m.toolCalls?.length ? JSON.stringify(m.toolCalls) : null;
    this.stmt(`INSERT INTO session_messages (session_id, seq, turn, role, content, tool_calls, tool_call_id, name, is_error, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(id, this.nextSeq(id), turn, m.role, m.content, toolCalls,
      m.role === 'tool' ? m.toolCallId : null, m.role === 'tool' ? m.name : null, m.role === 'tool' && m.isError ? 1 : 0, now);
    if (m.role === 'user') {
      this.stmt(`UPDATE sessions SET updated_at = ?, turns = MAX(turns, ?), title = CASE WHEN title = '' THEN ? ELSE title END WHERE id = ?`)
        .run(now, turn, m.content.replace(/\s+/g, ' ').trim().slice(0, 80), id);
    } else this.stmt('UPDATE sessions SET updated_at = ? WHERE id = ?').run(now, id);
  }

  messages(id: string): StoredMessage[] {
    const rows = this.stmt('SELECT * FROM session_messages WHERE session_id = ? ORDER BY seq').all(id) as {
      seq: number; turn: number; role: StoredMessage['role']; content: string; tool_calls: string | null; tool_call_id: string | null; name: string | null; is_error: number; created_at: number;
    }[];
    return rows.map((r) => {
      const m: StoredMessage = { seq: r.seq, turn: r.turn, role: r.role, content: r.content, createdAt: r.created_at };
      if (r.tool_calls) m.toolCalls = JSON.parse(r.tool_calls) as ChatToolCall[];
      if (r.tool_call_id) m.toolCallId = r.tool_call_id;
      if (r.name) m.name = r.name;
      if (r.is_error) m.isError = true;
      return m;
    });
  }

  /** The conversation as a provider sees it again (system prompts are rebuilt, not replayed). */
  history(id: string): ChatMessage[] {
    const out: ChatMessage[] = [];
    for (const m of this.messages(id)) {
      if (m.role === 'user') out.push({ role: 'user', content: m.content });
      else if (m.role === 'assistant') out.push(m.toolCalls ? { role: 'assistant', content: m.content, toolCalls: m.toolCalls } : { role: 'assistant', content: m.content });
      else if (m.role === 'tool') out.push({ role: 'tool', toolCallId: m.toolCallId ?? '', name: m.name ?? '', content: m.content, ...(m.isError ? { isError: true } : {}) });
    }
    return out;
  }

  lastSystem(id: string): string | undefined {
    const r = this.stmt("SELECT content FROM session_messages WHERE session_id = ? AND role = 'system' ORDER BY seq DESC LIMIT 1").get(id) as { content: string } | undefined;
    return r?.content;
  }

  addToolCall(id: string, c: StoredToolCall): void {
    this.stmt(`INSERT OR REPLACE INTO session_tool_calls (session_id, call_id, turn, name, args, ok, result, error_code, duration_us, repairs, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(id, c.callId, c.turn, c.name, c.args, c.ok ? 1 : 0, c.result, c.errorCode, c.durationUs, c.repairs.length ? JSON.stringify(c.repairs) : null, Date.now());
  }

  toolCalls(id: string): StoredToolCall[] {
    const rows = this.stmt('SELECT * FROM session_tool_calls WHERE session_id = ? ORDER BY created_at, call_id').all(id) as {
      call_id: string; turn: number; name: string; args: string; ok: number; result: string; error_code: string | null; duration_us: number; repairs: string | null;
    }[];
    return rows.map((r) => ({ callId: r.call_id, turn: r.turn, name: r.name, args: r.args, ok: r.ok === 1, result: r.result, errorCode: r.error_code, durationUs: r.duration_us, repairs: r.repairs ? JSON.parse(r.repairs) as string[] : [] }));
  }

  addModelCall(id: string, c: ModelCallRecord): void {
    const seq = (this.stmt('SELECT COALESCE(MAX(seq), 0) AS s FROM session_model_calls WHERE session_id = ?').get(id) as { s: number }).s + 1;
    this.db.transaction(() => {
      this.stmt(`INSERT INTO session_model_calls (session_id, seq, turn, model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, finish_reason, attempts, duration_ms, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(id, seq, c.turn, c.model, c.inputTokens, c.outputTokens, c.cacheReadTokens, c.cacheWriteTokens, c.finishReason ?? null, c.attempts, c.durationMs, Date.now());
      this.stmt(`UPDATE sessions SET input_tokens = input_tokens + ?, output_tokens = output_tokens + ?, cache_read_tokens = cache_read_tokens + ?,
        cache_write_tokens = cache_write_tokens + ?, model = ?, updated_at = ? WHERE id = ?`).run(c.inputTokens, c.outputTokens, c.cacheReadTokens, c.cacheWriteTokens, c.model, Date.now(), id);
    })();
  }

  modelCalls(id: string): (ModelCallRecord & { seq: number })[] {
    const rows = this.stmt('SELECT * FROM session_model_calls WHERE session_id = ? ORDER BY seq').all(id) as {
      seq: number; turn: number; model: string; input_tokens: number; output_tokens: number; cache_read_tokens: number; cache_write_tokens: number; finish_reason: string | null; attempts: number; duration_ms: number;
    }[];
    return rows.map((r) => ({ seq: r.seq, turn: r.turn, model: r.model, inputTokens: r.input_tokens, outputTokens: r.output_tokens, cacheReadTokens: r.cache_read_tokens, cacheWriteTokens: r.cache_write_tokens, finishReason: r.finish_reason ?? undefined, attempts: r.attempts, durationMs: r.duration_ms }));
  }

  setStatus(id: string, status: string): void {
    this.stmt('UPDATE sessions SET status = ?, updated_at = ? WHERE id = ?').run(status, Date.now(), id);
  }
}
