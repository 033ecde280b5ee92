/**
 * The kernel: owns the store, the frozen hooks object, the registry view of enabled plugins and one
 * supervisor per active plugin. It knows nothing about any particular plugin. Opening a kernel reads
 * manifests from the store and starts no isolate; a plugin starts when one of its tools is called or one
 * of its declared hooks fires.
 */
import { existsSync, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { CaduceusError } from './errors.js';
import { createHooks, type Hooks } from './hooks.js';
import { Store, type PluginRow } from './store/store.js';
import { AuditLog } from './store/audit-log.js';
import { buildRegistry, type PluginRecord, type Registry, type ToolView } from './registry.js';
import type { AuditChainRow, AuditEvent, AuditRow } from './audit.js';
import type { AuditVerification } from './store/audit-verify.js';
import type { Manifest } from './manifest/schema.js';
import type { Supervisor, StrikePolicy } from './sandbox/supervisor.js';
import { tapPluginHooks } from './plugin-taps.js';
import { runToolCall, type CallOptions, type ToolCallResult } from './pipeline.js';
import { ToolSources } from './tool-source.js';
import { CADUCEUS_VERSION } from './version.js';
import { integrityOf } from './integrity.js';
import { syncBundled } from './lifecycle/bundled.js';
import type { SyscallFakes } from './syscalls/fakes.js';
import { SecretStore } from './secrets.js';
import type { ApprovalRequest } from './approvals.js';
import type { ProcessTable } from './syscalls/processes.js';
import { listProviders, ProviderCalls, toProviderError, type ProviderView } from './providers.js';
import type { ChatEvent, ChatRequest } from '../sdk/types.js';

const TAP = 'core:audit-store';
/** CPU a provider's code may use per entry into its isolate (parsing one batch of stream chunks). */
const PROVIDER_SLICE_MS = 5_000;

export interface KernelOptions {
  /** Caduceus home; default $CADUCEUS_HOME or ~/.caduceus. */
  home?: string;
  /** Working directory that $WORKSPACE grants expand to; default process.cwd(). */
  workspace?: string;
  /** Folder of bundled first-party plugins (holding .bundled.json). */
  bundledDir?: string;
  strikePolicy?: StrikePolicy;
  /**
   * Test kernels only (see `caduceus/sdk/testing`): stand-ins for the network, the environment and
   * other plugins' tools. Permission checks still run first.
   */
  fakes?: SyscallFakes;
  /** Where plugin log lines go; default: dropped unless CADUCEUS_LOG is set, then stderr. */
  log?: (plugin: string, level: string, message: string) => void;
}

export interface CaduceusConfig {
  plugins?: Record<string, Record<string, unknown>>;
  /** The default model for run/chat, `<provider>/<model>`. */
  model?: string;
  /** Agent loop settings (core/runner/agent.ts); numbers only, anything else is ignored. */
  runner?: { maxIterations?: number; maxToolResultChars?: number; maxTokens?: number; retry?: Record<string, unknown> } & Record<string, unknown>;
  /** Operator policy read by core/safety/policy.ts, which validates it (types here are what it accepts). */
  security?: {
    /** Hosts no plugin may fetch, whatever its grants: an exact host or `*.suffix` (the suffix included). */
    blockedDomains?: string[];
    /** Shell command globs (see commandGlobMatch): deny always refuses; allow runs a dangerous command without asking. */
    commands?: { allow?: string[]; deny?: string[] };
  };
  /** External MCP servers, in the Claude Desktop shape plus Caduceus fields (validated by core/mcp/config.ts). */
  mcpServers?: Record<string, unknown>;
  /** `caduceus mcp serve`: the bearer token its HTTP transport requires (literal or `${secret:NAME}`). */
  mcpServe?: { token?: string };
}

export function defaultHome(): string {
  return process.env.CADUCEUS_HOME || join(homedir(), '.caduceus');
}

export class Kernel {
  private builtHooks: Hooks | undefined;
  readonly store: Store;
  private readonly auditLog: AuditLog;
  readonly home: string;
  readonly workspace: string;
  readonly version = CADUCEUS_VERSION;
  readonly strikePolicy: StrikePolicy | undefined;
  readonly fakes: SyscallFakes | undefined;
  readonly logSink: (plugin: string, level: string, message: string) => void;
  private records: PluginRecord[] | undefined;
  private registry: Registry | undefined;
  private config: CaduceusConfig | undefined;
  private readonly runtimes = new Map<string, Supervisor>();
  private readonly activating = new Map<string, Promise<Supervisor>>();
  private generations = new Map<string, number>();
  /** Replaced generations still finishing their calls (see reload). */
  private readonly retiring = new Set<Supervisor>();
  private closed = false;
  private secretStore: SecretStore | undefined;

  constructor(opts: KernelOptions = {}) {
    this.home = opts.home ?? defaultHome();
    this.workspace = opts.workspace ?? process.cwd();
    this.strikePolicy = opts.strikePolicy;
    this.fakes = opts.fakes;
    this.logSink = opts.log ?? ((plugin, level, message) => {
      if (process.env.CADUCEUS_LOG) process.stderr.write(`[${plugin}] ${level}: ${message}\n`);
    });
    mkdirSync(this.home, { recursive: true });
    this.store = new Store(join(this.home, 'caduceus.db'));
    this.auditLog = new AuditLog(this.store, join(this.home, 'audit-journal'));
    if (opts.bundledDir) syncBundled(this, opts.bundledDir);
    // If anything already built the hooks, make sure every enabled plugin's taps are in (idempotent).
    if (this.builtHooks) for (const r of this.plugins()) if (r.enabled) this.tapHooksOf(r.manifest);
  }

  /**
   * The kernel's frozen hooks. Built on first use (with the audit store tap and the declared taps of
   * every enabled plugin), so commands that only read manifests never load tapable.
   */
  get hooks(): Hooks {
    if (!this.builtHooks) {
      const hooks = createHooks();
      this.builtHooks = hooks;
      hooks.audit.tap(TAP, (e) => this.auditLog.append(e));
      for (const r of this.plugins()) if (r.enabled) this.tapHooksOf(r.manifest);
    }
    return this.builtHooks;
  }

  private readonly tapped = new Set<string>();

  /** Taps the plugin's declared hooks once per kernel (see plugin-taps.ts). */
  tapHooksOf(m: Manifest): void {
    // Keyed per hook, so a reloaded generation that declares a new hook gets its tap too.
    const fresh = m.contributes.hooks.filter((h) => !this.tapped.has(`${m.id}\0${h.name}\0${h.scope}`));
    if (fresh.length === 0) return;
    for (const h of fresh) this.tapped.add(`${m.id}\0${h.name}\0${h.scope}`);
    tapPluginHooks(this, this.hooks, { ...m, contributes: { ...m.contributes, hooks: fresh } });
  }

  /** The operator's secrets (names and values); plugins reach them only through `secret:<NAME>` grants. */
  get secrets(): SecretStore {
    this.secretStore ??= new SecretStore(this.home);
    return this.secretStore;
  }

  isEnabled(id: string): boolean {
    return this.plugins().some((p) => p.id === id && p.enabled);
  }

  private readonly sessionApprovals = new Set<string>();

  /**
   * Decides a guard's "ask" (see approvals.ts): remembered answers, then the configured mode, then the
   * `approval` hook. Resolves true when the action may go ahead; every decision is audited.
   */
  async approve(req: ApprovalRequest): Promise<boolean> {
    const { decide } = await import('./approvals.js');
    return decide(this, req, this.sessionApprovals);
  }

  /** Emits an audit event through the host-only audit hook. */
  audit(e: AuditEvent): void {
    this.hooks.audit.call(e);
  }

  /** The newest audit rows, oldest first; includes events of this process not yet batched. */
  tailAudit(limit: number, filter: { plugin?: string; kind?: string } = {}): AuditRow[] {
    this.auditLog.flush();
    return this.store.tailAudit(limit, filter);
  }

  /** Checks the audit hash chain end to end (`caduceus audit verify`); flushes this process's events first. */
  verifyAudit(): AuditVerification {
    this.auditLog.flush();
    return this.store.verifyAudit();
  }

  /** Up to `limit` audit rows after seq `afterSeq` with their chain hashes, oldest first (`audit export`). */
  auditRowsAfter(afterSeq: number, limit: number): AuditChainRow[] {
    this.auditLog.flush();
    return this.store.auditRowsAfter(afterSeq, limit);
  }

  /** Installed plugins with their stored (validated) manifests and grants. Starts nothing. */
  plugins(): PluginRecord[] {
    if (!this.records) {
      const grants = this.store.allGrants();
      this.records = this.store.listPlugins().map((row) => toRecord(row, grants.get(row.id) ?? []));
    }
    return this.records;
  }

  plugin(id: string): PluginRecord {
    const r = this.plugins().find((p) => p.id === id);
    if (!r) throw new CaduceusError('CAD_ERR_PLUGIN_NOT_FOUND', `No installed plugin has the id '${id}'. Run \`caduceus plugins list\` to see installed plugins.`, { plugin: id });
    return r;
  }

  pluginRow(id: string): PluginRow {
    const row = this.store.getPlugin(id);
    if (!row) throw new CaduceusError('CAD_ERR_PLUGIN_NOT_FOUND', `No installed plugin has the id '${id}'. Run \`caduceus plugins list\` to see installed plugins.`, { plugin: id });
    return row;
  }

  /** Call after any change to installed plugins, grants or enable state. */
  invalidate(): void {
    this.intact.clear();
    this.records = undefined;
    this.registry = undefined;
  }

  configFor(id: string): Record<string, unknown> {
    return this.settings().plugins?.[id] ?? {};
  }

  /** The whole operator config ($CADUCEUS_HOME/config.json), read once per kernel. */
  settings(): CaduceusConfig {
    if (!this.config) {
      const file = join(this.home, 'config.json');
      if (!existsSync(file)) this.config = {};
      else {
        try {
          this.config = JSON.parse(readFileSync(file, 'utf8')) as CaduceusConfig;
        } catch (err) {
          throw new CaduceusError('CAD_ERR_CONFIG_INVALID', `Config '${file}' is not valid JSON: ${(err as Error).message}.`);
        }
      }
    }
    return this.config;
  }

  /** Tool sources besides plugins (core/tool-source.ts): external MCP servers. */
  readonly toolSources = new ToolSources(this);

  private currentRegistry(): Registry {
    if (!this.registry) {
      this.registry = this.toolSources.merge(buildRegistry(this.plugins(), {
        struckOut: (id) => this.runtimes.get(id)?.strikeError?.message,
        inBackoff: (id) => this.runtimes.get(id)?.status === 'backoff',
        config: (id) => this.configFor(id),
      }));
    }
    return this.registry;
  }

  /** Every tool of every installed plugin, with its live status. Starts nothing. */
  listTools(): ToolView[] {
    return [...this.currentRegistry().tools.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  conflicts(): Registry['conflicts'] {
    return this.currentRegistry().conflicts;
  }

  toolView(name: string): ToolView | undefined {
    return this.currentRegistry().tools.get(name);
  }

  /**
   * The list a model is shown: available tools with visibility `prompt`, passed through the
   * resolveTools waterfall. A plugin tap may drop tools but never add one that cannot run.
   */
  async resolveToolsForModel(): Promise<ToolView[]> {
    // Other sources may connect here (MCP servers not yet connected by this kernel), for fresh lists.
    await this.toolSources.prepare();
    const visible = this.listTools().filter((t) => t.visibility === 'prompt' && (t.status === 'available' || t.status === 'degraded')
      && t.trustClasses.includes('model') && (t.origin !== 'plugin' || this.bundleIntact(t.plugin)));
    if (!this.hooks.resolveTools.isUsed()) return visible;
    return this.hooks.resolveTools.promise(visible);
  }

  private readonly intact = new Map<string, boolean>();

  /**
   * Whether a plugin's bundle still hashes to its pinned integrity (checked once per kernel). Only the
   * model-facing list pays for this; plain listings read manifests only, and a load checks it anyway.
   */
  bundleIntact(id: string): boolean {
    let ok = this.intact.get(id);
    if (ok === undefined) {
      const row = this.store.getPlugin(id);
      try {
        ok = !!row && integrityOf(readFileSync(join(row.path, (JSON.parse(row.manifest) as Manifest).main))) === row.integrity;
      } catch {
        ok = false;
      }
      this.intact.set(id, ok);
    }
    return ok;
  }

  /** Live provider chat calls; the provider.* and net.stream.* syscalls reach them. */
  readonly providerCalls = new ProviderCalls();

  /** LLM providers of enabled plugins (from manifests; starts nothing), and name conflicts. */
  providers(): { providers: Map<string, ProviderView>; conflicts: string[] } {
    return listProviders(this.plugins());
  }

  /**
   * One streamed model call: runs the provider's `chat` in its plugin's isolate and hands each event to
   * `onEvent` as it arrives. Resolves when the provider is done; rejects with CAD_ERR_PROVIDER_<KIND>
   * (see providers.ts). Aborting `signal` cancels at once: the plugin's streams are closed and the call
   * rejects with CAD_ERR_PROVIDER_CANCELLED. No retries here; the runner decides those.
   */
  async chatModel(providerName: string, request: ChatRequest, opts: { onEvent: (e: ChatEvent) => void; signal?: AbortSignal }): Promise<void> {
    const view = this.providers().providers.get(providerName);
    if (!view) {
      const known = [...this.providers().providers.keys()];
      throw new CaduceusError('CAD_ERR_PROVIDER_NOT_CONFIGURED', `No enabled plugin serves the provider '${providerName}'. ${known.length ? `Enabled providers: ${known.join(', ')}.` : 'No provider plugin is enabled; run `caduceus plugins list` and enable one.'}`, { details: { provider: providerName } });
    }
    const call = this.providerCalls.open(view.plugin, providerName, opts.onEvent);
    const t0 = performance.now();
    let outcome: 'ok' | 'error' | 'timeout' = 'ok';
    let failure: CaduceusError | undefined;
    try {
      if (opts.signal?.aborted) throw call.cancelError();
      const rt = this.activeRuntime(view.plugin) ?? await this.activate(view.plugin);
      const running = rt.invoke('provider', providerName, JSON.stringify({ call: call.id, request }), {
        timeoutMs: view.timeoutMs, sliceMs: PROVIDER_SLICE_MS, maxBytes: 64 * 1024, thrownCode: 'CAD_ERR_PROVIDER_FAILED', provider: providerName,
      });
      if (!opts.signal) await running;
      else {
        let onAbort: (() => void) | undefined;
        const aborted = new Promise<never>((_, reject) => {
          onAbort = () => {
            call.cancel();
            reject(call.cancelError());
          };
          opts.signal!.addEventListener('abort', onAbort, { once: true });
        });
        // The plugin still finishes (its reads fail at once); its outcome no longer matters.
        running.catch(() => undefined);
        try {
          await Promise.race([running, aborted]);
        } finally {
          opts.signal.removeEventListener('abort', onAbort!);
        }
      }
      if (call.cancelled) throw call.cancelError();
    } catch (err) {
      failure = call.cancelled ? call.cancelError() : toProviderError(err, view.plugin, providerName);
      if (err instanceof CaduceusError && err.code === 'CAD_ERR_SANDBOX_TIMEOUT') outcome = 'timeout';
      else outcome = 'error';
      throw failure;
    } finally {
      this.providerCalls.close(call);
      this.audit({
        ts: Date.now(), kind: 'model.call', plugin: view.plugin, outcome, code: failure?.code,
        durationUs: Math.round((performance.now() - t0) * 1000),
        detail: failure ? { provider: providerName, model: request.model, message: failure.message.slice(0, 500) } : { provider: providerName, model: request.model },
      });
    }
  }

  /**
   * Background processes plugins started (`ctx.processes`): created by the first plugin load (load.ts,
   * so listings never load child_process), ended by `deactivate` (that plugin's) and `close` (all).
   */
  processTable: ProcessTable | undefined;

  /** Runs one tool call through the whole pipeline; never throws for tool failures. */
  callTool(name: string, args: unknown, opts: CallOptions): Promise<ToolCallResult> {
    return runToolCall(this, name, args, opts);
  }

  /** The supervisor of an active plugin, or a lazy one that activates on first invoke. */
  runtimeFor(id: string): Pick<Supervisor, 'invoke'> {
    const rt = this.runtimes.get(id);
    if (rt) return rt;
    return { invoke: async (...a: Parameters<Supervisor['invoke']>) => (await this.activate(id)).invoke(...a) };
  }

  /** Verifies and starts a plugin (once); concurrent callers share the same activation. */
  activate(id: string): Promise<Supervisor> {
    const existing = this.runtimes.get(id);
    if (existing) return existing.strikeError ? Promise.reject(existing.strikeError) : Promise.resolve(existing);
    let pending = this.activating.get(id);
    if (!pending) {
      const generation = (this.generations.get(id) ?? 0) + 1;
      this.generations.set(id, generation);
      // Loaded on first activation so listings never pay for zod or isolated-vm.
      pending = import('./lifecycle/load.js').then(({ loadPlugin }) => loadPlugin(this, id, generation)).then((sup) => {
        this.runtimes.set(id, sup);
        this.registry = undefined;
        return sup;
      }).finally(() => this.activating.delete(id));
      this.activating.set(id, pending);
    }
    return pending;
  }

  /**
   * Hot reload: starts the plugin's current install as a new generation beside the running one, then
   * swaps. Calls already inside the old generation finish there; calls made after the swap go to the
   * new one. If the new generation fails verification or its start, the error is thrown and the old
   * generation stays live, untouched.
   */
  async reload(id: string, reason = 'reload'): Promise<{ generation: number; previous: number | undefined }> {
    const activating = this.activating.get(id);
    if (activating) await activating.catch(() => undefined);
    this.invalidate();
    const old = this.runtimes.get(id);
    const generation = (this.generations.get(id) ?? 0) + 1;
    const { loadPlugin } = await import('./lifecycle/load.js');
    const next = await loadPlugin(this, id, generation);
    // Taps for hooks this generation adds, only now that it runs: a failed load must not leave a tap
    // pointing at the old isolate, which has no handler for it (a beforeToolCall tap would fail closed).
    if (this.isEnabled(id)) this.tapHooksOf(this.plugin(id).manifest);
    this.generations.set(id, generation);
    this.runtimes.set(id, next);
    this.registry = undefined;
    if (old) {
      const version = this.plugin(id).version;
      this.retiring.add(old);
      void old.retire().then(() => {
        this.retiring.delete(old);
        if (this.closed) return;
        this.audit({ ts: Date.now(), kind: 'plugin.unload', plugin: id, outcome: 'ok', detail: { reason: `${reason}: replaced by generation ${generation}`, generation: old.generation } });
        if (this.builtHooks?.pluginUnloaded.isUsed()) void this.hooks.pluginUnloaded.promise({ id, version, generation: old.generation }).catch(() => undefined);
      });
    }
    return { generation, previous: old?.generation };
  }

  /** The running supervisor of a plugin, if it is active and not struck out (no activation). */
  activeRuntime(id: string): Supervisor | undefined {
    const rt = this.runtimes.get(id);
    return rt && !rt.strikeError ? rt : undefined;
  }

  /** Why a plugin is struck out for this run (CAD_ERR_PLUGIN_STRUCK_OUT), or undefined. */
  strikeErrorOf(id: string): CaduceusError | undefined {
    return this.runtimes.get(id)?.strikeError;
  }

  isActive(id: string): boolean {
    return this.runtimes.has(id);
  }

  activeHeapBytes(id: string): number {
    return this.runtimes.get(id)?.heapBytes() ?? 0;
  }

  /** Stops a plugin's isolate (on disable, remove or close). */
  async deactivate(id: string, reason: string): Promise<void> {
    this.processTable?.killPlugin(id, reason);
    const rt = this.runtimes.get(id);
    if (!rt) return;
    this.runtimes.delete(id);
    this.registry = undefined;
    rt.dispose();
    const version = this.plugins().find((p) => p.id === id)?.version ?? '?';
    const generation = this.generations.get(id) ?? 0;
    this.audit({ ts: Date.now(), kind: 'plugin.unload', plugin: id, outcome: 'ok', detail: { reason, generation } });
    if (this.builtHooks?.pluginUnloaded.isUsed() && !this.closed) {
      await this.hooks.pluginUnloaded.promise({ id, version, generation }).catch(() => undefined);
    }
  }

  /** Reacts to supervisor and tool-source events (a crash, a fresh MCP tool list): the registry is rebuilt. */
  onSupervisorChange(): void {
    this.registry = undefined;
  }

  /** Stops every isolate; reports calls that never settled. */
  async close(): Promise<{ unsettled: string[] }> {
    const unsettled: string[] = [];
    for (const [id, rt] of this.runtimes) for (const c of rt.pendingCalls()) unsettled.push(`plugin '${id}' ${c}`);
    for (const rt of this.retiring) for (const c of rt.pendingCalls()) unsettled.push(`a replaced generation: ${c}`);
    unsettled.push(...await this.toolSources.close());
    this.providerCalls.closeAll();
    this.processTable?.closeAll();
    for (const id of [...this.runtimes.keys()]) await this.deactivate(id, 'kernel closed');
    for (const rt of this.retiring) rt.dispose();
    this.closed = true;
    this.auditLog.close();
    this.store.close();
    return { unsettled };
  }
}

function toRecord(row: PluginRow, grants: string[]): PluginRecord {
  return {
    id: row.id,
    version: row.version,
    enabled: row.enabled === 1,
    bundled: row.bundled === 1,
    manifest: JSON.parse(row.manifest) as Manifest,
    grants,
  };
}
