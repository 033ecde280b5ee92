/**
 * `caduceus/sdk/testing`: test a plugin the way the host runs it. `loadPlugin` builds the plugin folder,
 * installs it into a throwaway Caduceus home, enables it with the grants the test chooses and starts it
 * in a real isolate. Calls go through the real pipeline (argument and result validation, guards, audit),
 * and syscalls through the real permission checks; only their effects can be replaced with fakes (a fake
 * `fetch`, a fake environment, stand-ins for other plugins' tools). So a test can assert both what a tool
 * returns and which syscalls were denied.
 *
 * This module runs in Node (your test runner), never inside a plugin bundle.
 */
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Kernel } from '../core/kernel.js';
import { installPlugin } from '../core/lifecycle/install.js';
import { enablePlugin, grantPermissions, revokePermissions } from '../core/lifecycle/manage.js';
import type { ToolCallResult } from '../core/pipeline.js';
import type { AuditRow } from '../core/audit.js';
import type { SyscallFakes, FakeFetchReply } from '../core/syscalls/fakes.js';
import { buildPlugin } from './build.js';
import { withinCeiling } from '../core/permissions.js';
import type { ChatEvent, ChatRequest } from './types.js';

export type { SyscallFakes, FakeFetchReply, ToolCallResult, AuditRow };

/**
 * How `loadPlugin` sets up the plugin under test.
 *
 * @example
 * ```ts
 * const opts: LoadOptions = { grants: [], fakes: { env: { API_KEY: 'test' } }, config: { units: 'metric' } };
 * ```
 */
export interface LoadOptions {
  /**
   * Permissions to grant, each one the manifest requests. Default: everything the manifest requests,
   * as `caduceus plugins enable --yes` would. Pass fewer to test what happens without them.
   */
  grants?: string[];
  /** Stand-ins for the network, the environment and other plugins' tools (checked permissions first). */
  fakes?: SyscallFakes;
  /** The plugin's config (what `plugins.<id>` in config.json would hold). */
  config?: Record<string, unknown>;
  /** Build the folder first with `caduceus plugin build` (default true when src/index.ts exists). */
  build?: boolean;
  /** What `$WORKSPACE` grants expand to; default a fresh temporary folder. */
  workspace?: string;
  /** Other plugin folders (already built) to install and enable first, e.g. one whose tools you call. */
  with?: string[];
}

/**
 * A plugin running in a real isolate inside a throwaway Caduceus home.
 *
 * @example
 * ```ts
 * const p: LoadedPlugin = await loadPlugin('.', { grants: [] });
 * const r = await p.call('weather_now', { city: 'Oslo' });
 * assert.deepEqual(p.denied(), [{ syscall: 'net.fetch', permission: 'net:api.weather.example', code: 'CAD_ERR_PERMISSION_DENIED' }]);
 * await p.close();
 * ```
 */
export interface LoadedPlugin {
  readonly id: string;
  /** The test kernel, for anything not covered here. */
  readonly kernel: Kernel;
  /** The workspace folder `$WORKSPACE` grants point at. */
  readonly workspace: string;
  /** Calls a tool through the full pipeline; never throws for tool failures (read `ok`). */
  call(tool: string, args?: unknown, opts?: { caller?: string; session?: string }): Promise<ToolCallResult>;
  /** Calls a tool and returns its result, or throws the coded error (with `code`). */
  run<T = unknown>(tool: string, args?: unknown): Promise<T>;
  /**
   * Calls one of the plugin's LLM providers (defineProvider) and collects what it streamed. Resolves with
   * the events and, when the call failed, the coded error (`CAD_ERR_PROVIDER_<KIND>`, with `details.kind`
   * and `details.retryAfterMs`); it never retries. Abort `signal` to test cancellation.
   */
  chat(provider: string, request: ChatRequest, opts?: { signal?: AbortSignal; onEvent?: (e: ChatEvent) => void }): Promise<{ events: ChatEvent[]; error?: { code: string; message: string; details?: Record<string, unknown> } }>;
  /** Syscalls the plugin was refused, oldest first: `{ syscall, permission?, code }`. */
  denied(): { syscall: string; permission: string | undefined; code: string | undefined }[];
  /** Every audit row of the test kernel, oldest first. */
  audit(): AuditRow[];
  /** Lines the plugin logged with ctx.log. */
  readonly logs: { level: string; message: string }[];
  /** Changes the grants while the plugin is loaded (it restarts with the new set). */
  setGrants(grants: string[]): Promise<void>;
  /** Stops the isolate and deletes the throwaway home. */
  close(): Promise<void>;
}

/**
 * Builds, installs and starts a plugin folder in a real isolate for a test.
 *
 * @example
 * ```ts
 * import { loadPlugin } from 'caduceus/sdk/testing';
 * const p = await loadPlugin('.', { fakes: { fetch: () => ({ json: { temp: 21 } }) } });
 * const r = await p.call('weather_now', { city: 'Oslo' });
 * assert.equal(r.ok, true);
 * assert.deepEqual(p.denied(), []);
 * await p.close();
 * ```
 */
export async function loadPlugin(dir: string, opts: LoadOptions = {}): Promise<LoadedPlugin> {
  const folder = resolve(dir);
  if (opts.build ?? existsSync(join(folder, 'src', 'index.ts'))) await buildPlugin(folder);
  const home = mkdtempSync(join(tmpdir(), 'caduceus-test-'));
  const workspace = opts.workspace ?? mkdtempSync(join(tmpdir(), 'caduceus-workspace-'));
  const logs: { level: string; message: string }[] = [];
  let kernel: Kernel | undefined;
  try {
    kernel = new Kernel({
      home, workspace,
      ...(opts.fakes ? { fakes: opts.fakes } : {}),
      log: (_plugin, level, message) => logs.push({ level, message }),
    });
    const k = kernel;
    for (const other of opts.with ?? []) {
      const r = await installPlugin(k, resolve(other));
      await enablePlugin(k, r.id, { yes: true });
    }
    const installed = await installPlugin(k, folder);
    const id = installed.id;
    if (opts.config) writeFileSync(join(home, 'config.json'), JSON.stringify({ plugins: { [id]: opts.config } }));
    const requested = k.plugin(id).manifest.permissions;
    const unknown = (opts.grants ?? []).filter((g) => !withinCeiling(requested, g));
    if (unknown.length) {
      throw new Error(`loadPlugin: plugin '${id}' does not request ${unknown.map((g) => `'${g}'`).join(', ')}; it requests ${requested.length ? requested.map((g) => `'${g}'`).join(', ') : 'no permissions'}. Add it to the manifest's permissions, or grant only what is requested.`);
    }
    await enablePlugin(k, id, { yes: true });
    if (opts.grants) await applyGrants(k, id, opts.grants);
    await k.activate(id);
    return {
      id, kernel: k, workspace, logs,
      call: (tool, args = {}, o = {}) => k.callTool(tool, args, o.session ? { caller: o.caller ?? 'operator', session: o.session } : { caller: o.caller ?? 'operator' }),
      async run<T>(tool: string, args: unknown = {}): Promise<T> {
        const r = await k.callTool(tool, args, { caller: 'operator' });
        if (r.ok) return r.result as T;
        throw Object.assign(new Error(r.error.message), { code: r.error.code, plugin: r.error.plugin });
      },
      async chat(provider, request, o = {}) {
        const events: ChatEvent[] = [];
        try {
          await k.chatModel(provider, request, {
            onEvent: (e) => {
              events.push(e);
              o.onEvent?.(e);
            },
            ...(o.signal ? { signal: o.signal } : {}),
          });
          return { events };
        } catch (err) {
          const e = err as { code?: string; message: string; details?: Record<string, unknown> };
          return { events, error: { code: e.code ?? 'CAD_ERR_PROVIDER_FAILED', message: e.message, ...(e.details ? { details: e.details } : {}) } };
        }
      },
      denied: () => k.tailAudit(100_000, { plugin: id, kind: 'syscall.denied' }).map((row) => ({
        syscall: String(row.detail?.syscall ?? ''),
        permission: row.detail?.permission === undefined ? undefined : String(row.detail.permission),
        code: row.code,
      })),
      audit: () => k.tailAudit(100_000),
      async setGrants(grants: string[]) {
        await applyGrants(k, id, grants);
        await k.activate(id);
      },
      async close() {
        await k.close();
        rmSync(home, { recursive: true, force: true });
        if (!opts.workspace) rmSync(workspace, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await kernel?.close().catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
    if (!opts.workspace) rmSync(workspace, { recursive: true, force: true });
    throw err;
  }
}

async function applyGrants(k: Kernel, id: string, grants: string[]): Promise<void> {
  const current = k.plugin(id).grants;
  const drop = current.filter((g) => !grants.includes(g));
  const add = grants.filter((g) => !current.includes(g));
  if (drop.length) await revokePermissions(k, id, drop);
  if (add.length) await grantPermissions(k, id, add);
}
