/**
 * tool-policy: the operator's allow/deny list for tools, as a guard on beforeToolCall at STAGE.GUARD.
 * Config (plugins.tool-policy in config.json): `deny` and `ask` are name globs (`*` matches any run of
 * characters); `askMutating` asks before every tool whose descriptor says it changes something.
 * Deny wins over ask. With no config it allows everything.
 */
import { definePlugin } from 'caduceus/sdk';
import { compileGlobs } from './globs.js';

export default definePlugin({
  hooks: {
    beforeToolCall: {
      stage: 'GUARD',
      // The policy looks only at tool names and `mutating`: it never needs, and never gets, arguments.
      scope: 'tool',
      handler: (call) => policy().check(call.tool, call.mutating),
    },
  },
  setup(ctx) {
    current = makePolicy(ctx.config as { deny?: string[]; ask?: string[]; askMutating?: boolean });
  },
});

let current: ReturnType<typeof makePolicy> | undefined;
function policy() {
  if (!current) throw new Error('tool-policy used before setup');
  return current;
}

function makePolicy(config: { deny?: string[]; ask?: string[]; askMutating?: boolean }) {
  const deny = compileGlobs(config.deny ?? []);
  const ask = compileGlobs(config.ask ?? []);
  return {
    check(tool: string, mutating: boolean) {
      const denied = deny(tool);
      if (denied) return { verdict: 'deny' as const, reason: `tool '${tool}' matches deny pattern '${denied}' in plugins.tool-policy.deny` };
      const asked = ask(tool);
      if (asked) return { verdict: 'ask' as const, question: `Run tool '${tool}'? (it matches '${asked}' in plugins.tool-policy.ask)` };
      if (config.askMutating && mutating) return { verdict: 'ask' as const, question: `Run tool '${tool}', which can change things?` };
      return undefined;
    },
  };
}
