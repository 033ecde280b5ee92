/**
 * `caduceus types`: writes one `.d.ts` that types `ctx.tools.call` (the SDK's `ToolRegistry`) for the
 * tools of the installed plugins, from the JSON Schemas in their manifests, so a plugin calling another
 * plugin's tool is type-checked. Reads manifests only and starts no plugin. The conversion itself lives
 * in core/tool-types.ts, which other tool sources (MCP servers) can feed the same way.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { CaduceusError } from '../errors.js';
import { GENERATED_MARKER, renderToolTypes, type TypedTool } from '../tool-types.js';
import { c, printJson, EXIT } from './output.js';
import { withKernel } from './open.js';

export const DEFAULT_OUT = 'caduceus-tools.d.ts';

interface Skipped { name: string; plugin: string; reason: string }

export async function types(opts: { out?: string; plugin?: string[]; json?: boolean }): Promise<number> {
  const file = resolve(opts.out ?? DEFAULT_OUT);
  return withKernel(async (k) => {
    // k.plugin throws CAD_ERR_PLUGIN_NOT_FOUND for an id that is not installed.
    const only = opts.plugin?.length ? new Set(opts.plugin.map((id) => k.plugin(id).id)) : undefined;
    const conflicts = new Map(k.conflicts().map((x) => [x.name, x.plugins]));
    const tools: (TypedTool & { plugin: string })[] = [];
    const skipped: Skipped[] = [];
    // Every installed plugin counts, enabled or not: types describe what a plugin may call once enabled.
    for (const t of k.listTools()) {
      if (only && !only.has(t.plugin)) continue;
      const owners = conflicts.get(t.name);
      if (owners) { skipped.push({ name: t.name, plugin: t.plugin, reason: `contributed by both ${owners.map((o) => `'${o}'`).join(' and ')}, so neither is served` }); continue; }
      if (!t.trustClasses.includes('plugin')) { skipped.push({ name: t.name, plugin: t.plugin, reason: `plugins may not call it (trustClasses: ${t.trustClasses.join(', ')})` }); continue; }
      tools.push({ name: t.name, plugin: t.plugin, description: t.description, source: t.origin === 'mcp' ? `MCP server ${t.mcp?.server ?? t.plugin}` : `plugin ${t.plugin} ${k.plugin(t.plugin).version}`, inputSchema: t.inputSchema, resultSchema: t.resultSchema });
    }
    const command = ['caduceus types', ...(only ? [...only].sort().map((id) => `--plugin ${id}`) : [])].join(' ');
    const r = await renderToolTypes(tools, { command });
    const changed = write(file, r.text);
    const plugins = [...new Set(tools.map((t) => t.plugin))].sort();

    if (opts.json) {
      const byName = new Map(tools.map((t) => [t.name, t.plugin]));
      printJson({ ok: true, file, changed, plugins, tools: r.tools.map((t) => ({ name: t.name, plugin: byName.get(t.name), args: t.args, result: t.result })), skipped, warnings: r.warnings });
      return EXIT.OK;
    }
    const shown = relative(process.cwd(), file) || file;
    const count = `${r.tools.length} tool${r.tools.length === 1 ? '' : 's'} from ${plugins.length} plugin${plugins.length === 1 ? '' : 's'}${plugins.length ? ` (${plugins.join(', ')})` : ''}`;
    console.log(changed ? `${c.green('wrote')} ${shown}: ${count}` : `${shown} is up to date: ${count}`);
    for (const s of skipped) console.log(c.dim(`skipped ${s.name} (plugin ${s.plugin}): ${s.reason}`));
    for (const w of r.warnings) process.stderr.write(`${c.yellow('warning')} ${w}\n`);
    if (changed) console.log(c.dim('Include it in your tsconfig so ctx.tools.call is type-checked against these tools.'));
    return EXIT.OK;
  });
}

/** Writes only when the text changed (watchers stay quiet), through a rename so readers never see half. */
function write(file: string, text: string): boolean {
  let current: string | undefined;
  try {
    current = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  } catch (err) {
    throw outputError(file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (current !== undefined && !current.startsWith(GENERATED_MARKER)) {
    throw outputError(file, 'exists and was not written by `caduceus types`, so it is left alone');
  }
  if (current === text) return false;
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw outputError(file, `cannot be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return true;
}

function outputError(file: string, what: string): CaduceusError {
  return new CaduceusError('CAD_ERR_CLI_OUTPUT', `The types file '${file}' ${what}. Pass --out with a new file, or one \`caduceus types\` wrote, in a folder you can write to.`);
}
