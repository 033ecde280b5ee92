/**
 * Reading and verifying a plugin manifest, in the fixed order the kernel promises before any plugin code
 * runs: schema → engine range → dependencies → permissions vs grants → bundle integrity. Each step has
 * its own error code and names the plugin, the field and the fix.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative, isAbsolute, sep } from 'node:path';
import semver from 'semver';
import { CaduceusError } from '../errors.js';
import { manifestSchema, MANIFEST_FILE, type Manifest } from './schema.js';
import { fileIntegrity } from '../integrity.js';
import { SUPPORTED_SDK_RANGE } from '../version.js';

/** Reads, parses and schema-checks `caduceus.plugin.json` in a folder. */
export function readManifest(dir: string): Manifest {
  const file = join(dir, MANIFEST_FILE);
  if (!existsSync(file)) {
    throw new CaduceusError('CAD_ERR_MANIFEST_NOT_FOUND',
      `No ${MANIFEST_FILE} in '${dir}'. Point at the plugin folder, or build the plugin first (\`caduceus plugin build\`).`);
  }
  return parseManifestText(readFileSync(file, 'utf8'), file);
}

export function parseManifestText(text: string, file: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    // The id is read with a pattern (best effort) so the message can name the plugin; Node 20 reports
    // only a character position, so the line and column are worked out here.
    const id = /"id"\s*:\s*"([^"\\]{1,64})"/.exec(text)?.[1];
    const message = (err as Error).message;
    const pos = Number(/at position (\d+)/.exec(message)?.[1]);
    const where = Number.isInteger(pos) ? ` at line ${text.slice(0, pos).split('\n').length}, column ${pos - text.lastIndexOf('\n', pos - 1)}` : '';
    throw new CaduceusError('CAD_ERR_MANIFEST_JSON',
      `${id === undefined ? 'Manifest' : `Plugin '${id}' manifest`} '${file}' is not valid JSON${where}: ${message}. Fix the JSON syntax there and try again.`,
      id === undefined ? {} : { plugin: id });
  }
  const id = typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string'
    ? (raw as { id: string }).id : undefined;
  const result = manifestSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.slice(0, 5).map((i) => {
      const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
      const value = valueAt(raw, i.path);
      return `field '${path || '(root)'}'${value === undefined ? '' : ` (value ${JSON.stringify(value)})`}: ${i.message}`;
    });
    const code = result.error.issues.some((i) => i.path[0] === 'engines') ? 'CAD_ERR_MANIFEST_ENGINE' : 'CAD_ERR_MANIFEST_SCHEMA';
    throw new CaduceusError(code,
      `Plugin '${id ?? '?'}' manifest '${file}' is invalid: ${issues.join('; ')}. Fix the field; the schema is manifests/plugin-manifest.v1.schema.json.`,
      { plugin: id, details: { issues: result.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) } });
  }
  return result.data;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  if (typeof cur === 'object' && cur !== null) return undefined;
  return cur;
}

/** The engine range must include the running Caduceus version. */
export function checkEngine(m: Manifest, caduceusVersion: string): void {
  if (!semver.satisfies(caduceusVersion, m.engines.caduceus, { includePrerelease: true })) {
    throw new CaduceusError('CAD_ERR_MANIFEST_ENGINE',
      `Plugin '${m.id}' needs Caduceus ${JSON.stringify(m.engines.caduceus)} (engines.caduceus) but this is ${caduceusVersion}. Install a version of '${m.id}' built for ${caduceusVersion}, or widen engines.caduceus.`,
      { plugin: m.id });
  }
  if (m.sdk !== undefined && !semver.satisfies(m.sdk, SUPPORTED_SDK_RANGE, { includePrerelease: true })) {
    throw new CaduceusError('CAD_ERR_MANIFEST_SDK',
      `Plugin '${m.id}' was built with caduceus/sdk ${m.sdk} (manifest field "sdk"), but Caduceus ${caduceusVersion} runs bundles built with SDK ${SUPPORTED_SDK_RANGE}. Rebuild it with \`caduceus plugin build\` from this Caduceus, or install a Caduceus that supports SDK ${m.sdk}.`,
      { plugin: m.id, details: { sdk: m.sdk, supported: SUPPORTED_SDK_RANGE } });
  }
}

/** `main` must name an existing file that really lives inside the plugin folder (symlinks resolved). */
export function resolveMain(dir: string, m: Manifest): string {
  const fail = (why: string) => new CaduceusError('CAD_ERR_MANIFEST_MAIN',
    `Plugin '${m.id}' main ${JSON.stringify(m.main)} ${why}. Keep main a relative path to the built bundle inside the plugin folder and build the plugin.`,
    { plugin: m.id });
  if (isAbsolute(m.main)) throw fail('is an absolute path');
  const candidate = join(dir, m.main);
  if (!existsSync(candidate)) throw fail(`does not exist (looked for '${candidate}')`);
  const real = realpathSync(candidate);
  const root = realpathSync(dir);
  const rel = relative(root, real);
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) throw fail('resolves outside the plugin folder');
  if (!statSync(real).isFile()) throw fail('is not a file');
  return real;
}

/** The bundle on disk must still hash to what was pinned at install. */
export function checkIntegrity(m: Manifest, mainFile: string, pinned: string): void {
  const actual = fileIntegrity(mainFile);
  if (actual !== pinned) {
    throw new CaduceusError('CAD_ERR_INTEGRITY_MISMATCH',
      `Plugin '${m.id}' bundle '${mainFile}' changed since it was installed (pinned ${pinned}, found ${actual}); it will not load. Reinstall it with \`caduceus plugins install <source>\` if the change is yours.`,
      { plugin: m.id, details: { pinned, actual } });
  }
}

export interface DependencyNode {
  id: string;
  version: string;
  requires: Record<string, string>;
}

/**
 * Checks requires.plugins of `ids` against `available` (installed and enabled plugins) and returns the
 * ids in load order (dependencies first). Missing, mismatched and cyclic dependencies are errors.
 */
export function orderByDependencies(ids: readonly string[], available: ReadonlyMap<string, DependencyNode>): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, path: string[]): void => {
    const s = state.get(id);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...path.slice(path.indexOf(id)), id];
      throw new CaduceusError('CAD_ERR_DEPENDENCY_CYCLE',
        `Plugins require each other in a cycle: ${cycle.map((c) => `'${c}'`).join(' → ')}. Remove one requires.plugins entry to break it.`,
        { plugin: id, details: { cycle } });
    }
    const node = available.get(id);
    if (!node) throw new Error(`orderByDependencies: '${id}' is not available`);
    state.set(id, 'visiting');
    for (const [dep, range] of Object.entries(node.requires).sort(([a], [b]) => a.localeCompare(b))) {
      const target = available.get(dep);
      if (!target) {
        throw new CaduceusError('CAD_ERR_DEPENDENCY_MISSING',
          `Plugin '${id}' requires plugin '${dep}' (${range}), which is not installed and enabled. Install it and run \`caduceus plugins enable ${dep}\` first.`,
          { plugin: id, details: { dependency: dep, range } });
      }
      if (!semver.satisfies(target.version, range, { includePrerelease: true })) {
        throw new CaduceusError('CAD_ERR_DEPENDENCY_VERSION',
          `Plugin '${id}' requires '${dep}' ${JSON.stringify(range)} but ${target.version} is installed. Install a matching version of '${dep}'.`,
          { plugin: id, details: { dependency: dep, range, installed: target.version } });
      }
      visit(dep, [...path, id]);
    }
    state.set(id, 'done');
    order.push(id);
  };
  for (const id of [...ids].sort()) visit(id, []);
  return order;
}
