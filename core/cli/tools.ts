/** `caduceus tools list|call`. Listing reads manifests only; calling runs the full pipeline as the operator. */
import { CaduceusError } from '../errors.js';
import { c, printJson, statusColour, table, EXIT } from './output.js';
import { withKernel } from './open.js';

export async function list(opts: { json?: boolean; forModel?: boolean }): Promise<number> {
  return withKernel(async (k) => {
    const tools = opts.forModel ? await k.resolveToolsForModel() : k.listTools();
    // What other tool sources cannot serve (an invalid mcpServers entry, a server never listed) goes to stderr.
    for (const p of k.toolSources.problems()) process.stderr.write(`${p.note ? c.dim('note') : c.yellow('warning')} ${p.note ? p.message : `${p.code}: ${p.message}`}\n`);
    if (opts.json) { printJson(tools); return EXIT.OK; }
    if (tools.length === 0) {
      console.log(opts.forModel ? 'No tool is available to models.' : 'No tools. Install and enable a plugin: `caduceus plugins install <source>`.');
      return EXIT.OK;
    }
    console.log(table(tools.map((t) => [t.name, t.plugin, statusColour(t.status), t.mutating ? 'mutating' : 'read-only', t.status === 'available' ? t.description : `${t.reason}; fix: ${t.fix}`]),
      ['TOOL', 'PLUGIN', 'STATUS', 'KIND', 'DESCRIPTION']));
    return EXIT.OK;
  });
}

export async function call(name: string, rawArgs: string | undefined, opts: { json?: boolean; session?: string }): Promise<number> {
  let args: unknown;
  try {
    args = JSON.parse(rawArgs ?? '{}');
  } catch (err) {
    throw new CaduceusError('CAD_ERR_TOOL_ARGS_JSON', `Arguments for tool '${name}' are not valid JSON (${(err as Error).message}). Quote them as one JSON object, e.g. '{"name":"Ada"}'.`, { tool: name });
  }
  const { tapTerminalApprovals } = await import('./approval-prompt.js');
  return withKernel(async (k) => {
    tapTerminalApprovals(k);
    const r = await k.callTool(name, args, opts.session ? { caller: 'operator', session: opts.session } : { caller: 'operator' });
    if (opts.json) printJson(r);
    else if (r.ok) console.log(typeof r.result === 'string' ? r.result : JSON.stringify(r.result, null, 2));
    if (!r.ok) {
      process.stderr.write(`${c.red('error')} ${r.error.code}: ${r.error.message}\n`);
      return EXIT.FAILURE;
    }
    return EXIT.OK;
  });
}
