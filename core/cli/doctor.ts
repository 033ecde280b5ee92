/**
 * `caduceus doctor`: checks every installed plugin the way a load would (schema, engine, dependencies,
 * bundle, integrity, config) and starts each enabled plugin once to prove it boots, then lists every tool
 * with its status and the fix for what is wrong. Exit 1 when anything needs fixing.
 */
import { CaduceusError } from '../errors.js';
import { verifyPlugin } from '../lifecycle/load.js';
import { c, printJson, statusColour, EXIT } from './output.js';
import { withKernel } from './open.js';
import { commandTable } from '../commands.js';

interface Finding { plugin: string; ok: boolean; code?: string; problem?: string; fix?: string }

export async function doctor(opts: { json?: boolean }): Promise<number> {
  return withKernel(async (k) => {
    const findings: Finding[] = [];
    for (const p of k.plugins()) {
      try {
        // An enabled plugin is loaded for real (the chain, its config, then its boot); a disabled one
        // gets the same chain without running any of its code.
        if (p.enabled) await k.activate(p.id);
        else verifyPlugin(k, p.id);
        findings.push({ plugin: p.id, ok: true });
      } catch (err) {
        const e = err instanceof CaduceusError ? err : new CaduceusError('CAD_ERR_MANIFEST_SCHEMA', String((err as Error).message), { plugin: p.id });
        findings.push({ plugin: p.id, ok: false, code: e.code, problem: e.message, fix: fixFor(e.code, p.id) });
      }
    }
    for (const conflict of k.conflicts()) {
      findings.push({ plugin: conflict.plugins.join(','), ok: false, code: 'CAD_ERR_REGISTRY_DUPLICATE', problem: `tool '${conflict.name}' is contributed by ${conflict.plugins.join(' and ')}`, fix: mcpConflictFix(conflict.plugins) ?? `caduceus plugins disable ${conflict.plugins[1]}` });
    }
    for (const conflict of commandTable(k.plugins()).conflicts) {
      findings.push({ plugin: conflict.plugins.join(','), ok: false, code: 'CAD_ERR_REGISTRY_DUPLICATE', problem: `command '${conflict.name}' is contributed by ${conflict.plugins.join(' and ')}, so neither serves it`, fix: `caduceus plugins disable ${conflict.plugins[1]}` });
    }
    // Other tool sources (MCP servers): invalid entries and servers that are down. Notes are not failures.
    for (const p of k.toolSources.problems()) {
      if (!p.note) findings.push({ plugin: p.subject, ok: false, code: p.code, problem: p.message, fix: p.code === 'CAD_ERR_MCP_CONFIG' ? 'fix the named field under mcpServers in $CADUCEUS_HOME/config.json' : fixFor(p.code, p.subject) });
    }
    const tools = k.listTools().map((t) => ({ name: t.name, plugin: t.plugin, status: t.status, reason: t.reason, fix: t.fix }));
    const healthy = findings.every((f) => f.ok) && tools.every((t) => t.status === 'available' || t.status === 'disabled');
    if (opts.json) {
      printJson({ ok: healthy, version: k.version, home: k.home, node: process.version, plugins: findings, tools });
      return healthy ? EXIT.OK : EXIT.FAILURE;
    }
    console.log(`caduceus ${k.version} on node ${process.version}; home ${k.home}`);
    console.log(c.bold('plugins'));
    if (findings.length === 0) console.log('  (none installed)');
    for (const f of findings) {
      console.log(`  ${f.ok ? c.green('ok') : c.red('FAIL')}  ${f.plugin}${f.ok ? '' : ` ${f.code}: ${f.problem}\n        fix: ${f.fix}`}`);
    }
    console.log(c.bold('tools'));
    if (tools.length === 0) console.log('  (none)');
    for (const t of tools) console.log(`  ${statusColour(t.status)}  ${t.name} (${t.plugin})${t.reason ? `: ${t.reason}; fix: ${t.fix}` : ''}`);
    console.log(healthy ? c.green('All checks passed.') : c.red('Some checks failed; see the fixes above.'));
    return healthy ? EXIT.OK : EXIT.FAILURE;
  });
}

/** A name an MCP server shares (owners `mcp:<server>`) is fixed by filtering it out of one server. */
function mcpConflictFix(owners: string[]): string | undefined {
  const server = owners.find((o) => o.startsWith('mcp:'))?.slice(4);
  return server === undefined ? undefined : `add the tool to mcpServers.${server}.tools.exclude in $CADUCEUS_HOME/config.json, or disable one of ${owners.join(', ')}`;
}

function fixFor(code: string, id: string): string {
  switch (code) {
    case 'CAD_ERR_INTEGRITY_MISMATCH': return `reinstall it: caduceus plugins install <source>, or remove it: caduceus plugins remove ${id}`;
    case 'CAD_ERR_DEPENDENCY_MISSING':
    case 'CAD_ERR_DEPENDENCY_VERSION': return 'install and enable the required plugin version';
    case 'CAD_ERR_MANIFEST_ENGINE': return `install a version of '${id}' built for this Caduceus`;
    case 'CAD_ERR_MANIFEST_MAIN': return `reinstall '${id}'; its bundle is missing`;
    case 'CAD_ERR_CONFIG_INVALID': return `fix plugins.${id} in $CADUCEUS_HOME/config.json`;
    default: return `see docs/errors.md#${code.toLowerCase()}`;
  }
}
