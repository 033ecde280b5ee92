/**
 * Issue 8's end-to-end case for the files and terminal tools: `caduceus run` against the fake OpenAI server,
 * in which the model reads a file, patches it, runs a command and answers. Everything is real except the
 * model: the built CLI, the bundled plugins in their isolates, the file on disk, the command.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeHome, tempDir, type Home } from '../helpers/cli.js';
import { spawnFakeLLM, type SpawnedFake } from '../fixtures/fake-llm/index.mjs';

describe('caduceus run: the model reads a file, patches it, runs a command and answers', () => {
  let home: Home;
  let ws: string;
  let fake: SpawnedFake;

  beforeAll(async () => {
    home = makeHome('cad-tools-run-');
    ws = tempDir('cad-tools-run-ws-');
    writeFileSync(join(ws, 'app.js'), 'const answer = 41;\nconsole.log(answer);\n');
    fake = await spawnFakeLLM('openai', { apiKey: 'k-run' });
    expect(home.run(['plugins', 'grant', 'openai', `net:127.0.0.1:${fake.port}`]).code).toBe(0);
    expect(home.run(['plugins', 'enable', 'terminal', '--yes']).code).toBe(0);
  });
  afterAll(async () => {
    await fake?.close();
    home?.cleanup();
  });

  it('does all four through the sandboxed tools, and the results reach the model', async () => {
    await fake.queue(
      { toolCalls: [{ id: 'c1', name: 'read_file', args: { path: 'app.js' } }] },
      { toolCalls: [{ id: 'c2', name: 'patch', args: { path: 'app.js', old_string: 'const answer = 41;', new_string: 'const answer = 42;' } }] },
      { toolCalls: [{ id: 'c3', name: 'terminal', args: { command: 'node app.js' } }] },
      { text: 'Fixed: app.js now prints 42.' },
    );
    const env = { OPENAI_BASE_URL: fake.baseUrl, OPENAI_API_KEY: 'k-run', ANTHROPIC_API_KEY: '' };
    const r = await home.runAsync(['run', 'Make app.js print 42 and check it.', '--model', 'openai/fake-model'], { env, cwd: ws });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Fixed: app.js now prints 42.');
    expect(readFileSync(join(ws, 'app.js'), 'utf8')).toBe('const answer = 42;\nconsole.log(answer);\n');

    const requests = await fake.requests();
    expect(requests).toHaveLength(4);
    const offered = requests[0]!.body.tools.map((t: any) => t.function.name);
    expect(offered).toEqual(expect.arrayContaining(['read_file', 'write_file', 'patch', 'search_files', 'terminal', 'process']));
    const toolResult = (n: number, id: string) => {
      const msg = requests[n]!.body.messages.find((m: any) => m.role === 'tool' && m.tool_call_id === id);
      expect(msg, `tool result ${id} in request ${n}`).toBeDefined();
      return String(msg.content);
    };
    expect(toolResult(1, 'c1')).toContain('     1\\tconst answer = 41;');
    expect(toolResult(2, 'c2')).toContain('"replacements":1');
    const ran = toolResult(3, 'c3');
    expect(ran).toContain('"exitCode":0');
    expect(ran).toContain('"stdout":"42\\n"');

    const calls = home.run(['audit', 'tail', '-n', '100', '--json', '--kind', 'tool.call']).json<any[]>()
      .filter((x) => ['read_file', 'patch', 'terminal'].includes(x.tool));
    expect(calls.map((x) => [x.tool, x.caller, x.outcome])).toEqual([['read_file', 'model', 'ok'], ['patch', 'model', 'ok'], ['terminal', 'model', 'ok']]);
    // The patch the model made is undoable by the operator afterwards.
    const undo = home.run(['files', 'undo'], { cwd: ws });
    expect(undo.code, undo.stderr).toBe(0);
    expect(readFileSync(join(ws, 'app.js'), 'utf8')).toBe('const answer = 41;\nconsole.log(answer);\n');
  });
});
