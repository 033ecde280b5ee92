/**
 * `caduceus plugin pack`: the `.tgz` that `caduceus plugins install` takes and `npm publish` would
 * upload. It is made by `npm pack` itself from the plugin folder, so what is installed from the tarball
 * is byte for byte what npm would publish; then the tarball is opened and checked for the manifest and
 * the bundle, so a `files` list that leaves them out fails here rather than at someone's install.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { CaduceusError } from '../core/errors.js';
import { MANIFEST_FILE } from '../core/manifest/schema.js';
import { buildPlugin } from './build.js';

export interface PackResult {
  id: string;
  version: string;
  file: string;
  bytes: number;
  entries: string[];
}

/**
 * Builds (when there is a `src/index.ts`) and packs a plugin folder.
 *
 * @example
 * ```ts
 * const { file } = await packPlugin('./weather', { out: './dist-packages' });
 * ```
 */
export async function packPlugin(dir: string, opts: { out?: string } = {}): Promise<PackResult> {
  const folder = resolve(dir);
  const built = existsSync(join(folder, 'src', 'index.ts')) ? (await buildPlugin(folder)).manifest : undefined;
  const manifest = built ?? (JSON.parse(readFileSync(join(folder, MANIFEST_FILE), 'utf8')) as { id: string; version: string; main: string });
  const id = manifest.id;
  const fail = (why: string) => new CaduceusError('CAD_ERR_PACK_FAILED', `Plugin '${id}' cannot be packed: ${why}`, { plugin: id });
  const pkgFile = join(folder, 'package.json');
  if (!existsSync(pkgFile)) throw fail(`'${folder}' has no package.json. Add one (\`caduceus plugin new\` writes a complete one) with "name", "version" and "files": ["${MANIFEST_FILE}", "dist/"].`);
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { name?: string; version?: string };
  if (pkg.version !== manifest.version) {
    throw fail(`package.json version ${JSON.stringify(pkg.version)} differs from ${MANIFEST_FILE} version ${JSON.stringify(manifest.version)}. Make them equal, so npm and Caduceus agree on what was released.`);
  }
  const out = resolve(opts.out ?? folder);
  mkdirSync(out, { recursive: true });
  let info: { filename: string; size: number; files: { path: string }[] };
  try {
    // Scripts are skipped: the build above already ran, and packing must not run arbitrary code twice.
    const json = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', out], {
      cwd: folder, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000,
    });
    info = (JSON.parse(json) as typeof info[])[0]!;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? (err as Error).message;
    throw fail(`\`npm pack\` failed: ${stderr.split('\n').find((l) => /error/i.test(l)) ?? stderr.slice(0, 300)}`);
  }
  const file = join(out, basename(info.filename));
  const entries = info.files.map((f) => f.path).sort();
  const missing = [MANIFEST_FILE, manifest.main.replace(/^\.\//, '')].filter((f) => !entries.includes(f));
  if (missing.length) {
    rmSync(file, { force: true });
    throw fail(`the tarball would leave out ${missing.join(' and ')}. Add ${missing.map((m) => JSON.stringify(m)).join(' and ')} to "files" in package.json.`);
  }
  return { id, version: manifest.version, file, bytes: info.size, entries };
}
