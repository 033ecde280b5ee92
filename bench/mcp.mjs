// Issue #7's number: a tool call through `caduceus mcp serve` over stdio costs at most 1.25× a plain MCP
// stdio round trip to a minimal SDK server, measured in the same run. Both sides are driven by the official
// SDK client, one call at a time, taking turns in blocks so machine load hits both alike, in three rounds
// (fresh processes each) of which the median ratio is reported:
//   plain: test/fixtures/mcp/minimal-server.mjs (McpServer, one `greet` tool, no pipeline at all);
//   serve: `node --no-node-snapshot bin/caduceus.js mcp serve` on a home with examples/hello enabled and the
//          bundled plugins as a fresh home has them (tool-policy's guard tapped), calling `hello_greet`:
//          the whole pipeline (validation, guard, isolate, result schema, audit row) behind the MCP server.
import { join } from 'node:path';
import { BIN, BUNDLED_DIR, HELLO_DIR, ROOT, summarize, tempDir } from './lib.mjs';

export const MCP_GOAL_RATIO = 1.25;

async function client(command, args, env) {
  const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
  const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
  const c = new Client({ name: 'caduceus-bench', version: '0' });
  let stderr = '';
  const transport = new StdioClientTransport({ command, args, env, cwd: ROOT, stderr: 'pipe' });
  transport.stderr?.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  try {
    await c.connect(transport);
  } catch (err) {
    throw new Error(`${args.join(' ')} did not start as an MCP server: ${err.message}; stderr: ${stderr}`);
  }
  return c;
}

/**
 * @param {{ Kernel: any, installPlugin: any, enablePlugin: any }} api the built public kernel API
 * @param {{ warm: number, n: number, block?: number }} loop
 * @param {(m: string) => void} log
 */
export async function benchMcp(api, loop, log) {
  const { Kernel, installPlugin, enablePlugin } = api;
  const home = tempDir('cad-bench-mcp-');
  const k = new Kernel({ home, bundledDir: BUNDLED_DIR });
  await installPlugin(k, HELLO_DIR);
  await enablePlugin(k, 'hello', { yes: true });
  const guard = k.isEnabled('tool-policy');
  await k.close();
  const env = { ...process.env, CADUCEUS_HOME: home, NO_COLOR: '1' };
  delete env.CADUCEUS_LOG;

  const rounds = [];
  for (let round = 1; round <= (loop.rounds ?? 1); round++) {
    log(`mcp: round ${round}/${loop.rounds ?? 1}: starting the minimal SDK server and \`caduceus mcp serve\` (stdio)`);
    rounds.push(await oneRound(env, loop, log));
  }
  // The round with the median ratio stands for the run: each round starts both servers afresh, and where the
  // scheduler puts three processes on two cores moves a single round's ratio by ±0.1 here.
  const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[rounds.length >> 1];
  return { ...median, rounds: rounds.map((r) => r.ratio), guard, n: loop.n, warm: loop.warm, block: loop.block ?? 200 };
}

async function oneRound(env, loop, log) {
  const plain = await client(process.execPath, [join(ROOT, 'test/fixtures/mcp/minimal-server.mjs')], env);
  const served = await client(process.execPath, ['--no-node-snapshot', BIN, 'mcp', 'serve'], env);
  try {
    // Correctness first: both answer the same greeting, and the served tool is the plugin's.
    const p = await plain.callTool({ name: 'greet', arguments: { name: 'Ada' } });
    const s = await served.callTool({ name: 'hello_greet', arguments: { name: 'Ada' } });
    if (JSON.parse(p.content[0].text).greeting !== 'Hello, Ada!') throw new Error(`minimal server answered ${JSON.stringify(p)}`);
    if (s.isError || s.structuredContent?.greeting !== 'Hello, Ada!') throw new Error(`caduceus mcp serve answered ${JSON.stringify(s)}`);
    const listed = (await served.listTools()).tools.map((t) => t.name);
    if (!listed.includes('hello_greet')) throw new Error(`caduceus mcp serve does not list hello_greet (${listed.join(', ')})`);

    const fns = [
      () => plain.callTool({ name: 'greet', arguments: { name: 'Ada' } }),
      () => served.callTool({ name: 'hello_greet', arguments: { name: 'Ada' } }),
    ];
    const block = loop.block ?? 200;
    log(`mcp: ${loop.warm} warm-up + ${loop.n} timed calls each, taking turns in blocks of ${block}`);
    for (let i = 0; i < loop.warm; i++) for (const f of fns) await f();
    const times = [[], []];
    for (let done = 0; done < loop.n; done += block) {
      for (let j = 0; j < fns.length; j++) {
        for (let i = 0; i < block && done + i < loop.n; i++) {
          const t0 = process.hrtime.bigint();
          await fns[j]();
          times[j].push(Number(process.hrtime.bigint() - t0) / 1000);
        }
      }
    }
    const [plainStats, serveStats] = times.map(summarize);
    return { plain: plainStats, serve: serveStats, ratio: serveStats.p50 / plainStats.p50 };
  } finally {
    await plain.close().catch(() => undefined);
    await served.close().catch(() => undefined);
  }
}
