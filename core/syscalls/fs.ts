/**
 * File syscalls confined to granted roots. A path is resolved against the workspace, then the deepest
 * existing ancestor is realpath'd, so `..` and symlinks that leave a root are refused. Credential files
 * and the Caduceus store are never writable, whatever the grant. Writes go to a temp file in the same
 * folder and are renamed over the target (keeping its mode), so a reader never sees half a file and a
 * failed write leaves the old content. `fs.remove` deletes one file or link under the write roots.
 */
import { closeSync, existsSync, fchmodSync, fsyncSync, lstatSync, openSync, readdirSync, readFileSync, realpathSync, renameSync, statSync, unlinkSync, writeSync, mkdirSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { homedir } from 'node:os';
import { CaduceusError } from '../errors.js';
import { expandPathVars } from '../permissions.js';

export const MAX_READ_BYTES = 10 * 1024 * 1024;
export const MAX_WRITE_BYTES = 10 * 1024 * 1024;

export interface FsRoots {
  read: string[];
  write: string[];
}

export interface FsContext {
  plugin: string;
  workspace: string;
  caduceusHome: string;
  roots: FsRoots;
}

const PROTECTED_DIRS = ['.ssh', '.aws', '.gnupg', join('.config', 'gh')];
const PROTECTED_NAMES = ['.netrc', '.npmrc', '.git-credentials', '.pgpass'];

/** Realpath of a path that may not exist yet: the deepest existing ancestor, plus the rest. */
export function realpathLoose(p: string): string {
  let cur = p;
  const rest: string[] = [];
  while (!existsSync(cur)) {
    const parent = dirname(cur);
    if (parent === cur) break;
    rest.unshift(basename(cur));
    cur = parent;
  }
  return join(realpathSync.native(cur), ...rest);
}

/**
 * Realpaths of the granted roots and of the homes, which every fs call compares against: kept for a
 * second, since re-resolving them on each call was most of the cost of a read (a plugin indexing 1,000
 * skill files makes 1,000 calls). A root moved or re-linked is seen within that second; until then the
 * check still uses the folder that was granted. The path being accessed is always resolved afresh.
 */
const realCache = new Map<string, { real: string | undefined; at: number }>();
function realOf(p: string): string | undefined {
  const now = Date.now();
  const hit = realCache.get(p);
  if (hit && now - hit.at < 1000) return hit.real;
  let real: string | undefined;
  try {
    real = realpathSync.native(p);
  } catch {
    real = undefined;
  }
  if (realCache.size > 4096) realCache.clear();
  realCache.set(p, { real, at: now });
  return real;
}

/** realpathLoose for the homes and roots (cached, see realOf). */
function realLooseCached(p: string): string {
  return realOf(p) ?? realpathLoose(p);
}

export function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * The realpath of a requested path, checked against the roots of `mode`. With `followFinal: false` the
 * last component is not followed (the folder is realpath'd, the name kept), so a remove deletes a link
 * itself rather than what it points to.
 */
export function resolveInRoots(ctx: FsContext, requested: string, mode: 'read' | 'write', followFinal = true): string {
  if (typeof requested !== 'string' || requested.length === 0 || requested.includes('\0')) {
    throw new CaduceusError('CAD_ERR_SYSCALL_INVALID', `Plugin '${ctx.plugin}' passed fs.${mode} an empty or invalid path.`, { plugin: ctx.plugin });
  }
  const abs = resolve(ctx.workspace, expandPathVars(requested, { workspace: ctx.workspace, caduceusHome: ctx.caduceusHome, pluginData: join(ctx.caduceusHome, 'data', ctx.plugin) }));
  const roots = mode === 'read' ? [...ctx.roots.read, ...ctx.roots.write] : ctx.roots.write;
  if (roots.length === 0) {
    throw new CaduceusError('CAD_ERR_PERMISSION_DENIED',
      `Plugin '${ctx.plugin}' called fs.${mode} on ${JSON.stringify(requested)} without any fs.${mode} grant. Run \`caduceus plugins grant ${ctx.plugin} fs.${mode}:<dir>\` if it should.`,
      { plugin: ctx.plugin, details: { syscall: `fs.${mode}`, path: requested } });
  }
  const real = followFinal ? realpathLoose(abs) : join(realpathLoose(dirname(abs)), basename(abs));
  const ok = roots.some((r) => inside(realOf(r) ?? r, real));
  if (!ok) {
    throw new CaduceusError('CAD_ERR_FS_OUTSIDE_ROOT',
      `Plugin '${ctx.plugin}' path ${JSON.stringify(requested)} resolves to '${real}', outside its granted ${mode} roots (${roots.join(', ')}).`,
      { plugin: ctx.plugin, details: { path: requested, resolved: real } });
  }
  if (mode === 'write') checkWritable(ctx, real, requested);
  else if (protectedPathKind(real, ctx.caduceusHome) === 'caduceus-store') {
    // A grant that covers the Caduceus home (say fs.read:$HOME) still never reaches the secrets or the store.
    throw new CaduceusError('CAD_ERR_FS_PROTECTED',
      `Plugin '${ctx.plugin}' may not read ${JSON.stringify(requested)}: it is a Caduceus secret or store file. Ask for a secret:<NAME> grant instead.`,
      { plugin: ctx.plugin, details: { path: requested } });
  }
  return real;
}

/**
 * Why plugins may never write a (realpath'd) path, whatever their grants: a credential file or folder
 * (`~/.ssh`, `.env`, …), or the Caduceus secrets and store, which plugins may not read either. Shared
 * with `caduceus guards check path`.
 */
export function protectedPathKind(real: string, caduceusHome: string): 'credential' | 'caduceus-store' | undefined {
  const name = basename(real);
  // `real` is realpath'd, so the home is compared in both spellings: a home reached through a symlink
  // (/tmp on macOS) must not make its secrets look like any other file.
  for (const h of new Set([caduceusHome, realLooseCached(caduceusHome)])) {
    if (inside(join(h, 'secrets'), real) || (inside(h, real) && /^caduceus\.db(-wal|-shm)?$/.test(name))) return 'caduceus-store';
  }
  if (PROTECTED_NAMES.includes(name) || name === '.env' || name.startsWith('.env.')) return 'credential';
  for (const home of new Set([homedir(), realLooseCached(homedir())])) {
    if (PROTECTED_DIRS.some((d) => inside(join(home, d), real))) return 'credential';
  }
  return undefined;
}

/**
 * What the kernel keeps in the Caduceus home (and reads as trusted): never writable through a grant of a
 * folder inside the home. Add an entry here whenever the kernel starts keeping something new there.
 */
export const KERNEL_HOME_ENTRIES: ReadonlySet<string> = new Set([
  'caduceus.db', 'caduceus.db-wal', 'caduceus.db-shm', 'caduceus.db-journal', 'config.json', 'secrets', 'audit-journal',
  'data', 'plugins', 'staging', 'logs', 'sessions', 'mcp', 'SOUL.md', 'AGENTS.md', 'MEMORY.md', 'USER.md',
]);

function checkWritable(ctx: FsContext, real: string, requested: string): void {
  // Inside the Caduceus home a plugin writes only its own data folder: config.json, the audit journals
  // (which the next kernel replays into the audit chain) and other plugins' files are the kernel's.
  // The one exception: a folder of the home the kernel does not own, granted by name (a write root that
  // is itself inside the home, e.g. fs.write:$CADUCEUS_HOME/skills). A grant that merely contains the home
  // (fs.write:$HOME) does not count.
  const ownData = (h: string) => inside(join(h, 'data', ctx.plugin), real);
  const homes = [...new Set([ctx.caduceusHome, realLooseCached(ctx.caduceusHome)])];
  const grantedFolder = (h: string) => ctx.roots.write.some((r) => {
    const root = realOf(r) ?? r;
    const first = relative(h, root).split(sep)[0]!;
    return inside(h, root) && root !== h && !first.startsWith('..') && !KERNEL_HOME_ENTRIES.has(first) && inside(root, real);
  });
  if (homes.some((h) => inside(h, real)) && !homes.some(ownData) && !homes.some(grantedFolder)) {
    throw new CaduceusError('CAD_ERR_FS_PROTECTED',
      `Plugin '${ctx.plugin}' may not write ${JSON.stringify(requested)}: inside the Caduceus home a plugin may write only its own data folder ($PLUGIN_DATA) and folders granted to it by name that the kernel does not own. Write there or somewhere else.`,
      { plugin: ctx.plugin, details: { path: requested } });
  }
  if (protectedPathKind(real, ctx.caduceusHome) !== undefined) {
    throw new CaduceusError('CAD_ERR_FS_PROTECTED',
      `Plugin '${ctx.plugin}' may not write ${JSON.stringify(requested)}: it is a credential or Caduceus store file. Write somewhere else.`,
      { plugin: ctx.plugin, details: { path: requested } });
  }
}

export function fsRead(ctx: FsContext, path: string): string {
  const real = resolveInRoots(ctx, path, 'read');
  const st = statOrFail(ctx, real, path);
  if (!st.isFile()) throw failed(ctx, path, 'is not a file');
  if (st.size > MAX_READ_BYTES) throw failed(ctx, path, `is ${st.size} bytes, over the ${MAX_READ_BYTES} byte read limit`);
  return readFileSync(real, 'utf8');
}

export function fsWrite(ctx: FsContext, path: string, content: string): { bytes: number } {
  if (typeof content !== 'string') throw new CaduceusError('CAD_ERR_SYSCALL_INVALID', `Plugin '${ctx.plugin}' fs.write content must be a string.`, { plugin: ctx.plugin });
  const bytes = Buffer.byteLength(content);
  if (bytes > MAX_WRITE_BYTES) throw failed(ctx, path, `content is ${bytes} bytes, over the ${MAX_WRITE_BYTES} byte write limit`);
  const real = resolveInRoots(ctx, path, 'write');
  if (existsSync(real) && lstatSync(real).isDirectory()) throw failed(ctx, path, 'is a directory');
  mkdirSync(dirname(real), { recursive: true });
  // Same folder, so the rename is atomic (one file system); a unique name, so concurrent writes of one
  // file never share a temp file. The target's permission bits survive the replacement.
  const tmp = `${real}.caduceus-${process.pid}-${Date.now()}-${++tmpSeq}.tmp`;
  const mode = existsSync(real) ? statSync(real).mode & 0o7777 : undefined;
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    try {
      writeSync(fd, content);
      if (mode !== undefined) fchmodSync(fd, mode);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, real);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already renamed
    }
    throw failed(ctx, path, `could not be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return { bytes };
}

let tmpSeq = 0;

/**
 * The absolute real path a path resolves to (symlinks followed; for a path that does not exist yet, its
 * deepest existing folder's realpath plus the rest), when it is inside the read or write roots. Lets a
 * plugin key state on a file's identity rather than on a path relative to whichever workspace it runs in.
 */
export function fsRealpath(ctx: FsContext, path: string): string {
  return resolveInRoots(ctx, path, 'read');
}

/** Deletes one file or symlink (never a folder) under the write roots; `removed: false` when absent. */
export function fsRemove(ctx: FsContext, path: string): { removed: boolean } {
  const real = resolveInRoots(ctx, path, 'write', false);
  let st;
  try {
    st = lstatSync(real);
  } catch {
    return { removed: false };
  }
  if (st.isDirectory()) throw failed(ctx, path, 'is a directory; fs.remove deletes files only');
  try {
    unlinkSync(real);
  } catch (err) {
    throw failed(ctx, path, `could not be removed (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return { removed: true };
}

export function fsList(ctx: FsContext, path: string): { name: string; type: 'file' | 'dir' | 'other' }[] {
  const real = resolveInRoots(ctx, path, 'read');
  const st = statOrFail(ctx, real, path);
  if (!st.isDirectory()) throw failed(ctx, path, 'is not a directory');
  return readdirSync(real, { withFileTypes: true })
    .map((d) => ({ name: d.name, type: d.isFile() ? 'file' as const : d.isDirectory() ? 'dir' as const : 'other' as const }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function fsStat(ctx: FsContext, path: string): { type: 'file' | 'dir' | 'other'; size: number; mtimeMs: number } | null {
  const real = resolveInRoots(ctx, path, 'read');
  if (!existsSync(real)) return null;
  const st = statSync(real);
  return { type: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other', size: st.size, mtimeMs: st.mtimeMs };
}

function statOrFail(ctx: FsContext, real: string, path: string) {
  try {
    return statSync(real);
  } catch {
    throw failed(ctx, path, 'does not exist');
  }
}

function failed(ctx: FsContext, path: string, why: string): CaduceusError {
  return new CaduceusError('CAD_ERR_FS_FAILED', `Plugin '${ctx.plugin}' fs path ${JSON.stringify(path)} ${why}.`, { plugin: ctx.plugin });
}
