/**
 * The greet-many plugin: greets a list of people by calling the hello plugin's `hello_greet` tool once
 * per name through `ctx.tools.call`. Each nested call goes through the whole pipeline (validation,
 * guards, hello's own isolate, audit) as caller `plugin:greet-many`, and needs the grant
 * `tools.call:hello_greet`; the manifest's `requires.plugins` keeps greet-many off until hello is on.
 */
import { definePlugin, defineTool, z } from 'caduceus/sdk';

const greetMany = defineTool({
  name: 'greet_many',
  description: 'Greets each of up to 20 people by name, using the hello plugin. Returns the greetings in the same order.',
  input: z.object({
    names: z.array(z.string().min(1).max(200)).min(1).max(20).describe('who to greet, in order'),
  }),
  output: z.object({ greetings: z.array(z.string()) }),
  mutating: false,
  idempotent: true,
  timeoutMs: 10_000,
  maxResultBytes: 64 * 1024,
  handler: async ({ names }, ctx) => {
    const greetings: string[] = [];
    // One at a time: the order of the result is the order of the names, and a failure stops the rest.
    for (const name of names) {
      const { greeting } = await ctx.tools.call<{ greeting: string }>('hello_greet', { name });
      greetings.push(greeting);
    }
    return { greetings };
  },
});

export default definePlugin({ tools: [greetMany] });
