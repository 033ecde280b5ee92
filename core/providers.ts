/**
 * LLM providers on the host side. A provider is declared in a plugin's manifest (contributes.providers)
 * and served by that plugin's `chat` function inside its isolate. Each chat call gets a host-side
 * ProviderCall: the events the plugin emits are checked and handed to the caller as they arrive, the
 * plugin's streaming fetches belong to the call (so a cancel closes them and the plugin's pending read
 * fails at once), and a thrown ProviderError becomes a coded CAD_ERR_PROVIDER_<KIND>.
 */
import { randomUUID } from 'node:crypto';
import { CaduceusError, type ErrorCode } from './errors.js';
import type { HttpStream } from './syscalls/net-stream.js';
import type { ChatEvent, ProviderErrorKind } from '../sdk/types.js';
import type { ProviderDeclaration } from './manifest/schema.js';
import type { PluginRecord } from './registry.js';

export const PROVIDER_ERROR_KINDS: readonly ProviderErrorKind[] = ['auth', 'rate_limit', 'context_length', 'invalid_request', 'server', 'network', 'cancelled'];

export function providerErrorCode(kind: ProviderErrorKind): ErrorCode {
  return `CAD_ERR_PROVIDER_${kind.toUpperCase()}` as ErrorCode;
}

/** A provider as the runner sees it: the declaration plus who serves it. */
export interface ProviderView extends ProviderDeclaration {
  plugin: string;
}

/** Providers of enabled plugins, by name; a name two plugins declare is reported, not guessed. */
export function listProviders(records: readonly PluginRecord[]): { providers: Map<string, ProviderView>; conflicts: string[] } {
  const providers = new Map<string, ProviderView>();
  const conflicts: string[] = [];
  for (const r of records) {
    if (!r.enabled) continue;
    for (const p of r.manifest.contributes.providers) {
      const other = providers.get(p.name);
      if (other) {
        conflicts.push(`provider '${p.name}' is declared by both '${other.plugin}' and '${r.id}'; disable one of them`);
        continue;
      }
      providers.set(p.name, { ...p, plugin: r.id });
    }
  }
  return { providers, conflicts };
}

const MAX_EVENT_CHARS = 1024 * 1024;
const FINISH_REASONS = new Set(['stop', 'tool_calls', 'length', 'content_filter', 'other']);

/** Checks one emitted event's shape; returns a clean copy or a reason. */
export function checkEvent(raw: unknown): ChatEvent | string {
  if (raw === null || typeof raw !== 'object') return 'an event must be an object with a type';
  const e = raw as Record<string, unknown>;
  const str = (k: string) => typeof e[k] === 'string' && (e[k] as string).length <= MAX_EVENT_CHARS;
  const idx = () => Number.isInteger(e.index) && (e.index as number) >= 0 && (e.index as number) < 1024;
  const count = (k: string) => e[k] === undefined || (typeof e[k] === 'number' && Number.isFinite(e[k]) && (e[k] as number) >= 0);
  switch (e.type) {
    case 'text':
    case 'reasoning':
      return str('delta') ? { type: e.type, delta: e.delta as string } : `${e.type} needs a string delta`;
    case 'tool_call_start':
      return idx() && str('id') && str('name') ? { type: e.type, index: e.index as number, id: e.id as string, name: e.name as string } : 'tool_call_start needs index, id and name';
    case 'tool_call_delta':
      return idx() && str('delta') ? { type: e.type, index: e.index as number, delta: e.delta as string } : 'tool_call_delta needs index and a string delta';
    case 'tool_call_end':
      return idx() ? { type: e.type, index: e.index as number } : 'tool_call_end needs an index';
    case 'usage': {
      if (!count('inputTokens') || !count('outputTokens') || !count('cacheReadTokens') || !count('cacheWriteTokens')) return 'usage counts must be non-negative numbers';
      const u: ChatEvent = { type: 'usage', inputTokens: (e.inputTokens as number) ?? 0, outputTokens: (e.outputTokens as number) ?? 0 };
      if (typeof e.cacheReadTokens === 'number') u.cacheReadTokens = e.cacheReadTokens;
      if (typeof e.cacheWriteTokens === 'number') u.cacheWriteTokens = e.cacheWriteTokens;
      return u;
    }
    case 'finish':
      return typeof e.reason === 'string' && FINISH_REASONS.has(e.reason) ? { type: 'finish', reason: e.reason as 'stop' } : `finish reason must be one of ${[...FINISH_REASONS].join(', ')}`;
    default:
      return `unknown event type ${JSON.stringify(e.type)}`;
  }
}

/** The host side of one chat call. */
export class ProviderCall {
  readonly id = randomUUID();
  private cancelledFlag = false;
  private readonly streams = new Map<number, HttpStream>();
  private nextHandle = 1;

  constructor(readonly plugin: string, readonly provider: string, private readonly onEvent: (e: ChatEvent) => void) {}

  get cancelled(): boolean {
    return this.cancelledFlag;
  }

  emit(raw: unknown): boolean {
    if (this.cancelledFlag) return false;
    const event = checkEvent(raw);
    if (typeof event === 'string') {
      throw new CaduceusError('CAD_ERR_PROVIDER_EVENT_INVALID', `Plugin '${this.plugin}' provider '${this.provider}' emitted an invalid event: ${event}. See ChatEvent in caduceus/sdk.`, { plugin: this.plugin });
    }
    this.onEvent(event);
    return true;
  }

  addStream(s: HttpStream): number {
    if (this.cancelledFlag) {
      s.close(this.cancelError());
      throw this.cancelError();
    }
    const h = this.nextHandle++;
    this.streams.set(h, s);
    return h;
  }

  stream(handle: unknown): HttpStream {
    const s = typeof handle === 'number' ? this.streams.get(handle) : undefined;
    if (!s) throw new CaduceusError('CAD_ERR_SYSCALL_INVALID', `Plugin '${this.plugin}' read a stream handle it does not hold (${JSON.stringify(handle)}).`, { plugin: this.plugin });
    return s;
  }

  closeStream(handle: unknown): void {
    const s = this.stream(handle);
    this.streams.delete(handle as number);
    s.close();
  }

  cancel(): void {
    if (this.cancelledFlag) return;
    this.cancelledFlag = true;
    for (const s of this.streams.values()) s.close(this.cancelError());
    this.streams.clear();
  }

  /** The call is over: whatever the plugin left open is closed. */
  end(): void {
    for (const s of this.streams.values()) s.close();
    this.streams.clear();
  }

  cancelError(): CaduceusError {
    return new CaduceusError('CAD_ERR_PROVIDER_CANCELLED', `The call to provider '${this.provider}' was cancelled.`, { plugin: this.plugin, details: { kind: 'cancelled' } });
  }
}

/** Live calls, looked up by the syscalls; a plugin can only reach calls made to itself. */
export class ProviderCalls {
  private readonly calls = new Map<string, ProviderCall>();

  open(plugin: string, provider: string, onEvent: (e: ChatEvent) => void): ProviderCall {
    const call = new ProviderCall(plugin, provider, onEvent);
    this.calls.set(call.id, call);
    return call;
  }

  get(id: unknown, plugin: string): ProviderCall {
    const call = typeof id === 'string' ? this.calls.get(id) : undefined;
    if (!call || call.plugin !== plugin) {
      throw new CaduceusError('CAD_ERR_SYSCALL_INVALID', `Plugin '${plugin}' used a provider call id that is not one of its live calls.`, { plugin });
    }
    return call;
  }

  close(call: ProviderCall): void {
    call.end();
    this.calls.delete(call.id);
  }

  closeAll(): void {
    for (const c of this.calls.values()) c.cancel();
    this.calls.clear();
  }
}

/** Turns what a provider's chat threw into the coded error the runner acts on. */
export function toProviderError(err: unknown, plugin: string, provider: string): CaduceusError {
  if (!(err instanceof CaduceusError)) {
    return new CaduceusError('CAD_ERR_PROVIDER_FAILED', `Provider '${provider}' (plugin '${plugin}') failed: ${(err as Error)?.message ?? String(err)}`, { plugin });
  }
  const thrown = err.details?.pluginError as { code?: unknown; message?: unknown; details?: unknown } | undefined;
  if (!thrown && err.code.startsWith('CAD_ERR_PROVIDER_')) return err;
  const code = typeof thrown?.code === 'string' ? thrown.code : '';
  const kind = code.startsWith('provider:') ? code.slice('provider:'.length) as ProviderErrorKind : undefined;
  if (kind && PROVIDER_ERROR_KINDS.includes(kind)) {
    const extra = (thrown?.details && typeof thrown.details === 'object' ? thrown.details : {}) as { status?: unknown; retryAfterMs?: unknown };
    const details: Record<string, unknown> = { kind };
    if (typeof extra.status === 'number') details.status = extra.status;
    if (typeof extra.retryAfterMs === 'number' && Number.isFinite(extra.retryAfterMs) && extra.retryAfterMs >= 0) details.retryAfterMs = extra.retryAfterMs;
    return new CaduceusError(providerErrorCode(kind), `Provider '${provider}': ${String(thrown?.message ?? err.message)}`, { plugin, details });
  }
  // A stream the host closed on cancel surfaces in the plugin as that error; so does a network failure.
  if (code === 'CAD_ERR_PROVIDER_CANCELLED') return new CaduceusError('CAD_ERR_PROVIDER_CANCELLED', `The call to provider '${provider}' was cancelled.`, { plugin, details: { kind: 'cancelled' } });
  if (code === 'CAD_ERR_NET_FAILED') return new CaduceusError('CAD_ERR_PROVIDER_NETWORK', `Provider '${provider}': ${String(thrown?.message ?? err.message)}`, { plugin, details: { kind: 'network' } });
  if (code === 'CAD_ERR_PERMISSION_DENIED' || code === 'CAD_ERR_NET_BLOCKED') {
    return new CaduceusError('CAD_ERR_PROVIDER_INVALID_REQUEST', `Provider '${provider}': ${String(thrown?.message ?? err.message)}`, { plugin, details: { kind: 'invalid_request', cause: code } });
  }
  return new CaduceusError('CAD_ERR_PROVIDER_FAILED', `Provider '${provider}' (plugin '${plugin}') failed: ${err.message}`, { plugin, details: { cause: err.code } });
}
