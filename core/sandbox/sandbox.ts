/**
 * One isolate for one plugin generation. It owns the isolate, the context, the references to the
 * prelude's entry points and the bookkeeping of calls that are still pending. Every entry into the
 * isolate is an `applySync` with a timeout (microtasks run inside it, so a busy loop after an `await`
 * is covered too); calls that stay pending past their deadline are stopped by a wall-clock watchdog that
 * disposes the isolate. Restart and strike policy live one level up, in the supervisor.
 */
import ivm from 'isolated-vm';
import { CaduceusError, type ErrorCode } from '../errors.js';
import { prelude } from './prelude.js';
import { capWasmMemory } from './wasm-cap.js';

/**
 * The host side of one running isolate, as a syscall sees it: a way to call back into the isolate (a
 * callback the plugin registered, e.g. a file watch's listener) and cleanup that runs when the isolate is
 * disposed (crash, restart, reload, disable, kernel close), so host resources never outlive it.
 */
export interface SyscallSession {
  /** Calls the isolate's callback `channel` with a JSON payload; false when the isolate is gone or failed. */
  push(channel: number, payloadJson: string): boolean;
  /** Runs `fn` once when this isolate is disposed (at once if it already is). */
  onDispose(fn: () => void): void;
}

export type SyscallHandler = (name: string, args: unknown, session: SyscallSession) => unknown;

/** CPU budget of one callback into the isolate (a watch event, say); past it the isolate is disposed. */
export const CALLBACK_SLICE_MS = 2_000;

export interface SandboxOptions {
  pluginId: string;
  bundleSource: string;
  bundleFile: string;
  memoryMb: number;
  wasm: boolean;
  /** The plugin's validated config, frozen into ctx.config. */
  config: Record<string, unknown>;
  loadTimeoutMs: number;
  syscall: SyscallHandler;
}

export interface InvokeOptions {
  timeoutMs: number;
  maxBytes: number;
  /** Code for an error the plugin's own code threw (tool vs hook). */
  thrownCode: ErrorCode;
  tool?: string;
  hook?: string;
  provider?: string;
  /** A plugin CLI command (core/command-run.ts). */
  command?: string;
  /**
   * CPU budget of one entry into the isolate (the call itself and each continuation after an await);
   * default timeoutMs. Provider calls stream for minutes of wall clock but get seconds per slice.
   */
  sliceMs?: number;
  /** Tool calls: who called and in which session, passed to the handler as its third argument. */
  caller?: string;
  sessionId?: string | undefined;
}

export interface BootInfo {
  tools: string[];
  hooks: string[];
  providers?: string[];
  commands?: string[];
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
  opts: InvokeOptions;
  /** performance.now() by which the call must have settled. */
  deadline: number;
}

const PRELUDE_SOURCE = `(${prelude.toString()})`;
const WASM_CAP_SOURCE = `(${capWasmMemory.toString()})`;

/** Why an isolate stopped; the supervisor counts these as strikes. */
export type FailureKind = 'timeout' | 'out-of-memory' | 'crash';

export class Sandbox {
  private readonly isolate: ivm.Isolate;
  private readonly context: ivm.Context;
  private readonly dispatchRef: ivm.Reference<(...a: unknown[]) => string>;
  private readonly resolveSysRef: ivm.Reference<(...a: unknown[]) => void>;
  private readonly bootRef: ivm.Reference<() => string>;
  private readonly callbackRef: ivm.Reference<(...a: unknown[]) => void>;
  private closers: (() => void)[] = [];
  /** Handed to syscalls: callbacks into this isolate and cleanup at its disposal. */
  readonly session: SyscallSession = {
    push: (channel, payloadJson) => this.push(channel, payloadJson),
    onDispose: (fn) => {
      if (this.disposed) fn();
      else this.closers.push(fn);
    },
  };
  private readonly pending = new Map<number, Pending>();
  private readonly early = new Map<number, string>();
  private nextCall = 1;
  private nextSys = 1;
  private disposed = false;
  private idleWaiters: (() => void)[] = [];
  /** Set by the supervisor to learn about failures that happen outside a call it awaits. */
  onFailure: ((kind: FailureKind, error: CaduceusError) => void) | undefined;

  constructor(private readonly opts: SandboxOptions) {
    this.isolate = new ivm.Isolate({ memoryLimit: opts.memoryMb });
    try {
      this.context = this.isolate.createContextSync();
      const global = this.context.global;
      global.setSync('globalThis', global.derefInto());
      global.setSync('__cadSys', new ivm.Callback((name: string, args: string) => this.onSys(name, args)));
      global.setSync('__cadSettle', new ivm.Callback((id: number, reply: string) => this.onSettle(id, reply)));
      const entry = this.context.evalSync(
        `(() => { const api = ${PRELUDE_SOURCE}({ sys: __cadSys, settle: __cadSettle }, ${JSON.stringify({ pluginId: opts.pluginId, wasm: opts.wasm, memoryMb: opts.memoryMb, config: opts.config })}, ${WASM_CAP_SOURCE});
          delete globalThis.__cadSys; delete globalThis.__cadSettle; return api; })()`,
        { timeout: opts.loadTimeoutMs, reference: true },
      ) as ivm.Reference<Record<string, unknown>>;
      this.dispatchRef = entry.getSync('dispatch', { reference: true }) as ivm.Reference<(...a: unknown[]) => string>;
      this.resolveSysRef = entry.getSync('resolveSys', { reference: true }) as ivm.Reference<(...a: unknown[]) => void>;
      this.bootRef = entry.getSync('boot', { reference: true }) as ivm.Reference<() => string>;
      this.callbackRef = entry.getSync('callback', { reference: true }) as ivm.Reference<(...a: unknown[]) => void>;
      entry.release();
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  /** Runs the plugin bundle and its setup; returns what it registered. */
  boot(): BootInfo {
    const id = this.opts.pluginId;
    try {
      const script = this.isolate.compileScriptSync(this.opts.bundleSource, { filename: this.opts.bundleFile });
      script.runSync(this.context, { timeout: this.opts.loadTimeoutMs });
      script.release();
      const reply = JSON.parse(this.bootRef.applySync(undefined, [], { timeout: this.opts.loadTimeoutMs })) as
        { ok?: BootInfo; err?: { message: string } };
      if (reply.err) {
        throw new CaduceusError('CAD_ERR_PLUGIN_LOAD_FAILED',
          `Plugin '${id}' failed while loading: ${reply.err.message}. Fix the plugin's setup and rebuild it.`, { plugin: id });
      }
      return reply.ok!;
    } catch (err) {
      const coded = this.classify(err, 'CAD_ERR_PLUGIN_LOAD_FAILED', {});
      this.dispose();
      throw coded;
    }
  }

  get alive(): boolean {
    return !this.disposed && !this.isolate.isDisposed;
  }

  heapBytes(): number {
    if (!this.alive) return 0;
    const s = this.isolate.getHeapStatisticsSync();
    return s.total_heap_size + s.externally_allocated_size;
  }

  /** Calls a tool or hook handler. JSON in, parsed value out; errors are coded. */
  invoke(kind: 'tool' | 'hook' | 'provider' | 'command', name: string, argsJson: string, opts: InvokeOptions): Promise<unknown> {
    if (!this.alive) {
      return Promise.reject(new CaduceusError('CAD_ERR_SANDBOX_CRASHED',
        `Plugin '${this.opts.pluginId}' isolate is not running.`, { plugin: this.opts.pluginId, tool: opts.tool, hook: opts.hook }));
    }
    const id = this.nextCall++;
    const started = performance.now();
    let reply: string;
    try {
      reply = this.dispatchRef.applySync(undefined, [kind, name, argsJson, id, opts.maxBytes, opts.caller ?? '', opts.sessionId ?? ''], { timeout: watchdogMs(opts.sliceMs ?? opts.timeoutMs) });
    } catch (err) {
      return Promise.reject(this.fail(err, opts));
    }
    if (reply.charCodeAt(2) !== 112 /* "p" of {"pending" */) return this.decode(reply, opts);
    const early = this.early.get(id);
    if (early !== undefined) {
      this.early.delete(id);
      return this.decode(early, opts);
    }
    return new Promise((resolve, reject) => {
      const remaining = Math.max(1, opts.timeoutMs - (performance.now() - started));
      const timer = setTimeout(() => {
        this.pending.delete(id);
        queueMicrotask(() => this.checkIdle());
        const e = new CaduceusError('CAD_ERR_SANDBOX_TIMEOUT',
          `Plugin '${this.opts.pluginId}' ${what(opts)} did not settle within ${opts.timeoutMs} ms; its isolate was disposed. Make it finish sooner, or raise timeoutMs.`,
          { plugin: this.opts.pluginId, tool: opts.tool, hook: opts.hook });
        reject(e);
        this.terminate('timeout', e);
      }, remaining);
      this.pending.set(id, { resolve, reject, timer, opts, deadline: started + opts.timeoutMs });
    });
  }

  private decode(reply: string, opts: InvokeOptions): Promise<unknown> {
    const plugin = this.opts.pluginId;
    if (reply.length * 3 > opts.maxBytes && Buffer.byteLength(reply) > opts.maxBytes + 8) {
      return Promise.reject(tooLarge(plugin, opts, Buffer.byteLength(reply)));
    }
    let parsed: { ok?: unknown; err?: { name: string; message: string; code?: string; stack?: string; details?: unknown }; tooLarge?: number };
    try {
      parsed = JSON.parse(reply);
    } catch {
      return Promise.reject(new CaduceusError('CAD_ERR_SANDBOX_PROTOCOL',
        `Plugin '${plugin}' ${what(opts)} answered something that is not JSON.`, { plugin, tool: opts.tool, hook: opts.hook }));
    }
    if (parsed.tooLarge !== undefined) return Promise.reject(tooLarge(plugin, opts, parsed.tooLarge));
    if (parsed.err) {
      const e = parsed.err;
      return Promise.reject(new CaduceusError(opts.thrownCode,
        `Plugin '${plugin}' ${what(opts)} threw: ${e.message}`,
        { plugin, tool: opts.tool, hook: opts.hook, details: { pluginError: e.details === undefined ? { name: e.name, message: e.message, code: e.code } : { name: e.name, message: e.message, code: e.code, details: e.details } } }));
    }
    return Promise.resolve(parsed.ok);
  }

  private onSettle(id: number, reply: string): void {
    const p = this.pending.get(id);
    if (!p) {
      this.early.set(id, reply);
      return;
    }
    this.pending.delete(id);
    clearTimeout(p.timer);
    this.decode(reply, p.opts).then(p.resolve, p.reject);
    this.checkIdle();
  }

  /**
   * Resolves once no call is pending (or the isolate is gone). A hot reload retires the old generation
   * this way: calls already inside it finish there, and only then is the isolate disposed.
   */
  whenIdle(): Promise<void> {
    if (this.pending.size === 0 || this.disposed) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private checkIdle(): void {
    if ((this.pending.size > 0 && !this.disposed) || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private onSys(name: string, args: string): string {
    if (typeof name !== 'string' || typeof args !== 'string') {
      return '{"err":{"code":"CAD_ERR_SYSCALL_INVALID","message":"syscall arguments must be strings"}}';
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(args);
    } catch {
      return '{"err":{"code":"CAD_ERR_SYSCALL_INVALID","message":"syscall arguments are not JSON"}}';
    }
    let out: unknown;
    try {
      out = this.opts.syscall(name, parsed, this.session);
    } catch (err) {
      return JSON.stringify({ err: errShape(err) });
    }
    if (out instanceof Promise) {
      const req = this.nextSys++;
      out.then(
        (v) => this.deliver(req, JSON.stringify({ ok: v === undefined ? null : v })),
        (err) => this.deliver(req, JSON.stringify({ err: errShape(err) })),
      );
      return `{"pending":${req}}`;
    }
    return JSON.stringify({ ok: out === undefined ? null : out });
  }

  /**
   * Settles a syscall promise inside the isolate. What runs then is plugin code too, so it gets only the
   * time its call has left (a busy loop after `await ctx.tools.call(...)` times out on time, not a second
   * later). If it fails, the calls still waiting get that failure's own code (TIMEOUT or MEMORY) rather
   * than a generic crash: the continuation belongs to one of them, and which one cannot be told.
   */
  private deliver(req: number, reply: string): void {
    if (!this.alive) return;
    const budget = this.timeLeft();
    try {
      this.resolveSysRef.applySync(undefined, [req, reply], { timeout: watchdogMs(budget) });
    } catch (err) {
      const opts = [...this.pending.values()][0]?.opts ?? { timeoutMs: budget, maxBytes: 0, thrownCode: 'CAD_ERR_TOOL_FAILED' as const };
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        this.pending.delete(id);
        p.reject(this.classify(err, 'CAD_ERR_SANDBOX_CRASHED', p.opts));
      }
      this.fail(err, opts);
    }
  }

  /** Time until the latest pending call's deadline; bounds a continuation after an await. */
  private timeLeft(): number {
    // Nothing pending: background work after the calls settled, which gets a fixed second.
    if (this.pending.size === 0) return 1000;
    let latest = 0;
    let slice = 0;
    for (const p of this.pending.values()) {
      latest = Math.max(latest, p.deadline);
      slice = Math.max(slice, p.opts.sliceMs ?? p.opts.timeoutMs);
    }
    return Math.max(1, Math.min(slice, Math.ceil(latest - performance.now())));
  }

  private fail(err: unknown, opts: InvokeOptions): CaduceusError {
    const coded = this.classify(err, 'CAD_ERR_SANDBOX_CRASHED', opts);
    const kind: FailureKind = coded.code === 'CAD_ERR_SANDBOX_TIMEOUT' ? 'timeout' : coded.code === 'CAD_ERR_SANDBOX_MEMORY' ? 'out-of-memory' : 'crash';
    this.terminate(kind, coded);
    return coded;
  }

  private classify(err: unknown, fallback: ErrorCode, opts: Partial<InvokeOptions>): CaduceusError {
    if (err instanceof CaduceusError) return err;
    const plugin = this.opts.pluginId;
    const message = err instanceof Error ? err.message : String(err);
    const ctx = { plugin, tool: opts.tool, hook: opts.hook };
    if (/timed out/i.test(message)) {
      return new CaduceusError('CAD_ERR_SANDBOX_TIMEOUT',
        `Plugin '${plugin}' ${what(opts)} ran past its ${opts.timeoutMs ?? this.opts.loadTimeoutMs} ms limit; its isolate was disposed. Make it finish sooner, or raise timeoutMs.`, ctx);
    }
    if (/memory limit/i.test(message) || this.isolate.isDisposed) {
      return new CaduceusError('CAD_ERR_SANDBOX_MEMORY',
        `Plugin '${plugin}' ${what(opts)} exceeded its ${this.opts.memoryMb} MB memory limit; its isolate was disposed. Use less memory, or raise sandbox.memoryMb in the manifest.`, ctx);
    }
    return new CaduceusError(fallback, `Plugin '${plugin}' ${what(opts)} failed: ${message}`, ctx);
  }

  private terminate(kind: FailureKind, error: CaduceusError): void {
    if (this.disposed) return;
    this.dispose();
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new CaduceusError('CAD_ERR_SANDBOX_CRASHED',
        `Plugin '${this.opts.pluginId}' ${what(p.opts)} was stopped because its isolate was disposed (${error.code}).`,
        { plugin: this.opts.pluginId, tool: p.opts.tool, hook: p.opts.hook }));
    }
    this.onFailure?.(kind, error);
  }

  /**
   * Calls a callback the plugin registered (prelude `callback`), outside any call: a file watch's batch
   * of events, say. It gets CALLBACK_SLICE_MS of CPU; running past it, or out of memory, disposes the
   * isolate like any other overrun (the plugin's own exceptions are caught and logged in the isolate).
   */
  private push(channel: number, payloadJson: string): boolean {
    if (!this.alive) return false;
    try {
      this.callbackRef.applySync(undefined, [channel, payloadJson], { timeout: watchdogMs(CALLBACK_SLICE_MS) });
      return true;
    } catch (err) {
      this.fail(err, { timeoutMs: CALLBACK_SLICE_MS, maxBytes: 0, thrownCode: 'CAD_ERR_SANDBOX_CRASHED' });
      return false;
    }
  }

  /** Disposes the isolate; pending calls are rejected. Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.pending.values()) clearTimeout(p.timer);
    const closers = this.closers;
    this.closers = [];
    for (const close of closers) {
      try {
        close();
      } catch {
        // cleanup of one host resource must not stop the others
      }
    }
    queueMicrotask(() => this.checkIdle());
    if (!this.isolate.isDisposed) {
      try {
        this.isolate.dispose();
      } catch {
        // already gone
      }
    }
  }

  /** Calls still pending, for shutdown reports. */
  pendingCalls(): string[] {
    return [...this.pending.values()].map((p) => what(p.opts));
  }
}

function what(opts: Partial<InvokeOptions>): string {
  if (opts.tool) return `tool '${opts.tool}'`;
  if (opts.provider) return `provider '${opts.provider}'`;
  if (opts.command) return `command '${opts.command}'`;
  if (opts.hook) return `hook '${opts.hook}'`;
  return 'code';
}

function tooLarge(plugin: string, opts: InvokeOptions, size: number): CaduceusError {
  return new CaduceusError('CAD_ERR_SANDBOX_RESULT_TOO_LARGE',
    `Plugin '${plugin}' ${what(opts)} returned about ${size} bytes, over its maxResultBytes of ${opts.maxBytes}; the result was refused. Return less data or raise maxResultBytes in the descriptor.`,
    { plugin, tool: opts.tool, hook: opts.hook, details: { size, maxBytes: opts.maxBytes } });
}

function errShape(err: unknown): { code: string; message: string } {
  if (err instanceof CaduceusError) return { code: err.code, message: err.message };
  return { code: 'CAD_ERR_SYSCALL_INVALID', message: err instanceof Error ? err.message : String(err) };
}

/**
 * The `timeout` to give isolated-vm for a synchronous entry that may run `ms`: `ms` plus up to a tenth of
 * it (at most 100 ms), so that the deadline falls on a grid. isolated-vm arms a native timer for each
 * entry, and its timer thread wakes at every deadline, also of entries that returned long before; with
 * deadlines on a grid, one wake retires all the timers of a grid step instead of one wake per call. A
 * server answering thousands of calls a second otherwise keeps that thread waking as often, competing
 * for the CPU with the calls themselves (measured with `caduceus mcp serve`: 2,937 wakes for 5,500 calls
 * before, 193 after). performance.now() and the native steady clock are both CLOCK_MONOTONIC.
 */
export function watchdogMs(ms: number, now = performance.now()): number {
  const step = Math.max(1, Math.min(100, Math.floor(ms / 10)));
  return Math.ceil(Math.ceil((now + ms) / step) * step - now);
}
