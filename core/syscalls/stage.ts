/**
 * The `fs.stage` syscall: a plugin command may read a file, folder or `.tgz` the operator named on its
 * command line (`caduceus skills install ./my-skill`), even outside the plugin's grants, because naming it
 * there is the operator's consent. The host copies it into a private staging folder under the plugin's
 * data folder and returns what it found; the staging folder is deleted when the command run ends.
 *
 * Nothing is followed or trusted: symlinks, hard-to-copy entries and tarball entries that would land
 * outside the staging folder are listed, never copied; every copied file comes with its size, sha256 and
 * whether it is binary (a NUL byte or invalid UTF-8), and the whole set with one content hash, so the
 * plugin can apply its own checks before it installs anything.
 */
import { copyFileSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import * as tar from 'tar';
import { CaduceusError } from '../errors.js';
import type { LiveRun } from '../command-run.js';

export const MAX_STAGE_FILES = 2000;
export const MAX_STAGE_BYTES = 64 * 1024 * 1024;
const MAX_DEPTH = 16;

export interface StagedFile {
  /** Relative to the staging root, with `/` separators. */
  path: string;
  size: number;
  sha256: string;
  binary: boolean;
}

export interface StagedSkip {
  path: string;
  type: 'symlink' | 'hardlink' | 'other' | 'unsafe';
  /** A link's target, as written. */
  target?: string;
}

export interface StageResult {
  /** Absolute staging folder (inside the plugin's data folder, readable through its grant). */
  root: string;
  source: string;
  kind: 'folder' | 'tarball' | 'file';
  files: StagedFile[];
  skipped: StagedSkip[];
  /** sha256 over every file's path and hash, sorted: the same content gives the same hash. */
  contentHash: string;
}

export function stageSource(o: { plugin: string; workspace: string; pluginData: string; requested: string; runs: LiveRun[] }): StageResult {
  const { plugin, requested } = o;
  const run = o.runs.find((r) => r.argv.includes(requested));
  if (!run) {
    throw new CaduceusError('CAD_ERR_PERMISSION_DENIED',
      o.runs.length === 0
        ? `Plugin '${plugin}' called fs.stage outside a command run. Only a command (caduceus <command> ...) may stage files, and only paths the operator named on its command line.`
        : `Plugin '${plugin}' called fs.stage on ${JSON.stringify(requested)}, which the operator did not name on the command line. Stage only arguments of the running command.`,
      { plugin, details: { syscall: 'fs.stage', path: requested } });
  }
  const source = resolve(o.workspace, requested);
  let st;
  try {
    st = lstatSync(source);
  } catch {
    throw failed(plugin, requested, 'does not exist');
  }
  if (st.isSymbolicLink()) throw failed(plugin, requested, 'is a symlink; pass the folder or file it points to');
  const root = join(o.pluginData, 'staged', `${Date.now()}-${randomBytes(4).toString('hex')}`);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  run.onEnd(() => rmSync(root, { recursive: true, force: true }));
  const skipped: StagedSkip[] = [];
  let kind: StageResult['kind'];
  try {
    if (st.isDirectory()) {
      kind = 'folder';
      copyTree(plugin, requested, source, root, skipped);
    } else if (st.isFile() && /\.(tgz|tar\.gz)$/i.test(source)) {
      kind = 'tarball';
      extract(plugin, requested, source, root, skipped);
    } else if (st.isFile()) {
      kind = 'file';
      if (st.size > MAX_STAGE_BYTES) throw failed(plugin, requested, `is ${st.size} bytes, over the ${MAX_STAGE_BYTES} byte staging limit`);
      copyFileSync(source, join(root, basename(source)));
    } else {
      throw failed(plugin, requested, 'is not a file or folder');
    }
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  const files = describeTree(root);
  const hash = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : 1))) hash.update(`${f.path}\0${f.sha256}\n`);
  return { root, source, kind, files, skipped, contentHash: `sha256-${hash.digest('hex')}` };
}

function copyTree(plugin: string, requested: string, from: string, to: string, skipped: StagedSkip[]): void {
  let count = 0;
  let bytes = 0;
  const walk = (dir: string, depth: number) => {
    if (depth > MAX_DEPTH) throw failed(plugin, requested, `nests folders deeper than ${MAX_DEPTH}`);
    for (const name of readdirSync(dir).sort()) {
      const src = join(dir, name);
      const rel = relative(from, src);
      const st = lstatSync(src);
      if (st.isSymbolicLink()) skipped.push({ path: slash(rel), type: 'symlink', target: readlinkSync(src) });
      else if (st.isDirectory()) {
        mkdirSync(join(to, rel), { recursive: true });
        walk(src, depth + 1);
      } else if (st.isFile()) {
        if (st.nlink > 1) skipped.push({ path: slash(rel), type: 'hardlink' });
        else {
          if (++count > MAX_STAGE_FILES) throw failed(plugin, requested, `holds more than ${MAX_STAGE_FILES} files`);
          bytes += st.size;
          if (bytes > MAX_STAGE_BYTES) throw failed(plugin, requested, `holds more than ${MAX_STAGE_BYTES} bytes`);
          copyFileSync(src, join(to, rel));
        }
      } else skipped.push({ path: slash(rel), type: 'other' });
    }
  };
  walk(from, 0);
}

function extract(plugin: string, requested: string, file: string, to: string, skipped: StagedSkip[]): void {
  let count = 0;
  let bytes = 0;
  const safe = new Set<string>();
  try {
    tar.t({
      file,
      sync: true,
      onentry: (entry) => {
        const p = entry.path;
        const parts = p.split(/[\\/]/);
        if (isAbsolute(p) || /^[a-zA-Z]:/.test(p) || parts.includes('..')) skipped.push({ path: p, type: 'unsafe' });
        else if (entry.type === 'SymbolicLink') skipped.push({ path: p, type: 'symlink', target: entry.linkpath });
        else if (entry.type === 'Link') skipped.push({ path: p, type: 'hardlink', target: entry.linkpath });
        else if (entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile') {
          count++;
          bytes += entry.size ?? 0;
          safe.add(p);
        } else if (entry.type !== 'Directory') skipped.push({ path: p, type: 'other' });
      },
    });
  } catch (err) {
    throw failed(plugin, requested, `cannot be read as a tarball (${(err as Error).message})`);
  }
  if (count > MAX_STAGE_FILES) throw failed(plugin, requested, `holds more than ${MAX_STAGE_FILES} files`);
  if (bytes > MAX_STAGE_BYTES) throw failed(plugin, requested, `holds more than ${MAX_STAGE_BYTES} bytes`);
  tar.x({ file, cwd: to, sync: true, strict: true, preservePaths: false, noChmod: true, filter: (p) => safe.has(p) });
}

function describeTree(root: string): StagedFile[] {
  const out: StagedFile[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) {
        const data = readFileSync(p);
        out.push({ path: slash(relative(root, p)), size: st.size, sha256: createHash('sha256').update(data).digest('hex'), binary: isBinary(data) });
      }
    }
  };
  walk(root);
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A NUL byte or bytes that are not UTF-8: not a text file a model could read. */
export function isBinary(data: Buffer): boolean {
  if (data.includes(0)) return true;
  try {
    utf8.decode(data);
    return false;
  } catch {
    return true;
  }
}

function slash(p: string): string {
  return sep === '/' ? p : p.split(sep).join('/');
}

function failed(plugin: string, requested: string, why: string): CaduceusError {
  return new CaduceusError('CAD_ERR_FS_FAILED', `Plugin '${plugin}' could not stage ${JSON.stringify(requested)}: it ${why}.`, { plugin, details: { syscall: 'fs.stage', path: requested } });
}
