/**
 * The agent loop behind `caduceus run` and `caduceus chat`. One Agent is one session: it resolves the
 * provider, builds the prompt through the buildPrompt hook, shows the model the availability-filtered
 * tool list (schemas sanitised for the provider), streams the reply, repairs and runs the tool calls
 * through the tool pipeline (read-only idempotent calls together, the others one at a time, in order),
 * caps what goes back to the model, retries the provider where that is safe, and saves everything in the
 * session store as it happens.
 */
import { CaduceusError, type CodedErrorShape } from '../errors.js';
import type { Kernel } from '../kernel.js';
import type { ToolView } from '../registry.js';
import type { ChatEvent, ChatMessage, ChatTool, ChatToolCall } from '../../sdk/types.js';
import { resolveModel, type ModelChoice } from './model.js';
import { baseSections, buildPrompt, findContextFiles, toolGuidance, type ContextFile } from './prompt.js';
import { repairArguments } from './repair.js';
import { DEFAULT_RETRY, retryDelay, sleep, type RetryPolicy } from './retry.js';
import { sanitizeSchema } from './schema.js';
import { newSessionId, Sessions } from './sessions.js';

export interface RunnerConfig {
  maxIterations: number;
  /** What the model is shown of one tool result; the full result stays in the session. */
  maxToolResultChars: number;
  maxTokens: number | undefined;
  retry: RetryPolicy;
}

export const DEFAULT_RUNNER: RunnerConfig = { maxIterations: 20, maxToolResultChars: 16_000, maxTokens: undefined, retry: DEFAULT_RETRY };

/** What a front end (run, chat, a test) is told while a turn runs. */
export type RunnerEvent =
  | { type: 'text'; delta: string }
  | { type: 'reasoning'; delta: string }
  | { type: 'tool_start'; id: string; name: string; args: unknown }
  | { type: 'tool_end'; id: string; name: string; ok: boolean; durationMs: number; error?: CodedErrorShape }
  | { type: 'retry'; attempt: number; delayMs: number; error: CodedErrorShape }
  | { type: 'notice'; message: string };

export interface TurnResult {
  text: string;
  iterations: number;
  toolCalls: number;
  usage: { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number };
}

export interface AgentOptions {
  model?: string;
  resume?: string;
  cwd?: string;
  config?: Partial<RunnerConfig>;
}

interface Reply {
  text: string;
  calls: ChatToolCall[];
  usage: { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number };
  finish: string | undefined;
  attempts: number;
}

export class Agent {
  readonly sessionId: string;
  readonly sessions: Sessions;
  readonly cwd: string;
  readonly config: RunnerConfig;
  private choice: ModelChoice;
  private readonly messages: ChatMessage[] = [];
  private turn = 0;
  private base: ReturnType<typeof baseSections> | undefined;
  readonly contextFiles: ContextFile[];
  private started = false;
  readonly resumed: boolean;

  constructor(readonly k: Kernel, opts: AgentOptions = {}) {
    this.cwd = opts.cwd ?? k.workspace;
    this.sessions = new Sessions(k.store);
    const settings = k.settings().runner ?? {};
    this.config = {
      ...DEFAULT_RUNNER,
      ...pickNumbers(settings, ['maxIterations', 'maxToolResultChars', 'maxTokens']),
      ...opts.config,
      retry: { ...DEFAULT_RETRY, ...pickNumbers(settings.retry ?? {}, ['retries', 'baseMs', 'maxDelayMs', 'maxRetryAfterMs']), ...opts.config?.retry },
    };
    if (opts.resume) {
      const row = this.sessions.get(opts.resume);
      this.sessionId = row.id;
      this.choice = resolveModel(k, opts.model ?? row.model);
      this.messages.push(...this.sessions.history(row.id));
      this.turn = row.turns;
      this.resumed = true;
    } else {
      this.choice = resolveModel(k, opts.model);
      this.sessionId = newSessionId();
      this.resumed = false;
    }
    this.contextFiles = findContextFiles(this.cwd, k.home);
  }

  get model(): string {
    return this.choice.ref;
  }

  /** Switches the model for the next turns (`/model` in chat). */
  setModel(ref: string): void {
    this.choice = resolveModel(this.k, ref);
  }

  private async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (!this.resumed) this.sessions.create(this.sessionId, this.choice.ref, this.cwd);
    this.k.audit({ ts: Date.now(), kind: 'session.start', outcome: 'ok', detail: { session: this.sessionId, model: this.choice.ref, resumed: this.resumed } });
    if (this.k.hooks.sessionStart.isUsed()) {
      await this.k.hooks.sessionStart.promise({ sessionId: this.sessionId, model: this.choice.ref, cwd: this.cwd, resumed: this.resumed }).catch(() => undefined);
    }
  }

  /** Ends the session: the sessionEnd hook and an audit row. */
  async end(reason: string): Promise<void> {
    if (!this.started) return;
    this.sessions.setStatus(this.sessionId, reason === 'error' ? 'error' : 'ended');
    this.k.audit({ ts: Date.now(), kind: 'session.end', outcome: 'ok', detail: { session: this.sessionId, reason } });
    if (this.k.hooks.sessionEnd.isUsed()) await this.k.hooks.sessionEnd.promise({ sessionId: this.sessionId, reason }).catch(() => undefined);
  }

  /** One user turn: model calls and tool calls until the model answers without calling a tool. */
  async runTurn(input: string, opts: { signal?: AbortSignal; onEvent?: (e: RunnerEvent) => void } = {}): Promise<TurnResult> {
    await this.start();
    const emit = opts.onEvent ?? (() => undefined);
    this.turn++;
    const turn = this.turn;
    const user: ChatMessage = { role: 'user', content: input };
    this.messages.push(user);
    this.sessions.addMessage(this.sessionId, turn, user);
    const total = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };
    let toolCalls = 0;
    for (let iteration = 1; iteration <= this.config.maxIterations; iteration++) {
      const tools = await this.k.resolveToolsForModel();
      const offered = new Map(tools.map((t) => [t.name, t]));
      this.base ??= baseSections(this.cwd, this.contextFiles);
      const prompt = await buildPrompt(this.k, { sessionId: this.sessionId, turn, cwd: this.cwd, model: this.choice.ref }, [...this.base, toolGuidance(tools.length)]);
      const systemText = prompt.system.map((b) => b.text).join('\n\n');
      if (this.sessions.lastSystem(this.sessionId) !== systemText) this.sessions.addMessage(this.sessionId, turn, { role: 'system', content: systemText });
      const chatTools: ChatTool[] = tools.map((t) => ({ name: t.name, description: t.description, inputSchema: sanitizeSchema(t.inputSchema, this.choice.provider.schemaKeywordsUnsupported) }));
      const t0 = performance.now();
      const reply = await this.callModel({ model: this.choice.model, system: prompt.system, messages: this.messages, tools: chatTools, ...(this.config.maxTokens ? { maxTokens: this.config.maxTokens } : {}) }, emit, opts.signal);
      for (const key of Object.keys(total) as (keyof typeof total)[]) total[key] += reply.usage[key];
      this.sessions.addModelCall(this.sessionId, { turn, model: this.choice.ref, ...reply.usage, finishReason: reply.finish, attempts: reply.attempts, durationMs: Math.round(performance.now() - t0) });
      const assistant: ChatMessage = reply.calls.length ? { role: 'assistant', content: reply.text, toolCalls: reply.calls } : { role: 'assistant', content: reply.text };
      this.messages.push(assistant);
      this.sessions.addMessage(this.sessionId, turn, assistant);
      if (reply.calls.length === 0) return { text: reply.text, iterations: iteration, toolCalls, usage: total };
      const results = await this.runTools(reply.calls, offered, turn, emit, opts.signal);
      toolCalls += results.length;
      for (const r of results) {
        this.messages.push(r);
        this.sessions.addMessage(this.sessionId, turn, r);
      }
      if (opts.signal?.aborted) throw new CaduceusError('CAD_ERR_PROVIDER_CANCELLED', 'The turn was cancelled.', { details: { kind: 'cancelled' } });
    }
    throw new CaduceusError('CAD_ERR_RUN_MAX_ITERATIONS',
      `The model made tool calls in all ${this.config.maxIterations} iterations of this turn without a final answer. Raise --max-iterations (or runner.maxIterations in config.json), or ask for less. Session ${this.sessionId} keeps what happened.`,
      { details: { session: this.sessionId, iterations: this.config.maxIterations } });
  }

  /** One model call with retries; what a failed attempt streamed is dropped, and the front end is told. */
  private async callModel(request: Parameters<Kernel['chatModel']>[1], emit: (e: RunnerEvent) => void, signal?: AbortSignal): Promise<Reply> {
    for (let attempt = 1; ; attempt++) {
      const reply: Reply = { text: '', calls: [], usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 }, finish: undefined, attempts: attempt };
      const building = new Map<number, { id: string; name: string; args: string }>();
      const onEvent = (e: ChatEvent): void => {
        switch (e.type) {
          case 'text':
            reply.text += e.delta;
            emit({ type: 'text', delta: e.delta });
            break;
          case 'reasoning':
            emit({ type: 'reasoning', delta: e.delta });
            break;
          case 'tool_call_start':
            building.set(e.index, { id: e.id, name: e.name, args: '' });
            break;
          case 'tool_call_delta': {
            const b = building.get(e.index);
            if (b) b.args += e.delta;
            else building.set(e.index, { id: '', name: '', args: e.delta });
            break;
          }
          case 'tool_call_end':
            break;
          case 'usage':
            reply.usage = { inputTokens: e.inputTokens, outputTokens: e.outputTokens, cacheReadTokens: e.cacheReadTokens ?? 0, cacheWriteTokens: e.cacheWriteTokens ?? 0 };
            break;
          case 'finish':
            reply.finish = e.reason;
            break;
        }
      };
      try {
        await this.k.chatModel(this.choice.provider.name, request, { onEvent, ...(signal ? { signal } : {}) });
        reply.calls = [...building.entries()].sort((a, b) => a[0] - b[0]).map(([index, b]) => ({
          id: b.id || `call_${this.turn}_${index}_${Date.now().toString(36)}`, name: b.name, arguments: b.args,
        }));
        return reply;
      } catch (err) {
        if (signal?.aborted) throw new CaduceusError('CAD_ERR_PROVIDER_CANCELLED', 'The turn was cancelled.', { details: { kind: 'cancelled' } });
        const delay = retryDelay(err, attempt, this.config.retry);
        if (delay === undefined) throw err;
        const shape = (err as CaduceusError).toJSON();
        emit({ type: 'retry', attempt, delayMs: Math.round(delay), error: shape });
        this.k.audit({ ts: Date.now(), kind: 'model.retry', outcome: 'error', code: shape.code, detail: { session: this.sessionId, provider: this.choice.provider.name, attempt, delayMs: Math.round(delay) } });
        await sleep(delay, signal);
      }
    }
  }

  /** Runs a reply's tool calls; consecutive read-only idempotent calls run together. Results keep call order. */
  private async runTools(calls: ChatToolCall[], offered: Map<string, ToolView>, turn: number, emit: (e: RunnerEvent) => void, signal?: AbortSignal): Promise<ChatMessage[]> {
    const results: ChatMessage[] = new Array(calls.length);
    const parallelSafe = (c: ChatToolCall) => {
      const t = offered.get(c.name);
      return !!t && !t.mutating && t.idempotent;
    };
    let i = 0;
    while (i < calls.length) {
      if (signal?.aborted) break;
      let j = i + 1;
      if (parallelSafe(calls[i]!)) while (j < calls.length && parallelSafe(calls[j]!)) j++;
      await Promise.all(calls.slice(i, j).map(async (c, n) => {
        results[i + n] = await this.runTool(c, offered, turn, emit);
      }));
      i = j;
    }
    // Calls not run because the turn was cancelled still need an answer, or the history is invalid.
    for (let n = 0; n < calls.length; n++) {
      results[n] ??= { role: 'tool', toolCallId: calls[n]!.id, name: calls[n]!.name, content: JSON.stringify({ error: { code: 'CAD_ERR_PROVIDER_CANCELLED', message: 'not run: the turn was cancelled' } }), isError: true };
    }
    return results;
  }

  private async runTool(c: ChatToolCall, offered: Map<string, ToolView>, turn: number, emit: (e: RunnerEvent) => void): Promise<ChatMessage> {
    const t0 = performance.now();
    const repaired = repairArguments(c.arguments);
    const args = repaired.ok ? repaired.value : undefined;
    emit({ type: 'tool_start', id: c.id, name: c.name, args: args ?? c.arguments });
    let ok = false;
    let payload: unknown;
    let error: CodedErrorShape | undefined;
    if (!offered.has(c.name)) {
      error = new CaduceusError('CAD_ERR_TOOL_NOT_FOUND', `The model called '${c.name}', which is not one of the tools it was offered.`, { tool: c.name }).toJSON();
      this.k.audit({ ts: Date.now(), kind: 'tool.call', tool: c.name, caller: 'model', outcome: 'denied', code: error.code, detail: { session: this.sessionId, message: 'not offered to the model' } });
    } else if (!repaired.ok) {
      error = new CaduceusError('CAD_ERR_TOOL_ARGS_INVALID', `Arguments for '${c.name}' are not a JSON object: ${repaired.reason}. Call the tool again with valid JSON arguments.`, { tool: c.name }).toJSON();
      this.k.audit({ ts: Date.now(), kind: 'tool.args_unrepairable', tool: c.name, caller: 'model', outcome: 'error', code: error.code, detail: { session: this.sessionId, callId: c.id } });
    } else {
      if (repaired.repairs.length) {
        this.k.audit({ ts: Date.now(), kind: 'tool.args_repaired', tool: c.name, caller: 'model', outcome: 'ok', detail: { session: this.sessionId, callId: c.id, repairs: repaired.repairs } });
      }
      const r = await this.k.callTool(c.name, args, { caller: 'model', session: this.sessionId });
      ok = r.ok;
      if (r.ok) payload = r.result;
      else error = r.error;
    }
    const durationUs = Math.round((performance.now() - t0) * 1000);
    const full = ok ? (typeof payload === 'string' ? payload : JSON.stringify(payload ?? null)) : JSON.stringify({ error: { code: error!.code, message: error!.message } });
    this.sessions.addToolCall(this.sessionId, { callId: c.id, turn, name: c.name, args: c.arguments, ok, result: full, errorCode: error?.code ?? null, durationUs, repairs: repaired.ok ? repaired.repairs : [] });
    emit(error ? { type: 'tool_end', id: c.id, name: c.name, ok, durationMs: durationUs / 1000, error } : { type: 'tool_end', id: c.id, name: c.name, ok, durationMs: durationUs / 1000 });
    const max = this.config.maxToolResultChars;
    const content = full.length <= max ? full
      : `${full.slice(0, max)}\n[truncated: ${max} of ${full.length} characters shown. The full result is saved: \`caduceus sessions show ${this.sessionId} --call ${c.id}\`. Ask for a narrower range if you need more.]`;
    return ok ? { role: 'tool', toolCallId: c.id, name: c.name, content } : { role: 'tool', toolCallId: c.id, name: c.name, content, isError: true };
  }
}

function pickNumbers<K extends string>(source: Record<string, unknown>, keys: K[]): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const key of keys) {
    const v = source[key];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) out[key] = v;
  }
  return out;
}
