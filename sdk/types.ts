
export type * from './chat-types.js';

/**
 * Options for `ctx.fetch`. `timeoutMs` and `maxBytes` may only lower the host's ceilings (120 s, 50 MiB).
 *
 * @example
 * ```ts
 * await ctx.fetch('https://api.example.com/items', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}', timeoutMs: 5_000 });
 * ```
 */
export interface FetchInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
  maxBytes?: number;
}

/**
 * Options for `ctx.exec`.
 *
 * @example
 * ```ts
 * const r = await ctx.exec('npm test', { cwd: 'packages/api', timeoutMs: 120_000, maxOutputBytes: 200_000 });
 * ```
 */
export interface ExecOptions {
  /** Working directory relative to the workspace; must stay inside it. */
  cwd?: string;
  /** Default 60 s, at most 600 s; the whole process group is killed when it passes. */
  timeoutMs?: number;
  /** Cap for stdout and for stderr, each; default 1 MiB, at most 16 MiB. */
  maxOutputBytes?: number;
  /** Written to the command's stdin. */
  input?: string;
}

/**
 * What `ctx.exec` resolves to. A non-zero exit is a result, not an error.
 *
 * @example
 * ```ts
 * const { exitCode, stdout, stderr, timedOut } = await ctx.exec('git status --short');
 * if (exitCode !== 0) return { error: stderr.slice(0, 2000) };
 * ```
 */
export interface ExecResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** Output went past maxOutputBytes and was cut. */
  truncated: boolean;
  timedOut: boolean;
  durationMs: number;
}

/**
 * Options for `ctx.processes.start`. Unlike `ctx.exec`, a background process has no time limit unless
 * you set one; it lives until it exits, you kill it, or the `caduceus` process that started it ends.
 *
 * @example
 * ```ts
 * const p = await ctx.processes.start('npm run dev', { cwd: 'web', timeoutMs: 30 * 60_000 });
 * ```
 */
export interface ProcessStartOptions {
  /** Working directory relative to the workspace; must stay inside it. */
  cwd?: string;
  /** Kill the whole process group after this long (at most 24 h); none by default. */
  timeoutMs?: number;
  /** Written to the command's stdin, which is then closed. */
  input?: string;
}

/**
 * A background process as `ctx.processes` reports it. `status` is `running`, `exited` (on its own),
 * `killed` (by `kill`, or because its plugin or the kernel stopped) or `timed_out`.
 *
 * @example
 * ```ts
 * const all: ProcessInfo[] = await ctx.processes.list();
 * const busy = all.filter((p) => p.status === 'running').map((p) => `${p.id}: ${p.command}`);
 * ```
 */
export interface ProcessInfo {
  /** `p1`, `p2`, …: unique within one `caduceus` process. */
  id: string;
  command: string;
  /** Absolute working directory. */
  cwd: string;
  pid: number | null;
  status: 'running' | 'exited' | 'killed' | 'timed_out';
  exitCode: number | null;
  signal: string | null;
  /** Unix milliseconds. */
  startedAt: number;
  /** So far, or until it ended. */
  durationMs: number;
}

/**
 * What `ctx.processes.poll` resolves to: the status plus the output that arrived since the previous poll.
 * The host keeps at most 256 Ki characters of unread output per stream; `droppedChars` counts what it
 * had to drop (the oldest unread output) because nobody polled in time.
 *
 * @example
 * ```ts
 * const { status, stdout, droppedChars } = await ctx.processes.poll('p1', { waitMs: 5_000 });
 * if (droppedChars > 0) ctx.log.warn(`lost ${droppedChars} characters of output`);
 * ```
 */
export interface ProcessOutput extends ProcessInfo {
  stdout: string;
  stderr: string;
  droppedChars: number;
}

/**
 * One match of `ctx.safety.scanText`: the rule (e.g. `injection.override`, `hidden.css`, `unicode.tags`),
 * its severity, where it starts in the text (UTF-16 index) and an excerpt of at most 80 characters with
 * invisible characters spelled out as `\u{XXXX}`.
 *
 * @example
 * ```ts
 * const f: TextScanFinding = { rule: 'injection.override', severity: 'dangerous', index: 120, excerpt: 'Ignore all previous instructions and' };
 * ```
 */
export interface TextScanFinding {
  rule: string;
  severity: 'caution' | 'dangerous';
  index: number;
  excerpt: string;
}

/**
 * What `ctx.safety.scanText` resolves to: `safe`, `caution` or `dangerous`, the rule that decided it (the
 * first of the most severe findings) and every finding in text order (at most 100, dangerous ones kept
 * first). The rules are listed in docs/security.md.
 *
 * @example
 * ```ts
 * const scan: TextScanResult = await ctx.safety.scanText(page.body);
 * if (scan.verdict === 'dangerous') return { refused: `the page tries to instruct the model (${scan.rule})` };
 * ```
 */
export interface TextScanResult {
  verdict: 'safe' | 'caution' | 'dangerous';
  rule?: string;
  findings: TextScanFinding[];
}

/**
 * What `ctx.fetch` resolves to: the body as text, headers lower-cased, and the final URL after redirects
 * (each hop re-checked against the grants).
 *
 * @example
 * ```ts
 * const res = await ctx.fetch('https://api.example.com/items');
 * if (res.status !== 200) throw new Error(`api said ${res.status} ${res.statusText}`);
 * const items = JSON.parse(res.body) as unknown[];
 * ```
 */
export interface FetchResponse {
  status: number;
  statusText: string;
  headers: Record<string, string>;
  body: string;
  url: string;
  redirected: boolean;
}

/**
 * What a `beforeToolCall` handler receives for each call.
 *
 * @example
 * ```ts
 * hooks: { beforeToolCall: { stage: 'GUARD', handler: (call: ToolCallPayload) => (call.mutating && call.caller === 'model' ? { verdict: 'ask', question: `Let the model run ${call.tool}?` } : undefined) } }
 * ```
 */
export interface ToolCallPayload {
  tool: string;
  plugin: string;
  /** The call's arguments; absent for guards declared with scope 'tool', which never see them. */
  args?: unknown;
  caller: string;
  mutating: boolean;
}

/**
 * A guard's answer: allow, deny with a reason the caller sees, or ask the operator. Returning nothing
 * means "no opinion"; the next guard decides.
 *
 * @example
 * ```ts
 * const verdict: Verdict = { verdict: 'deny', reason: 'writes outside the project are not allowed' };
 * ```
 */
export type Verdict =
  | { verdict: 'allow' }
  | { verdict: 'deny'; reason: string }
  | { verdict: 'ask'; question: string };

/**
 * One tool as `resolveTools` handlers see it: the descriptor fields plus the owning plugin.
 *
 * @example
 * ```ts
 * hooks: { resolveTools: { handler: (tools: ToolSummary[]) => tools.filter((t) => !t.name.startsWith('debug_')) } }
 * ```
 */
export interface ToolSummary {
  name: string;
  description: string;
  plugin: string;
  [key: string]: unknown;
}

/**
 * Handlers a plugin may tap, with the payload each receives and what it may return. Declare them in
 * `definePlugin({ hooks })`; the build lists them (with their stage) in the manifest.
 *
 * @example
 * ```ts
 * const onError: PluginHookHandlers['toolError'] = ({ tool, error }) => void ctx.log.warn(tool, error.code);
 * ```
 */
export interface PluginHookHandlers {
  beforeToolCall: (call: ToolCallPayload) => Verdict | undefined | void | Promise<Verdict | undefined | void>;
  afterToolCall: (info: { tool: string; plugin: string; caller: string; result: unknown }) => { result: unknown } | undefined | void | Promise<{ result: unknown } | undefined | void>;
  resolveTools: (tools: ToolSummary[]) => ToolSummary[] | Promise<ToolSummary[]>;
  toolError: (info: { tool: string; plugin?: string; caller: string; error: { code: string; message: string } }) => void | Promise<void>;
  pluginLoad: (info: { id: string; version: string; source: string; integrity: string; permissions: string[] }) => { veto: string } | undefined | void | Promise<{ veto: string } | undefined | void>;
  pluginLoaded: (info: { id: string; version: string; generation: number }) => void | Promise<void>;
  pluginUnloaded: (info: { id: string; version: string; generation: number }) => void | Promise<void>;
  buildPrompt: (prompt: PromptInfo) => PromptInfo | undefined | void | Promise<PromptInfo | undefined | void>;
  sessionStart: (info: SessionInfo) => void | Promise<void>;
  sessionEnd: (info: { sessionId: string; reason: string }) => void | Promise<void>;
  resolveCommands: (commands: SlashCommandInfo[]) => SlashCommandInfo[] | Promise<SlashCommandInfo[]>;
  runCommand: (call: SlashCommandCall) => SlashCommandResult | undefined | void | Promise<SlashCommandResult | undefined | void>;
  skillsChanged: (change: { added: string[]; changed: string[]; removed: string[] }) => void | Promise<void>;
}

/**
 * One part of the system prompt. Sections marked `stable` form the cacheable prefix: they must be the
 * same on every turn of a session (identity, context files, a frozen skills index, a memory snapshot),
 * so providers with prompt caching reuse them. The runner keeps stable sections before the others.
 *
 * @example
 * ```ts
 * const section: PromptSection = { id: 'memory', title: 'Notes you kept', text: '- the user prefers metric units', stable: true };
 * ```
 */
export interface PromptSection {
  /** Unique within the prompt, e.g. `identity`, `context:AGENTS.md`, `skills`, `memory`. */
  id: string;
  title?: string;
  text: string;
  stable: boolean;
}

/**
 * What `buildPrompt` handlers receive and return: the session and the sections so far. A handler
 * returns the whole value with its sections added, changed or removed (or nothing, to leave it as is).
 *
 * @example
 * ```ts
 * hooks: { buildPrompt: { handler: (p: PromptInfo) => ({ ...p, sections: [...p.sections, { id: 'style', text: 'Answer briefly.', stable: true }] }) } }
 * ```
 */
export interface PromptInfo {
  sessionId: string;
  /** Turn number in the session, from 1. */
  turn: number;
  cwd: string;
  /** `<provider>/<model>`, e.g. `openai/gpt-4o-mini`. */
  model: string;
  sections: PromptSection[];
}

/**
 * A session as `sessionStart` handlers see it.
 *
 * @example
 * ```ts
 * hooks: { sessionStart: { handler: ({ sessionId, resumed }: SessionInfo) => void ctx.log.info(sessionId, resumed) } }
 * ```
 */
export interface SessionInfo {
  sessionId: string;
  model: string;
  cwd: string;
  /** true for `caduceus chat --resume`. */
  resumed: boolean;
}

/**
 * A slash command offered in `caduceus chat` (`/<name> args`). Plugins add theirs in `resolveCommands`
 * and answer them in `runCommand`. Names: lowercase letters, digits, `-`, `_`, `.`, `:`.
 *
 * @example
 * ```ts
 * hooks: { resolveCommands: { handler: (cmds: SlashCommandInfo[]) => [...cmds, { name: 'standup', description: 'Draft my stand-up notes' }] } }
 * ```
 */
export interface SlashCommandInfo {
  name: string;
  description: string;
  /** Filled in by the host: the plugin that answers it. */
  plugin?: string;
}

/**
 * A slash command the user typed, as `runCommand` handlers receive it.
 *
 * @example
 * ```ts
 * const call: SlashCommandCall = { name: 'standup', args: 'for Monday', sessionId: 's_01' };
 * ```
 */
export interface SlashCommandCall {
  name: string;
  /** Everything after the command name, trimmed. */
  args: string;
  sessionId: string;
}

/**
 * A `runCommand` answer: `message` is sent to the model as the user's turn; `print` is shown to the user
 * only. Return nothing when the command is not yours.
 *
 * @example
 * ```ts
 * hooks: { runCommand: { handler: ({ name, args }: SlashCommandCall): SlashCommandResult | undefined => (name === 'standup' ? { message: `Draft stand-up notes ${args}` } : undefined) } }
 * ```
 */
export interface SlashCommandResult {
  message?: string;
  print?: string;
}

/**
 * The names of the hooks plugins may tap.
 *
 * @example
 * ```ts
 * const tapped: HookName[] = ['beforeToolCall', 'afterToolCall'];
 * ```
 */
export type HookName = keyof PluginHookHandlers;

/**
 * The tools `ctx.tools.call` knows by name, each as `{ args; result }`. Empty here: the file
 * `caduceus types` writes (`caduceus-tools.d.ts` by default; include it in your tsconfig) fills it by
 * declaration merging with the tools of the installed plugins. While it is empty, `ctx.tools.call` takes
 * any name and arguments, as if untyped; once it has entries, the name must be one of them, the arguments
 * must match its `args` and the promise resolves to its `result`.
 *
 * @example
 * ```ts
 * // caduceus-tools.d.ts, as `caduceus types` writes it:
 * export interface HelloGreetArgs { name: string }
 * export interface HelloGreetResult { greeting: string }
 * declare module 'caduceus/sdk' {
 *   interface ToolRegistry {
 *     hello_greet: { args: HelloGreetArgs; result: HelloGreetResult };
 *   }
 * }
 *
 * // in a tool handler:
 * const { greeting } = await ctx.tools.call('hello_greet', { name: 'Ada' }); // greeting: string
 * ```
 */
export interface ToolRegistry {}

/**
 * The signature of `ctx.tools.call`: checked against {@link ToolRegistry} when it has entries.
 *
 * @example
 * ```ts
 * const call: ToolCall = ctx.tools.call;
 * const out = await call('hello_greet', { name: 'Ada' });
 * ```
 */
export type ToolCall = [keyof ToolRegistry] extends [never]
  ? <T = unknown>(name: string, args: unknown) => Promise<T>
  : <N extends keyof ToolRegistry & string>(name: N, args: ToolRegistryEntry<N, 'args'>) => Promise<ToolRegistryEntry<N, 'result'>>;

type ToolRegistryEntry<N extends keyof ToolRegistry, K extends 'args' | 'result'> =
  ToolRegistry[N] extends { [P in K]: infer V } ? V : unknown;

/**
 * The per-plugin host API, the second argument of every tool handler and of `setup`. Each member is a
 * syscall checked on the host against the plugin's granted permissions.
 *
 * @example
 * ```ts
 * handler: async ({ city }, ctx: PluginContext) => {
 *   const key = await ctx.secrets.get('WEATHER_API_KEY');          // permission secret:WEATHER_API_KEY
 *   const res = await ctx.fetch(`https://api.weather.example/v1?q=${city}`, { headers: { authorization: `Bearer ${key}` } }); // net:api.weather.example
 *   await ctx.kv.set(`last:${city}`, res.body);                      // kv
 *   return JSON.parse(res.body);
 * }
 * ```
 */
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
    /**
     * Deletes one file (or a symlink itself, never its target) under a granted write root (permission
     * `fs.write:<dir>`). Folders are refused. Resolves `{ removed: false }` when nothing was there.
     *
     * @example
     * ```ts
     * const { removed } = await ctx.fs.remove('build/report.txt');
     * ```
     */
    remove(path: string): Promise<{ removed: boolean }>;
    /**
     * The absolute real path `path` resolves to inside a granted root (symlinks followed; for a path that
     * does not exist yet, its folder's real path plus the name). The same file gives the same answer from
     * any workspace, so it suits keys of per-file state.
     *
     * @example
     * ```ts
     * const abs = await ctx.fs.realpath('src/index.ts'); // e.g. '/home/ada/project/src/index.ts'
     * ```
     */
    realpath(path: string): Promise<string>;
    /**
     * Deletes an empty folder under a granted write root (never the root itself). Resolves
     * `{ removed: false }` when nothing was there; a folder that is not empty fails with CAD_ERR_FS_FAILED.
     *
     * @example
     * ```ts
     * await ctx.fs.remove('out/cache/a.json');
     * await ctx.fs.removeDir('out/cache');
     * ```
     */
    removeDir(path: string): Promise<{ removed: boolean }>;
    /**
     * Watches a folder under a granted read root (it may not exist yet: it is watched once it appears).
     * `listener` receives debounced batches of changes as long as the isolate runs; `close()` stops it.
     * Symlinks inside are never followed. See {@link WatchBatch} and {@link WatchOptions}.
     *
     * @example
     * ```ts
     * const watch = await ctx.fs.watch('$WORKSPACE/notes', (batch) => {
     *   if (batch.overflow) rescanEverything();
     *   for (const e of batch.events) ctx.log.info(e.type, e.path);
     * }, { debounceMs: 50 });
     * ```
     */
    watch(path: string, listener: (batch: WatchBatch) => void | Promise<void>, options?: WatchOptions): Promise<{ id: number; path: string; mode: 'native' | 'polling' | 'waiting'; close(): Promise<{ closed: boolean }> }>;
    /**
     * Plugin commands only: copies a file, folder or `.tgz` that the operator named on the command line
     * (the exact argument) into a private staging folder under `$PLUGIN_DATA` (needs a grant on it) and
     * describes it. The staging folder is deleted when the command run ends. See {@link StagedSource}.
     *
     * @example
     * ```ts
     * run: async ([source], ctx, io) => {
     *   const staged = await ctx.fs.stage(source);
     *   if (staged.skipped.length) { io.error(`refusing links: ${staged.skipped.map((s) => s.path).join(', ')}`); return 1; }
     *   for (const f of staged.files) io.print(`${f.path} ${f.size} ${f.binary ? 'binary' : 'text'}`);
     * }
     * ```
     */
    stage(path: string): Promise<StagedSource>;
    /**
     * The skill folders enabled plugins ship (`contributes.skills`), with the plugin that ships each
     * (permission `fs.read:$PLUGIN_SKILLS`, which also lets the plugin read them).
     *
     * @example
     * ```ts
     * for (const { plugin, path } of await ctx.fs.skillDirs()) ctx.log.info(plugin, await ctx.fs.list(path));
     * ```
     */
    skillDirs(): Promise<{ plugin: string; path: string }[]>;
  };
  /** Environment variables (permission `env:<NAME>`). */
  readonly env: { get(name: string): Promise<string | null> };
  /**
   * Runs a shell command in the workspace (permission `exec`). The command guard classifies it first:
   * hardline commands never run (CAD_ERR_EXEC_HARDLINE), dangerous ones need the operator's approval, and
   * the operator's deny/allow globs apply (CAD_ERR_EXEC_DENIED). The environment holds no secrets unless
   * granted as `env:<NAME>`; output is capped and a timeout kills the whole process group.
   */
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
  /**
   * Background commands (permission `exec`): `start` passes the same guard and approval as `exec` and
   * resolves at once with an id; `poll` returns the output since the previous poll (waiting up to
   * `waitMs`, at most 60 s, for something new); `kill` ends the whole process group. A plugin sees only its
   * own processes. They end when the `caduceus` process that started them ends (a `tools call` ends them
   * on exit; a chat keeps them across turns) and when the plugin is disabled.
   *
   * @example
   * ```ts
   * const { id } = await ctx.processes.start('python -m http.server 8000');
   * const first = await ctx.processes.poll(id, { waitMs: 2_000 });
   * await ctx.processes.kill(id);
   * ```
   */
  readonly processes: {
    start(command: string, opts?: ProcessStartOptions): Promise<ProcessInfo>;
    list(): Promise<ProcessInfo[]>;
    poll(id: string, opts?: { waitMs?: number }): Promise<ProcessOutput>;
    kill(id: string): Promise<ProcessInfo>;
  };
  /**
   * Secrets the operator stored with `caduceus secrets set <NAME>` (permission `secret:<NAME>`); null when
   * not set. Each read is audited by name, never by value.
   */
  readonly secrets: { get(name: string): Promise<string | null> };
  /**
   * Other tools, through the full pipeline (permission `tools.call:<name>`). Typed by {@link ToolRegistry}
   * once `caduceus types` has filled it; until then any name, any arguments and a result you type yourself.
   */
  readonly tools: { call: ToolCall };
  /**
   * The host's prompt-injection scanner, for text a plugin is about to hand a model (a fetched page, a
   * file, a memory entry): the same rules `caduceus guards check text` applies. No permission needed; it
   * has no effect. At most 1 MiB per call (CAD_ERR_SYSCALL_INVALID above that).
   */
  readonly safety: { scanText(text: string): Promise<TextScanResult> };
  readonly clock: { now(): number };
  /**
   * What the host has, without revealing values: whether programs are on PATH, environment variables are
   * set (not their values) and tools are available, plus the platform. No permission needed.
   *
   * @example
   * ```ts
   * const p = await ctx.probe({ bins: ['git'], env: ['GITHUB_TOKEN'], tools: ['web_fetch'] });
   * if (!p.bins.git) return { error: 'git is not installed' };
   * ```
   */
  probe(request: ProbeRequest): Promise<ProbeResult>;
  /**
   * Fires a notification hook the plugin may fire (permission `emit:<hook>`; today only `skillsChanged`),
   * so the runner and plugins that tap it hear about it. Resolves once it is fired, not when handled.
   *
   * @example
   * ```ts
   * await ctx.emit('skillsChanged', { added: ['pdf-forms'], changed: [], removed: [] });
   * ```
   */
  emit(hook: 'skillsChanged', payload: { added: string[]; changed: string[]; removed: string[] }): Promise<null>;
  /** Taps for hooks declared in the manifest's contributes.hooks. */
  readonly hooks: { [K in HookName]: { tap(fn: PluginHookHandlers[K]): void } };
}

/**
 * The third argument of a tool handler: who called the tool and in which agent session (null outside a
 * session, e.g. `caduceus tools call` without `--session`). Use it for per-session state.
 *
 * @example
 * ```ts
 * handler: async (args, ctx, call: ToolCallContext) => {
 *   const key = `todo:${call.sessionId ?? 'default'}`;
 *   return (await ctx.kv.get(key)) ?? [];
 * }
 * ```
 */
export interface ToolCallContext {
  /** `model`, `operator`, `mcp-client`, `api-client` or `plugin:<id>`. */
  caller: string;
  sessionId: string | null;
}

/**
 * The third argument of a plugin command's `run` (see `defineCommand`): `print` writes one line to the
 * operator's stdout and `error` one line to stderr, each at once (they are synchronous calls to the host,
 * so a watcher's output appears as it happens); `json` is true when the operator passed `--json`, which
 * the host removes from `argv`.
 *
 * @example
 * ```ts
 * run: (argv, ctx, io: CommandIO) => {
 *   const rows = [{ name: 'a', size: 1 }];
 *   if (io.json) io.print(JSON.stringify(rows));
 *   else for (const r of rows) io.print(`${r.name}\t${r.size}`);
 *   return 0;
 * }
 * ```
 */
export interface CommandIO {
  print(text: string): void;
  error(text: string): void;
  json: boolean;
}

/**
 * Options for `ctx.fs.watch`: the quiet period before a batch is delivered (10–5000 ms, default 100; a
 * steady stream of changes still delivers every 10 periods), how deep to watch (0–16, default 8) and
 * names never reported or descended into (default `.git` and `node_modules`).
 *
 * @example
 * ```ts
 * const opts: WatchOptions = { debounceMs: 50, depth: 3, ignore: ['.git', 'dist'] };
 * ```
 */
export interface WatchOptions {
  debounceMs?: number;
  depth?: number;
  ignore?: string[];
}

/**
 * One delivery of `ctx.fs.watch`: the changes since the last batch, one per path (an add then a delete
 * in one batch cancel out), with absolute paths under the path you watched. `overflow` means changes may
 * have been missed (too many at once, the folder appeared or vanished, a fallback to polling, and once
 * when the watch is first ready, since changes just before that went unseen): rescan.
 * `mode` is `native`, `polling` (the system ran out of native watches) or `waiting` (the folder is gone).
 *
 * @example
 * ```ts
 * const onBatch = (b: WatchBatch) => b.events.filter((e) => e.type === 'change').map((e) => e.path);
 * ```
 */
export interface WatchBatch {
  events: { type: 'add' | 'change' | 'unlink' | 'addDir' | 'unlinkDir'; path: string }[];
  overflow: boolean;
  mode: 'native' | 'polling' | 'waiting';
}

/**
 * What `ctx.fs.stage` resolves to: where the copy is, what was copied (size, sha256, whether binary) and
 * what was not (links, devices, tarball entries pointing outside), and one hash of the whole content.
 *
 * @example
 * ```ts
 * const s: StagedSource = await ctx.fs.stage('./my-skill.tgz');
 * const text = await ctx.fs.read(`${s.root}/SKILL.md`);
 * ```
 */
export interface StagedSource {
  root: string;
  source: string;
  kind: 'folder' | 'tarball' | 'file';
  files: { path: string; size: number; sha256: string; binary: boolean }[];
  skipped: { path: string; type: 'symlink' | 'hardlink' | 'other' | 'unsafe'; target?: string }[];
  contentHash: string;
}

/**
 * What `ctx.probe` asks about: at most 64 names of each kind.
 *
 * @example
 * ```ts
 * const req: ProbeRequest = { bins: ['ffmpeg'], env: ['OPENAI_API_KEY'] };
 * ```
 */
export interface ProbeRequest {
  bins?: string[];
  env?: string[];
  tools?: string[];
}

/**
 * What `ctx.probe` answers: the host platform (`linux`, `darwin`, `win32`, …) and architecture, and a yes
 * or no for each name asked about.
 *
 * @example
 * ```ts
 * const r: ProbeResult = { platform: 'linux', arch: 'x64', bins: { git: true }, env: { GITHUB_TOKEN: false }, tools: {} };
 * ```
 */
export interface ProbeResult {
  platform: string;
  arch: string;
  bins: Record<string, boolean>;
  env: Record<string, boolean>;
  tools: Record<string, boolean>;
}
