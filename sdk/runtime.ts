/**
 * What `caduceus/sdk` becomes inside the sandbox bundle. Tool schemas are build-time artefacts: the build
 * turns them into JSON Schema (see build.ts, which evaluates the real SDK in a describe pass) and the host
 * validates every call against that. So inside the isolate `z` is a stand-in that accepts any schema-
 * building chain and keeps nothing, which keeps zod (≈3 MB of heap per isolate) out of every plugin.
 * Calling `.parse()` on it throws with a message that says what to do instead.
 */
import type { CommandDefinition, CommandOptions, PluginDefinition, PluginOptions, ProviderDefinition, ProviderOptions, ToolDefinition, ToolOptions } from './index.js';
import type { z as Z } from 'zod';

export { STAGE, HOST_ERROR_CODES } from './constants.js';
export { SseDecoder, parseRetryAfter } from './sse.js';
export { ProviderError, coalesceEvents, baseUrlHost, grantTargetOf, openProviderStream, notAnEventStream } from './provider-kit.js';

const PARSE_METHODS = new Set(['parse', 'safeParse', 'parseAsync', 'safeParseAsync', 'decode', 'encode']);

function standIn(): unknown {
  const fn = function zodStandIn() {
    return proxy;
  };
  const proxy: unknown = new Proxy(fn, {
    get(_t, prop) {
      if (prop === 'then') return undefined;
      if (prop === Symbol.toPrimitive || prop === 'toString') return () => '[schema, build-time only]';
      if (typeof prop === 'string' && PARSE_METHODS.has(prop)) {
        return () => {
          throw new Error(`zod .${prop}() is not available inside the Caduceus sandbox through caduceus/sdk: tool arguments are validated on the host before your handler runs. If you need to parse other data at run time, import 'zod' directly (it is then bundled, at about 3 MB of memory per plugin).`);
        };
      }
      return proxy;
    },
    apply: () => proxy,
    construct: () => proxy as object,
  });
  return proxy;
}

export const z = standIn() as typeof Z;

export function defineTool<I extends Z.ZodType, O extends Z.ZodType = Z.ZodUnknown>(opts: ToolOptions<I, O>): ToolDefinition {
  return {
    name: opts.name,
    handler: opts.handler as ToolDefinition['handler'],
    describe: () => {
      throw new Error('describe() runs only in the build');
    },
  };
}

export function definePlugin(opts: PluginOptions): PluginDefinition {
  return { __caduceus: 1, tools: opts.tools ?? [], providers: opts.providers ?? [], commands: opts.commands ?? [], hooks: opts.hooks ?? {}, setup: opts.setup };
}

export function defineProvider(opts: ProviderOptions): ProviderDefinition {
  return {
    name: opts.name,
    chat: opts.chat,
    describe: () => {
      throw new Error('describe() runs only in the build');
    },
  };
}


export function defineCommand(opts: CommandOptions): CommandDefinition {
  return {
    name: opts.name,
    run: opts.run,
    describe: () => {
      throw new Error('describe() runs only in the build');
    },
  };
}
