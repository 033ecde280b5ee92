/**
 * `caduceus run` end to end through the real wire: the bundled `openai` provider plugin against the fake
 * OpenAI server (a separate process on 127.0.0.1), with the failures the runner must ride out - a 429
 * with Retry-After, a connection dropped mid-stream, a 500 - and an MCP server's tool (the official
 * server-everything over stdio) called by the model through the same pipeline as plugin tools.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, makeHome, tempDir, type Home } from '../helpers/cli.js';
import { spawnFakeLLM, type SpawnedFake } from '../fixtures/fake-llm/index.mjs';

let home: Home;
let fake: SpawnedFake;
const ws = tempDir('cad-run-wire-ws-');
let env: Record<string, string>;

beforeAll(async () => {
  home = makeHome('cad-run-wire-');
  writeFileSync(join(home.dir, 'config.json'), JSON.stringify({ runner: { retry: { baseMs: 5, maxDelayMs: 20 } } }));
  fake = await spawnFakeLLM('openai', { apiKey: 'k-wire' });
  expect(home.run(['plugins', 'grant', 'openai', `net:127.0.0.1:${fake.port}`]).code).toBe(0);
  env = { OPENAI_BASE_URL: fake.baseUrl, OPENAI_API_KEY: 'k-wire', ANTHROPIC_API_KEY: '', ANTHROPIC_BASE_URL: '', CADUCEUS_MODEL: '' };
}, 60_000);

afterAll(async () => {
  await fake?.close();
  home?.cleanup();
});

const runAsync = (args: string[]) => home.runAsync(args, { env, cwd: ws });

describe('caduceus run over the OpenAI wire format', () => {
  it('picks the configured openai provider by itself and streams its answer', async () => {
    await fake.queue({ text: 'Hello from the fake model.' });
    const r = await runAsync(['run', 'hi']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('Hello from the fake model.\n');
    expect(r.stderr).toContain('openai/gpt-4o-mini');
  });

  it('waits out a 429 with Retry-After, then answers', async () => {
    await fake.queue({ kind: 'error', status: 429, retryAfter: 1 }, { text: 'after the wait' });
    const t0 = Date.now();
    const r = await runAsync(['run', 'hi', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().text).toBe('after the wait');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
  });

  it('retries a stream that drops mid-way and a 500, and keeps only the good attempt\'s text', async () => {
    await fake.queue({ text: 'partial text that is lost', fault: { type: 'disconnect', after: 2 } }, { kind: 'error', status: 500 }, { text: 'clean answer' });
    const r = await runAsync(['run', 'hi', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().text).toBe('clean answer');
    const retries = home.run(['audit', 'tail', '--json', '-n', '2', '--kind', 'model.retry']).json<{ code: string }[]>();
    expect(retries.map((x) => x.code)).toEqual(['CAD_ERR_PROVIDER_NETWORK', 'CAD_ERR_PROVIDER_SERVER']);
  });

  it('stops at once on a bad key, saying which key and how to set it', async () => {
    const r = await home.runAsync(['run', 'hi'], { env: { ...env, OPENAI_API_KEY: 'wrong' }, cwd: ws });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CAD_ERR_PROVIDER_AUTH');
    expect(r.stderr).toContain('OPENAI_API_KEY');
  });

  it('reports a context overflow without retrying', async () => {
    await fake.queue({ kind: 'error', status: 400, code: 'context_length_exceeded', message: "This model's maximum context length is 128000 tokens." });
    const before = (await fake.requests()).length;
    const r = await runAsync(['run', 'hi']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CAD_ERR_PROVIDER_CONTEXT_LENGTH');
    expect((await fake.requests()).length - before).toBe(1);
  });

  it('lets the model call an MCP server\'s tool, through the pipeline, and answers with the result', async () => {
    const add = home.run(['mcp', 'add', 'everything', '--', 'node', join(ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js'), 'stdio'], { env });
    expect(add.code, add.stderr).toBe(0);
    // The auto reply serves both model calls: the tool call, then (with the result in) the answer.
    await fake.setFallback({ kind: 'auto', toolCalls: [{ name: 'mcp__everything__get-sum', args: { a: 2, b: 40 } }], text: 'The sum tool said: {{result}}' });
    const r = await runAsync(['run', 'add 2 and 40', '--json']);
    await fake.setFallback(null);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().text).toContain('42');
    const shown = (await fake.requests()).at(-1)!.body.tools.map((t: { function: { name: string } }) => t.function.name);
    expect(shown).toContain('mcp__everything__get-sum');
    const row = home.run(['audit', 'tail', '--json', '-n', '50', '--kind', 'tool.call']).json<{ tool: string; caller: string; outcome: string }[]>()
      .filter((x) => x.tool === 'mcp__everything__get-sum').at(-1)!;
    expect(row).toMatchObject({ caller: 'model', outcome: 'ok' });
  }, 60_000);
});
