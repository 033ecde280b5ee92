/**
 * `caduceus/sdk`: what plugin authors import. `definePlugin` and `defineTool` describe a plugin in code;
 * the build (`caduceus plugin build`) bundles it into one sandboxable file and generates the manifest's
 * tool descriptors from these definitions, so the two never drift.
 */
import { z } from 'zod';
import type { ChatRequest, ChatStream, CommandIO, HookName, ToolCallContext, PluginContext, PluginHookHandlers } from './types.js';

export type * from './types.js';
/**
 * zod, for tool input and output schemas. In the sandbox bundle it is a build-time stand-in: arguments
 * are validated on the host from the JSON Schema the build generates.
 *
 * @example
 * ```ts
 * const input = z.object({ city: z.string().min(1).describe('city name'), days: z.number().int().min(1).max(7).default(1) });
 * ```
 */
export { z };

export { STAGE, HOST_ERROR_CODES, type StageName, type HostErrorCode } from './constants.js';
export { SseDecoder, parseRetryAfter, type SseEvent } from './sse.js';
export { ProviderError, coalesceEvents, baseUrlHost, grantTargetOf, openProviderStream, notAnEventStream } from './provider-kit.js';
import type { StageName } from './constants.js';

/**
 * Everything `defineTool` takes: the descriptor fields, the zod schemas and the handler.
 *
 * @example
 * ```ts
 * const opts: ToolOptions<typeof input, typeof output> = { name: 'notes_add', description: 'Adds a note.', input, output, mutating: true, handler: async ({ text }, ctx) => { await ctx.kv.set(String(ctx.clock.now()), text); return { ok: true }; } };
 * ```
 */
export interface ToolOptions<I extends z.ZodType, O extends z.ZodType> {
  /** Must match ^[a-zA-Z0-9_-]{1,64}$; prefix it with your plugin id to avoid clashes. */
  name: string;
  description: string;
  input: I;
  output?: O;
  mutating?: boolean;
  idempotent?: boolean;
  visibility?: 'prompt' | 'operator';
  trustClasses?: Array<'model' | 'operator' | 'plugin' | 'mcp-client' | 'api-client'>;
  timeoutMs?: number;
  maxResultBytes?: number;
  auditKind?: string;
  toolset?: string;
  availability?: { env?: string[]; bins?: string[]; permissions?: string[]; config?: string[] };
  handler: (args: z.output<I>, ctx: PluginContext, call: ToolCallContext) => z.input<O> | Promise<z.input<O>>;
}

/**
 * What `defineTool` returns; pass it to `definePlugin({ tools })`.
 *
 * @example
 * ```ts
 * const tools: ToolDefinition[] = [greet, count];
 * export default definePlugin({ tools });
 * ```
 */
export interface ToolDefinition {
  readonly name: string;
  readonly handler: (args: unknown, ctx: PluginContext, call: ToolCallContext) => unknown;
  /** The descriptor the build writes into the manifest (JSON Schemas from the zod schemas). */
  describe(): Record<string, unknown>;
}

/**
 * Defines one tool. The handler gets arguments already validated on the host against the input schema.
 *
 * @example
 * ```ts
 * export const greet = defineTool({
 *   name: 'hello_greet',
 *   description: 'Greets someone by name.',
 *   input: z.object({ name: z.string().min(1) }),
 *   output: z.object({ greeting: z.string() }),
 *   mutating: false,
 *   idempotent: true,
 *   handler: ({ name }) => ({ greeting: `Hello, ${name}!` }),
 * });
 * ```
 */
export function defineTool<I extends z.ZodType, O extends z.ZodType = z.ZodUnknown>(opts: ToolOptions<I, O>): ToolDefinition {
  const { input, output, handler, ...rest } = opts;
  return {
    name: opts.name,
    handler: handler as (args: unknown, ctx: PluginContext, call: ToolCallContext) => unknown,
    describe() {
      const d: Record<string, unknown> = { ...rest, inputSchema: toSchema(input, 'input') };
      if (output) d.resultSchema = toSchema(output, 'output');
      return d;
    },
  };
}

/**
 * Tool schemas become JSON Schema, which the host validates against; so a zod type with no JSON Schema
 * equivalent is a build error, not a silently looser contract. Input schemas are also converted in
 * output mode, which refuses transforms: the sandbox never runs zod, so a transform would never apply.
 */
function toSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const side = io === 'input' ? 'input schema' : 'output schema';
  let json: Record<string, unknown>;
  try {
    json = z.toJSONSchema(schema, { io, unrepresentable: 'throw' }) as Record<string, unknown>;
    if (io === 'input') z.toJSONSchema(schema, { io: 'output', unrepresentable: 'throw' });
  } catch (err) {
    const why = (err as Error).message;
    const transform = /transform/i.test(why);
    throw new Error(`its ${side} has no JSON Schema equivalent (${why}). ${transform
      ? 'Transforms never run: arguments are validated on the host as JSON and passed to the handler as they are; convert inside the handler instead.'
      : 'Use JSON-representable types: e.g. z.string().describe("ISO 8601 date") instead of z.date(), z.number() or z.string() instead of z.bigint().'}`);
  }
  if (typeof json.$schema === 'string') delete json.$schema;
  return json;
}

/**
 * Hooks a plugin taps declaratively, each with its stage (and, for `beforeToolCall`, its scope).
 *
 * @example
 * ```ts
 * const hooks: HookRegistrations = { afterToolCall: { stage: 'AUDIT', handler: ({ tool }) => void tool } };
 * ```
 */
export type HookRegistrations = {
  [K in HookName]?: {
    stage?: StageName;
    /**
     * beforeToolCall only: `tool` declares that the verdict depends only on the tool, its plugin, the
     * caller and `mutating`. The handler then never receives arguments, and the kernel caches its
     * answer per tool and caller while the plugin runs.
     */
    scope?: K extends 'beforeToolCall' ? 'call' | 'tool' : never;
    handler: PluginHookHandlers[K];
  }
};

/**
 * What `definePlugin` takes.
 *
 * @example
 * ```ts
 * export default definePlugin({ tools: [greet], setup: (ctx) => ctx.log.info('started') });
 * ```
 */
export interface PluginOptions {
  tools?: ToolDefinition[];
  /** LLM providers; the build lists them (without the chat function) in the manifest. */
  providers?: ProviderDefinition[];
  /** Hooks tapped declaratively; the build declares them in the manifest with their stage. */
  hooks?: HookRegistrations;
  /** CLI commands (`caduceus <name> ...`); the build lists them (without `run`) in the manifest. */
  commands?: CommandDefinition[];
  /** Runs once when the plugin's isolate starts. */
  setup?: (ctx: PluginContext) => void;
}

/**
 * What `definePlugin` returns; it must be the entry's default export.
 *
 * @example
 * ```ts
 * const plugin: PluginDefinition = definePlugin({ tools: [greet] });
 * export default plugin;
 * ```
 */
export interface PluginDefinition {
  readonly __caduceus: 1;
  readonly tools: ToolDefinition[];
  readonly providers: ProviderDefinition[];
  readonly commands: CommandDefinition[];
  readonly hooks: HookRegistrations;
  readonly setup: ((ctx: PluginContext) => void) | undefined;
}

/**
 * Defines a plugin; make it the bundle's default export.
 *
 * @example
 * ```ts
 * export default definePlugin({
 *   tools: [greet],
 *   hooks: { beforeToolCall: { stage: 'GUARD', handler: (call) => call.tool === 'rm_all' ? { verdict: 'deny', reason: 'no' } : undefined } },
 * });
 * ```
 */
export function definePlugin(opts: PluginOptions): PluginDefinition {
  return { __caduceus: 1, tools: opts.tools ?? [], providers: opts.providers ?? [], commands: opts.commands ?? [], hooks: opts.hooks ?? {}, setup: opts.setup };
}

/**
 * Everything `defineProvider` takes. `configuredBy` says what makes the provider usable without starting
 * it: any one of the environment variables, secrets or config keys being set (the runner checks this to
 * pick a default provider and to explain what to set when none is).
 *
 * @example
 * ```ts
 * const opts: ProviderOptions = { name: 'acme', description: 'Acme LLM API', defaultModel: 'acme-large', configuredBy: { env: ['ACME_API_KEY'] }, chat: async (req, ctx, stream) => { stream.emit({ type: 'finish', reason: 'stop' }); } };
 * ```
 */
export interface ProviderOptions {
  /** The provider's name in model references (`<name>/<model>`): lowercase letters, digits, dashes. */
  name: string;
  description: string;
  defaultModel?: string;
  configuredBy?: { env?: string[]; secrets?: string[]; config?: string[] };
  /** JSON Schema keywords the provider's API rejects; the host strips them from tool schemas. */
  schemaKeywordsUnsupported?: string[];
  /** Wall-clock limit for one chat call, streaming included; default 600 000 ms. */
  timeoutMs?: number;
  chat: (request: ChatRequest, ctx: PluginContext, stream: ChatStream) => void | Promise<void>;
}

/**
 * What `defineProvider` returns; pass it to `definePlugin({ providers })`.
 *
 * @example
 * ```ts
 * export default definePlugin({ providers: [acme] });
 * ```
 */
export interface ProviderDefinition {
  readonly name: string;
  readonly chat: ProviderOptions['chat'];
  /** The declaration the build writes into the manifest's contributes.providers. */
  describe(): Record<string, unknown>;
}

/**
 * Defines an LLM provider: a `chat` function that streams a reply as events through `stream.emit` and
 * fails with a {@link ProviderError}.
 *
 * @example
 * ```ts
 * export const acme = defineProvider({
 *   name: 'acme',
 *   description: 'Acme LLM API',
 *   configuredBy: { env: ['ACME_API_KEY'] },
 *   chat: async (req, ctx, stream) => {
 *     const key = await ctx.env.get('ACME_API_KEY');
 *     const res = await stream.fetch('https://api.acme.example/v1/chat', { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: JSON.stringify(req) });
 *     if (res.status === 401) throw new ProviderError('auth', 'Acme rejected the API key', { status: 401 });
 *     for (let c = await res.read(); c !== null; c = await res.read()) stream.emit({ type: 'text', delta: c });
 *     stream.emit({ type: 'finish', reason: 'stop' });
 *   },
 * });
 * ```
 */
export function defineProvider(opts: ProviderOptions): ProviderDefinition {
  const { chat, ...rest } = opts;
  return { name: opts.name, chat, describe: () => ({ kind: 'llm', ...rest }) };
}


/**
 * Everything `defineCommand` takes. `name` becomes `caduceus <name>`; it must not be a built-in command
 * (`plugins`, `tools`, `run`, …: the build refuses those with CAD_ERR_COMMAND_RESERVED). `subcommands` are
 * listed in `caduceus <name> --help` without starting the plugin; `run` parses `argv` itself. `timeoutMs`
 * is the wall-clock limit of one run (default 60 000 ms); `0` means none, for commands that watch until
 * Ctrl-C.
 *
 * @example
 * ```ts
 * const opts: CommandOptions = {
 *   name: 'notes',
 *   description: 'Manage notes',
 *   subcommands: [{ name: 'list', description: 'List note titles', usage: 'notes list [--json]' }],
 *   run: async (argv, ctx, io) => { io.print((await ctx.kv.list('note:')).join('\n')); },
 * };
 * ```
 */
export interface CommandOptions {
  /** Lowercase letters, digits and dashes, starting with a letter; at most 64 characters. */
  name: string;
  description: string;
  subcommands?: { name: string; description: string; usage?: string }[];
  /** Wall-clock limit of one run in ms; 0 = no limit (each entry into the isolate still has a CPU slice). */
  timeoutMs?: number;
  /** Gets the arguments after the command name (without `--json`); returns the exit code (nothing = 0). */
  run: (argv: string[], ctx: PluginContext, io: CommandIO) => number | void | Promise<number | void>;
}

/**
 * What `defineCommand` returns; pass it to `definePlugin({ commands })`.
 *
 * @example
 * ```ts
 * export default definePlugin({ commands: [notesCommand] });
 * ```
 */
export interface CommandDefinition {
  readonly name: string;
  readonly run: CommandOptions['run'];
  /** The declaration the build writes into the manifest's contributes.commands. */
  describe(): Record<string, unknown>;
}

/**
 * Defines a CLI command the plugin serves: `caduceus <name> ...args` starts the plugin and calls `run`
 * in its sandbox with the arguments, the plugin's `ctx` and an `io` whose `print`/`error` reach the
 * terminal at once. The process exits with the number `run` returns (0 when it returns nothing; a throw
 * exits 1 with CAD_ERR_COMMAND_FAILED). Ctrl-C stops the run (exit 130). Each run writes a `command.run`
 * audit row.
 *
 * @example
 * ```ts
 * export const notes = defineCommand({
 *   name: 'notes',
 *   description: 'List or count the notes this plugin keeps',
 *   subcommands: [{ name: 'list', description: 'List note titles' }, { name: 'count', description: 'How many notes there are' }],
 *   run: async ([sub], ctx, io) => {
 *     const keys = await ctx.kv.list('note:');
 *     if (sub === 'count') io.print(String(keys.length));
 *     else if (sub === 'list') for (const k of keys) io.print(k.slice(5));
 *     else { io.error('usage: caduceus notes list|count'); return 2; }
 *     return 0;
 *   },
 * });
 * export default definePlugin({ commands: [notes] });
 * ```
 */
export function defineCommand(opts: CommandOptions): CommandDefinition {
  const { run, ...rest } = opts;
  return {
    name: opts.name,
    run,
    describe: () => ({ name: rest.name, description: rest.description, subcommands: rest.subcommands ?? [], timeoutMs: rest.timeoutMs ?? 60_000 }),
  };
}
