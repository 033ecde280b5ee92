/**
 * The hello plugin: a third-party plugin as an author writes it. `hello_greet` is a synchronous,
 * read-only tool; `hello_count` awaits the kv syscall to count greetings per name.
 */
import { definePlugin, defineTool, z } from 'caduceus/sdk';

const greet = defineTool({
  name: 'hello_greet',
  description: 'Greets someone by name. Returns the greeting text.',
  input: z.object({ name: z.string().min(1).max(200).describe('who to greet') }),
  output: z.object({ greeting: z.string() }),
  mutating: false,
  idempotent: true,
  timeoutMs: 1000,
  maxResultBytes: 4096,
  handler: ({ name }, ctx) => ({ greeting: `Hello, ${name}${typeof ctx.config.punctuation === 'string' ? ctx.config.punctuation : '!'}` }),
});

const count = defineTool({
  name: 'hello_count',
  description: 'Records one more greeting for a name and returns how many it has had.',
  input: z.object({ name: z.string().min(1).max(200) }),
  output: z.object({ name: z.string(), count: z.int() }),
  mutating: true,
  idempotent: false,
  availability: { permissions: ['kv'] },
  timeoutMs: 2000,
  handler: async ({ name }, ctx) => {
    const key = `count:${name}`;
    const next = ((await ctx.kv.get<number>(key)) ?? 0) + 1;
    await ctx.kv.set(key, next);
    return { name, count: next };
  },
});

export default definePlugin({ tools: [greet, count] });
