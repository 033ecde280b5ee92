/**
 * Installing a plugin from a folder, a .tgz or an npm spec. Everything happens in a staging folder under
 * the Caduceus home first: tarball entries are checked before extraction (absolute paths, `..`, links and
 * devices are refused), the manifest is verified, the bundle hashed; only then does the plugin move into
 * `plugins/<id>` with renames, and the store row is written. If any step fails, the staging folder is
 * removed and the previous install (if any) is put back, so nothing is left half-installed.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { execFileSync } from 'node:child_process';
import * as tar from 'tar';
import { CaduceusError } from '../errors.js';
import { readManifest, checkEngine, resolveMain, orderByDependencies, type DependencyNode } from '../manifest/load.js';
import { MANIFEST_FILE, type Manifest } from '../manifest/schema.js';
import { fileIntegrity } from '../integrity.js';
import type { Kernel } from '../kernel.js';
import { withinCeiling } from '../permissions.js';
import { checkCommandNames } from '../commands.js';

export interface InstallResult {
  id: string;
  version: string;
  previousVersion: string | undefined;
  path: string;
  integrity: string;
  source: string;
  /** Permissions the new version requests that are not granted (re-consent needed). */
  newPermissions: string[];
  /** Hooks (name:scope) the new version taps that the enabled version did not; it is left disabled. */
  newHooks: string[];
  /**
   * Of newPermissions, those the previous version did not request at all: an upgrade that widens the
   * ceiling of an enabled plugin leaves it disabled, and `plugins enable` asks consent for them.
   */
  widenedPermissions: string[];
  /** Grants the new version no longer requests; they were revoked. */
  lapsedGrants: string[];
  enabled: boolean;
}

export type Progress = (message: string) => void;

export async function installPlugin(k: Kernel, source: string, progress: Progress = () => undefined): Promise<InstallResult> {
  const stagingRoot = join(k.home, 'staging');
  mkdirSync(stagingRoot, { recursive: true });
  const staging = mkdtempSync(join(stagingRoot, 'install-'));
  try {
    const root = await stage(source, staging, progress);
    progress('verifying manifest');
    const m = readManifest(root);
    checkEngine(m, k.version);
    checkCommandNames(m);
    const main = resolveMain(root, m);
    const existing = k.store.getPlugin(m.id);
    if (existing?.bundled === 1) {
      throw new CaduceusError('CAD_ERR_INSTALL_BUNDLED', `Plugin id '${m.id}' belongs to a plugin bundled with Caduceus. Choose another id in ${MANIFEST_FILE}.`, { plugin: m.id });
    }
    checkDependencyCycle(k, m);
    const integrity = fileIntegrity(main);
    return commit(k, m, root, source, integrity, existing === undefined ? undefined : {
      version: existing.version,
      enabled: existing.enabled === 1,
      hooks: (JSON.parse(existing.manifest) as Manifest).contributes.hooks.map((h) => `${h.name}:${h.scope}`),
      permissions: (JSON.parse(existing.manifest) as Manifest).permissions,
    }, progress);
  } catch (err) {
    const e = err as CaduceusError;
    k.audit({ ts: Date.now(), kind: 'plugin.install', plugin: e.plugin, outcome: 'error', code: e.code ?? 'CAD_ERR_INSTALL_SOURCE', detail: { source, message: String(e.message).slice(0, 500) } });
    throw err;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

async function stage(source: string, staging: string, progress: Progress): Promise<string> {
  const abs = resolve(source);
  if (existsSync(abs) && statSync(abs).isDirectory()) {
    progress(`copying ${abs}`);
    return copyPluginFolder(abs, join(staging, 'plugin'));
  }
  if (existsSync(abs) && statSync(abs).isFile()) {
    if (!/\.(tgz|tar\.gz)$/.test(abs)) {
      throw new CaduceusError('CAD_ERR_INSTALL_SOURCE', `Install source '${source}' is a file but not a .tgz tarball. Pass a plugin folder, a .tgz, or an npm package spec.`);
    }
    return extractTarball(abs, join(staging, 'extract'), progress);
  }
  if (looksLikePath(source)) {
    throw new CaduceusError('CAD_ERR_INSTALL_SOURCE', `Install source '${source}' does not exist. Check the path.`);
  }
  progress(`fetching ${source} with npm pack`);
  const out = join(staging, 'npm');
  mkdirSync(out);
  let packed: string;
  try {
    const json = execFileSync('npm', ['pack', source, '--json', '--ignore-scripts', '--pack-destination', out], {
      cwd: staging, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000,
    });
    const info = JSON.parse(json) as { filename: string }[];
    packed = join(out, basename(info[0]!.filename));
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? (err as Error).message;
    throw new CaduceusError('CAD_ERR_INSTALL_NPM', `\`npm pack ${source}\` failed: ${stderr.split('\n').find((l) => /error/i.test(l)) ?? stderr.slice(0, 300)}. Check the package name and version.`);
  }
  return extractTarball(packed, join(staging, 'extract'), progress);
}

function looksLikePath(s: string): boolean {
  // `file:<dir>`, `npm:<name>`, `git+https://…` and the like are npm specs, whatever slashes they hold.
  if (/^[a-z][a-z0-9+.-]+:/i.test(s)) return false;
  return s.startsWith('.') || s.startsWith('/') || s.includes(sep) && !s.startsWith('@') || /\.(tgz|tar\.gz)$/.test(s);
}

/**
 * Copies what a plugin needs to run and be described: its manifest, the bundle, package.json, README
 * and LICENSE, and any skill folders it contributes. Sources and node_modules stay behind.
 */
function copyPluginFolder(from: string, to: string): string {
  const m = readManifest(from);
  resolveMain(from, m);
  // A skill folder outside the plugin would be copied outside the staging folder too.
  const skills = m.contributes.skills.map((dir, i) => {
    const rel = normalize(dir);
    if (isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`)) {
      throw new CaduceusError('CAD_ERR_MANIFEST_SCHEMA',
        `Plugin '${m.id}' field 'contributes.skills[${i}]' (value ${JSON.stringify(dir)}) points outside the plugin folder. Fix the field: list skill folders as relative paths inside the plugin folder.`,
        { plugin: m.id });
    }
    return rel;
  });
  mkdirSync(to, { recursive: true });
  const copy = (rel: string) => {
    const src = join(from, rel);
    if (!existsSync(src)) return;
    mkdirSync(dirname(join(to, rel)), { recursive: true });
    cpSync(src, join(to, rel), { recursive: true, dereference: false, verbatimSymlinks: true });
  };
  copy(MANIFEST_FILE);
  copy(normalize(m.main));
  for (const name of readdirSync(from)) if (/^(package\.json|readme(\..*)?|license(\..*)?)$/i.test(name)) copy(name);
  for (const rel of skills) copy(rel);
  return to;
}

async function extractTarball(file: string, dest: string, progress: Progress): Promise<string> {
  progress(`checking ${basename(file)}`);
  const unsafe: string[] = [];
  let entries = 0;
  try {
    await tar.t({
      file,
      onentry: (entry) => {
        entries++;
        const p = entry.path;
        const parts = p.split(/[\\/]/);
        if (isAbsolute(p) || /^[a-zA-Z]:/.test(p) || parts.includes('..')) unsafe.push(p);
        else if (entry.type !== 'File' && entry.type !== 'Directory' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') unsafe.push(`${p} (${entry.type})`);
      },
    });
  } catch (err) {
    throw new CaduceusError('CAD_ERR_INSTALL_TARBALL_INVALID', `Tarball '${file}' cannot be read: ${(err as Error).message}. Make it with \`npm pack\`.`);
  }
  if (unsafe.length) {
    throw new CaduceusError('CAD_ERR_INSTALL_TARBALL_UNSAFE',
      `Tarball '${file}' has entries that would land outside the install folder: ${unsafe.slice(0, 5).map((u) => JSON.stringify(u)).join(', ')}. Nothing was installed; do not trust this tarball, and rebuild it with \`npm pack\` from a clean plugin folder.`,
      { details: { entries: unsafe } });
  }
  if (entries === 0) throw new CaduceusError('CAD_ERR_INSTALL_TARBALL_INVALID', `Tarball '${file}' is empty.`);
  mkdirSync(dest, { recursive: true });
  progress(`extracting ${entries} entries`);
  await tar.x({ file, cwd: dest, strict: true, preservePaths: false, noChmod: true });
  if (existsSync(join(dest, 'package', MANIFEST_FILE))) return join(dest, 'package');
  if (existsSync(join(dest, MANIFEST_FILE))) return dest;
  const dirs = readdirSync(dest);
  if (dirs.length === 1 && existsSync(join(dest, dirs[0]!, MANIFEST_FILE))) return join(dest, dirs[0]!);
  throw new CaduceusError('CAD_ERR_INSTALL_TARBALL_INVALID', `Tarball '${file}' holds no ${MANIFEST_FILE} (looked in package/ and the top folder).`);
}

function checkDependencyCycle(k: Kernel, m: Manifest): void {
  const nodes = new Map<string, DependencyNode>();
  for (const p of k.plugins()) nodes.set(p.id, { id: p.id, version: p.version, requires: p.manifest.requires.plugins });
  nodes.set(m.id, { id: m.id, version: m.version, requires: m.requires.plugins });
  // Only cycles are fatal at install; a dependency that is not installed yet is reported at enable.
  const present = new Map([...nodes].map(([id, n]) => [id, { ...n, requires: Object.fromEntries(Object.entries(n.requires).filter(([dep]) => nodes.has(dep))) }]));
  try {
    orderByDependencies([m.id], present);
  } catch (err) {
    if (err instanceof CaduceusError && err.code === 'CAD_ERR_DEPENDENCY_CYCLE') throw err;
  }
}

/** Moves the staged plugin into place and records it; rolls the folder back if the store write fails. */
function commit(
  k: Kernel, m: Manifest, staged: string, source: string, integrity: string,
  previous: { version: string; enabled: boolean; hooks: string[]; permissions: string[] } | undefined, progress: Progress,
): InstallResult {
  const pluginsDir = join(k.home, 'plugins');
  mkdirSync(pluginsDir, { recursive: true });
  const target = join(pluginsDir, m.id);
  const backup = existsSync(target) ? `${target}.previous-${process.pid}-${Date.now()}` : undefined;
  progress(`moving into ${target}`);
  if (backup) renameSync(target, backup);
  try {
    renameSync(staged, target);
    const granted = new Set(k.store.grants(m.id));
    const newPermissions = m.permissions.filter((p) => !granted.has(p));
    // Hooks are consented to at enable; a version that taps more (or sees more) than the one the
    // operator enabled is installed disabled, so enabling it again asks.
    const newHooks = previous ? m.contributes.hooks.map((h) => `${h.name}:${h.scope}`).filter((h) => !previous.hooks.includes(h)) : [];
    // Permissions likewise: a version that asks for what the enabled one never asked for stops until the
    // operator consents. (A permission the old version asked for and the operator revoked stays revoked.)
    const widenedPermissions = previous ? newPermissions.filter((p) => !previous.permissions.includes(p)) : [];
    const stayEnabled = previous?.enabled === true && newHooks.length === 0 && widenedPermissions.length === 0;
    const lapsedGrants = [...granted].filter((g) => !withinCeiling(m.permissions, g));
    k.store.db.transaction(() => {
      k.store.upsertPlugin({
        id: m.id, version: m.version, source: isAbsolute(source) || existsSync(source) ? resolve(source) : source,
        path: target, integrity, manifest: JSON.stringify(m), bundled: 0, enabled: stayEnabled ? 1 : 0,
      });
      // Grants outside the new ceiling lapse; widened permissions need consent again.
      const stale = k.store.grants(m.id).filter((g) => !withinCeiling(m.permissions, g));
      if (stale.length) k.store.revoke(m.id, stale);
    })();
    k.invalidate();
    if (backup) rmSync(backup, { recursive: true, force: true });
    k.audit({
      ts: Date.now(), kind: 'plugin.install', plugin: m.id, outcome: 'ok',
      detail: { version: m.version, previousVersion: previous?.version, source, integrity, newPermissions, newHooks, widenedPermissions, lapsedGrants },
    });
    return { id: m.id, version: m.version, previousVersion: previous?.version, path: target, integrity, source, newPermissions, newHooks, widenedPermissions, lapsedGrants, enabled: stayEnabled };
  } catch (err) {
    rmSync(target, { recursive: true, force: true });
    if (backup) renameSync(backup, target);
    throw err;
  }
}
