/**
 * `caduceus/sdk`: what plugin authors import. `definePlugin` and `defineTool` describe a plugin in code;
 * the build (`caduceus plugin build`) bundles it into one sandboxable file and generates the manifest's
 * tool descriptors from these definitions, so the two never drift.
 */
import { z } from 'zod';
import type { HookName, PluginContext, PluginHookHandlers } from './types.js';

export type * from './types.js';
export { z };

export { STAGE, HOST_ERROR_CODES, type StageName, type HostErrorCode } from './constants.js';
import type { StageName } from './constants.js';

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
  handler: (args: z.output<I>, ctx: PluginContext) => z.input<O> | Promise<z.input<O>>;
}

export interface ToolDefinition {
  readonly name: string;
  readonly handler: (args: unknown, ctx: PluginContext) => unknown;
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
    handler: handler as (args: unknown, ctx: PluginContext) => unknown,
    describe() {
      const d: Record<string, unknown> = { ...rest, inputSchema: toSchema(input, 'input') };
      if (output) d.resultSchema = toSchema(output, 'output');
      return d;
    },
  };
}

function toSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

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

export interface PluginOptions {
  tools?: ToolDefinition[];
  /** Hooks tapped declaratively; the build declares them in the manifest with their stage. */
  hooks?: HookRegistrations;
  /** Runs once when the plugin's isolate starts. */
  setup?: (ctx: PluginContext) => void;
}

export interface PluginDefinition {
  readonly __caduceus: 1;
  readonly tools: ToolDefinition[];
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
  return { __caduceus: 1, tools: opts.tools ?? [], hooks: opts.hooks ?? {}, setup: opts.setup };
}
