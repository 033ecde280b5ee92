/**
 * `caduceus providers`: the LLM providers of enabled plugins (from manifests; nothing starts), the
 * default model, whether each is configured, and what would configure it.
 */
import { withKernel } from './open.js';
import { c, EXIT, printJson, table } from './output.js';

export async function providers(opts: { json?: boolean }): Promise<number> {
  const { configureHint, isConfigured } = await import('../runner/model.js');
  return withKernel(async (k) => {
    const { providers: all, conflicts } = k.providers();
    const rows = [...all.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((p) => ({
      name: p.name, plugin: p.plugin, defaultModel: p.defaultModel ?? null, configured: isConfigured(k, p), configure: configureHint(p), description: p.description,
    }));
    if (opts.json) {
      printJson({ providers: rows, conflicts, model: k.settings().model ?? process.env.CADUCEUS_MODEL ?? null });
      return EXIT.OK;
    }
    if (rows.length === 0) console.log('No provider plugin is enabled. `caduceus plugins enable openai --yes` (or anthropic), then set its API key.');
    else console.log(table(rows.map((r) => [r.name, r.plugin, r.defaultModel ?? '-', r.configured ? c.green('configured') : c.yellow('not configured'), r.configured ? '' : r.configure]), ['PROVIDER', 'PLUGIN', 'DEFAULT MODEL', 'STATUS', 'TO CONFIGURE']));
    for (const x of conflicts) console.log(c.red(`conflict: ${x}`));
    return EXIT.OK;
  });
}
