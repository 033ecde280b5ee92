/**
 * Types of the host API a plugin sees inside its isolate. Every call is checked against the plugin's
 * granted permissions on the host; a call outside them rejects with an error whose `code` is
 * `CAD_ERR_PERMISSION_DENIED` (match on `code`, never `instanceof`).
 */

export interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
  maxBytes?: number;
}

export interface FetchResponse {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  body: string;
  url: string;
  redirected: boolean;
}

export interface ToolCallPayload {
  tool: string;
  plugin: string;
  /** The call's arguments; absent for guards declared with scope 'tool', which never see them. */
  args?: unknown;
  caller: string;
  mutating: boolean;
}

export type Verdict =
  | { verdict: 'allow' }
  | { verdict: 'deny'; reason: string }
  | { verdict: 'ask'; question: string };

export interface ToolSummary {
  name: string;
  description: string;
  plugin: string;
  [key: string]: unknown;
}

/** Handlers a plugin may tap, with the payload each receives and what it may return. */
export interface PluginHookHandlers {
  beforeToolCall: (call: ToolCallPayload) => Verdict | undefined | void | Promise<Verdict | undefined | void>;
  afterToolCall: (info: { tool: string; plugin: string; caller: string; result: unknown }) => { result: unknown } | undefined | void | Promise<{ result: unknown } | undefined | void>;
  resolveTools: (tools: ToolSummary[]) => ToolSummary[] | Promise<ToolSummary[]>;
  toolError: (info: { tool: string; plugin?: string; caller: string; error: { code: string; message: string } }) => void | Promise<void>;
  pluginLoad: (info: { id: string; version: string; source: string; integrity: string; permissions: string[] }) => { veto: string } | undefined | void | Promise<{ veto: string } | undefined | void>;
  pluginLoaded: (info: { id: string; version: string; generation: number }) => void | Promise<void>;
  pluginUnloaded: (info: { id: string; version: string; generation: number }) => void | Promise<void>;
}

export type HookName = keyof PluginHookHandlers;

export interface PluginContext {
  readonly pluginId: string;
  /** The operator's config for this plugin (plugins.<id> in config.json), validated against configSchema. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly log: {
    debug(...args: unknown[]): void;
    info(...args: unknown[]): void;
    warn(...args: unknown[]): void;
    error(...args: unknown[]): void;
  };
  /** The plugin's own key-value namespace (permission `kv`). Values are JSON. */
  readonly kv: {
    get<T = unknown>(key: string): Promise<T | null>;
    set(key: string, value: unknown): Promise<null>;
    delete(key: string): Promise<boolean>;
    list(prefix?: string): Promise<string[]>;
  };
  /** HTTP(S) to granted hosts (permission `net:<host>`), with the SSRF floor always on. */
  fetch(url: string, init?: FetchInit): Promise<FetchResponse>;
  /** Files under granted roots (permissions `fs.read:<dir>`, `fs.write:<dir>`). */
  readonly fs: {
    read(path: string): Promise<string>;
    write(path: string, content: string): Promise<{ bytes: number }>;
    list(path: string): Promise<{ name: string; type: 'file' | 'dir' | 'other' }[]>;
    stat(path: string): Promise<{ type: 'file' | 'dir' | 'other'; size: number; mtimeMs: number } | null>;
  };
  /** Environment variables (permission `env:<NAME>`). */
  readonly env: { get(name: string): Promise<string | null> };
  /** Other tools, through the full pipeline (permission `tools.call:<name>`). */
  readonly tools: { call<T = unknown>(name: string, args: unknown): Promise<T> };
  readonly clock: { now(): number };
  /** Taps for hooks declared in the manifest's contributes.hooks. */
  readonly hooks: { [K in HookName]: { tap(fn: PluginHookHandlers[K]): void } };
}
