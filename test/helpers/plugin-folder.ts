/** Writes small plugin folders for tests: a manifest header plus one src/index.ts. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes a plugin folder with the given src/index.ts and manifest header fields; returns the folder. */
export function writePlugin(dir: string, id: string, source: string, manifest: Record<string, unknown> = {}): string {
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'caduceus.plugin.json'), JSON.stringify({
    manifestVersion: 1, id, name: id, version: '0.1.0', description: `test plugin ${id}`,
    engines: { caduceus: '^0.1.0' }, main: 'dist/index.js', permissions: [], configSchema: { type: 'object' }, ...manifest,
  }, null, 2));
  writeFileSync(join(dir, 'src/index.ts'), source);
  return dir;
}
