// Issue #5's number: the runner's own overhead for one turn with one tool call - everything except the
// model's latency. The model is the scripted-llm fixture (test/fixtures/plugins/scripted-llm), a real
// provider plugin in a real isolate that answers at once: the turn is two model calls (a tool call, then
// the answer) and one `hello_greet` call through the whole pipeline. Each sample is what `caduceus run`
// does after start-up: a new Agent (model resolution, context files, a new session row), the turn
// (prompt assembly through buildPrompt, tool list, both provider calls, argument repair, the tool call,
// every session row and audit row), and the session's end. The provider's own isolate time is included,
// so the figure is an upper bound on the runner's share.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLED_DIR, HELLO_DIR, ROOT, summarize, tempDir } from './lib.mjs';

export const RUNNER_GOAL_MS = 5;

export async function benchRunner(api, loop, log) {
  const { Kernel, installPlugin, enablePlugin } = api;
  const { buildPlugin } = await import('../dist/sdk/build.js');
  const { Agent } = await import('../dist/core/runner/agent.js');
  const fixture = tempDir('cad-bench-scripted-');
  cpSync(join(ROOT, 'test/fixtures/plugins/scripted-llm'), fixture, { recursive: true });
  await buildPlugin(fixture);
  const workspace = tempDir('cad-bench-runner-ws-');
  const k = new Kernel({ home: tempDir('cad-bench-runner-'), bundledDir: BUNDLED_DIR, workspace });
  await installPlugin(k, fixture);
  await enablePlugin(k, 'scripted-llm', { yes: true });
  await installPlugin(k, HELLO_DIR);
  await enablePlugin(k, 'hello', { yes: true });
  const prompt = 'call hello_greet {"name":"Ada"}';
  const expected = 'tool said: hello_greet={"greeting":"Hello, Ada!"}';
  const turn = async () => {
    const agent = new Agent(k, { model: 'scripted/script-1', cwd: workspace });
    const r = await agent.runTurn(prompt);
    await agent.end('completed');
    if (r.text !== expected || r.toolCalls !== 1) throw new Error(`runner bench: unexpected answer ${JSON.stringify(r.text)}`);
  };
  log(`runner: ${loop.warm} warm-up turns, then ${loop.n} timed turns (one tool call each)`);
  for (let i = 0; i < loop.warm; i++) await turn();
  const samples = [];
  for (let i = 0; i < loop.n; i++) {
    const t0 = performance.now();
    await turn();
    samples.push((performance.now() - t0) * 1000);
  }
  const sessions = k.store.db.prepare('SELECT COUNT(*) AS n FROM sessions').get().n;
  await k.close();
  const s = summarize(samples);
  return { ...s, warm: loop.warm, n: loop.n, sessions };
}
