/** `caduceus plugin build`: bundle a plugin and regenerate its manifest descriptors from code. */
import { resolve } from 'node:path';
import { c, printJson, EXIT } from './output.js';

export async function build(dir: string | undefined, opts: { json?: boolean; check?: boolean }): Promise<number> {
  const { buildPlugin } = await import('../../sdk/build.js');
  const r = await buildPlugin(resolve(dir ?? '.'), { check: opts.check === true });
  if (opts.json) printJson({ ok: true, id: r.manifest.id, version: r.manifest.version, bundle: r.bundleFile, bytes: r.bytes, integrity: r.integrity, tools: r.manifest.contributes.tools.map((t) => t.name), manifestChanged: r.manifestChanged });
  else console.log(`${c.green('✓')} built ${r.manifest.id}@${r.manifest.version}: ${r.bundleFile} (${r.bytes} bytes, ${r.manifest.contributes.tools.length} tools)${r.manifestChanged ? '; manifest updated' : ''}`);
  return EXIT.OK;
}
