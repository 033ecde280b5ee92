/**
 * Keeps one plugin generation serving: starts its sandbox on first use, restarts it with exponential
 * backoff after a crash, timeout or memory overrun, and strikes it out (disabled for this kernel run)
 * after repeated failures in a window. The host and other plugins keep serving throughout.
 */
import { CaduceusError } from '../errors.js';
import { Sandbox, type BootInfo, type FailureKind, type InvokeOptions, type SyscallHandler } from './sandbox.js';

export interface StrikePolicy {
  maxStrikes: number;
  windowMs: number;
  backoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_STRIKES: StrikePolicy = { maxStrikes: 3, windowMs: 60_000, backoffMs: 100, maxBackoffMs: 2_000 };

export interface SupervisorOptions {
  pluginId: string;
  generation: number;
  memoryMb: number;
  wasm: boolean;
  config: Record<string, unknown>;
  loadTimeoutMs: number;
  /** Reads the bundle, re-checking integrity each time the sandbox (re)starts. */
  readBundle: () => { source: string; file: string };
  /** Checks what the code registered against the manifest. */
  verifyBoot: (info: BootInfo) => void;
  syscall: SyscallHandler;
  policy?: StrikePolicy;
  onEvent: (event: SupervisorEvent) => void;
}

export type SupervisorEvent =
  | { type: 'started'; durationUs: number; heapBytes: number }
  | { type: 'failure'; kind: FailureKind; error: CaduceusError; strikes: number; backoffMs: number }
  | { type: 'struck-out'; error: CaduceusError; strikes: number };

export class Supervisor {
  private sandbox: Sandbox | undefined;
  private strikes: number[] = [];
  private restartAt = 0;
  private struckOut: CaduceusError | undefined;
  private readonly policy: StrikePolicy;

  constructor(private readonly opts: SupervisorOptions) {
    this.policy = opts.policy ?? DEFAULT_STRIKES;
  }

  get status(): 'running' | 'idle' | 'backoff' | 'struck-out' {
    if (this.struckOut) return 'struck-out';
    if (this.sandbox?.alive) return 'running';
    return this.restartAt > Date.now() ? 'backoff' : 'idle';
  }

  get strikeError(): CaduceusError | undefined {
    return this.struckOut;
  }

  /** Starts the sandbox now (used at load so load errors surface at enable/activation time). */
  start(): void {
    if (this.struckOut) throw this.struckOut;
    if (this.sandbox?.alive) return;
    const t0 = performance.now();
    const { source, file } = this.opts.readBundle();
    const sandbox = new Sandbox({
      pluginId: this.opts.pluginId,
      bundleSource: source,
      bundleFile: file,
      memoryMb: this.opts.memoryMb,
      wasm: this.opts.wasm,
      config: this.opts.config,
      loadTimeoutMs: this.opts.loadTimeoutMs,
      syscall: this.opts.syscall,
    });
    const info = sandbox.boot();
    try {
      this.opts.verifyBoot(info);
    } catch (err) {
      sandbox.dispose();
      throw err;
    }
    sandbox.onFailure = (kind, error) => this.recordFailure(kind, error);
    this.sandbox = sandbox;
    this.opts.onEvent({ type: 'started', durationUs: Math.round((performance.now() - t0) * 1000), heapBytes: sandbox.heapBytes() });
  }

  invoke(kind: 'tool' | 'hook' | 'provider' | 'command', name: string, argsJson: string, opts: InvokeOptions): Promise<unknown> {
    const sb = this.sandbox;
    if (sb !== undefined && sb.alive) return sb.invoke(kind, name, argsJson, opts);
    return this.restartThenInvoke(kind, name, argsJson, opts);
  }

  private async restartThenInvoke(kind: 'tool' | 'hook' | 'provider' | 'command', name: string, argsJson: string, opts: InvokeOptions): Promise<unknown> {
    if (this.struckOut) throw this.struckOut;
    if (this.retired) {
      throw new CaduceusError('CAD_ERR_SANDBOX_CRASHED', `Plugin '${this.opts.pluginId}' generation ${this.opts.generation} was replaced by a reload; call again.`, { plugin: this.opts.pluginId });
    }
    const wait = this.restartAt - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (this.struckOut) throw this.struckOut;
    if (this.retired) {
      throw new CaduceusError('CAD_ERR_SANDBOX_CRASHED', `Plugin '${this.opts.pluginId}' generation ${this.opts.generation} was replaced by a reload while this call waited to restart it; call again.`, { plugin: this.opts.pluginId });
    }
    if (!this.sandbox?.alive) this.start();
    return this.sandbox!.invoke(kind, name, argsJson, opts);
  }

  private recordFailure(kind: FailureKind, error: CaduceusError): void {
    const now = Date.now();
    this.strikes = this.strikes.filter((t) => now - t < this.policy.windowMs);
    this.strikes.push(now);
    const n = this.strikes.length;
    if (n >= this.policy.maxStrikes) {
      this.struckOut = new CaduceusError('CAD_ERR_PLUGIN_STRUCK_OUT',
        `Plugin '${this.opts.pluginId}' failed ${n} times within ${this.policy.windowMs / 1000} s (last: ${error.code}) and is disabled for this run. Read \`caduceus audit tail --plugin ${this.opts.pluginId}\`, fix or remove the plugin, then restart.`,
        { plugin: this.opts.pluginId, details: { last: error.code, strikes: n } });
      this.opts.onEvent({ type: 'struck-out', error: this.struckOut, strikes: n });
      return;
    }
    const backoff = Math.min(this.policy.maxBackoffMs, this.policy.backoffMs * 2 ** (n - 1));
    this.restartAt = now + backoff;
    this.opts.onEvent({ type: 'failure', kind, error, strikes: n, backoffMs: backoff });
  }

  /** Identity of the running isolate: changes whenever the sandbox is (re)started. */
  isolateToken(): object | undefined {
    return this.sandbox?.alive ? this.sandbox : undefined;
  }

  get generation(): number {
    return this.opts.generation;
  }

  heapBytes(): number {
    return this.sandbox?.heapBytes() ?? 0;
  }

  pendingCalls(): string[] {
    return this.sandbox?.pendingCalls() ?? [];
  }

  /**
   * Takes this generation out of service gracefully: the calls already running finish on it, then the
   * isolate is disposed. New calls must already be going to the next generation.
   */
  async retire(): Promise<void> {
    this.retired = true;
    const sb = this.sandbox;
    if (sb) await sb.whenIdle();
    this.dispose();
  }

  /** Set once a newer generation replaced this one; a retired supervisor never restarts. */
  private retired = false;

  dispose(): void {
    this.sandbox?.dispose();
    this.sandbox = undefined;
  }
}
