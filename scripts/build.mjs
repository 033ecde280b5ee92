// Builds Caduceus: compiles core/ and sdk/ to dist/, regenerates the JSON Schemas in manifests/ from the
// zod sources, then builds every first-party plugin (plugins/*) and example (examples/*) with the SDK and
// writes plugins/.bundled.json, the index the kernel mirrors into its store. Runs on `npm install`.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const quiet = process.argv.includes('--quiet');
const log = (m) => { if (!quiet) process.stderr.write(`[build] ${m}\n`); };

const t0 = Date.now();
log('compiling core/ and sdk/ (tsc)');
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root });

const { writeSchemas } = await import(join(root, 'scripts/schemas.mjs'));
const changed = await writeSchemas(root);
log(changed.length ? `schemas regenerated: ${changed.join(', ')}` : 'schemas up to date');

const { buildPlugin } = await import(join(root, 'dist/sdk/build.js'));
const bundled = [];
for (const group of ['plugins', 'examples']) {
  const base = join(root, group);
  if (!existsSync(base)) continue;
  for (const name of readdirSync(base).sort()) {
    const dir = join(base, name);
    if (!existsSync(join(dir, 'caduceus.plugin.json')) || !existsSync(join(dir, 'src/index.ts'))) continue;
    const r = await buildPlugin(dir);
    log(`built ${group}/${name} (${r.bytes} bytes${r.manifestChanged ? ', manifest updated' : ''})`);
    if (group === 'plugins') bundled.push({ dir: name, manifest: r.manifest, integrity: r.integrity });
  }
}
const index = `${JSON.stringify({ version: 1, plugins: bundled }, null, 2)}\n`;
const indexFile = join(root, 'plugins/.bundled.json');
if (!existsSync(indexFile) || readFileSync(indexFile, 'utf8') !== index) writeFileSync(indexFile, index);
log(`done in ${Date.now() - t0} ms`);
