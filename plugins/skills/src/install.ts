/**
 * `caduceus skills install <folder|.tgz>` and `skills remove`. The source is staged by the host
 * (`ctx.fs.stage`, which only works for a path the operator named on the command line), then checked
 * before anything is written: no links, devices or entries leaving the archive; at most 200 files, 1 MiB
 * each and 8 MiB in all; no binaries; a SKILL.md that loads; every file passed through the injection
 * scanner (dangerous refuses the install, caution is reported). The files are then written into the
 * skills folder, support files first and SKILL.md last (so the watcher never loads half a skill), and
 * the install is recorded in the plugin's kv with its content hash, which `skills doctor` re-checks.
 */
import type { PluginContext, StagedSource } from 'caduceus/sdk';
import type { Catalog, Root } from './catalog.js';
import type { Gate } from './gate.js';
import { fail, removeFolder } from './manage.js';
import { join } from './paths.js';
import { parseSkill } from './skill.js';
import { contentHash, sha256Hex } from './sha256.js';

export const MAX_INSTALL_FILES = 200;
export const MAX_INSTALL_FILE_BYTES = 1024 * 1024;
export const MAX_INSTALL_BYTES = 8 * 1024 * 1024;

export interface InstallRecord {
  name: string;
  scope: 'user' | 'project';
  source: string;
  kind: StagedSource['kind'];
  contentHash: string;
  files: { path: string; sha256: string }[];
  installedAt: number;
}

export interface InstallResult {
  name: string;
  path: string;
  contentHash: string;
  files: number;
  replaced: boolean;
  notes: string[];
}

const recordKey = (scope: string, name: string) => `installed:${scope}:${name}`;

export async function installSkill(ctx: PluginContext, catalog: Catalog, gate: Gate, source: string, opts: { force: boolean; project: boolean }): Promise<InstallResult> {
  await catalog.ready();
  const scope = opts.project ? 'project' : 'user';
  const root = catalog.rootFor(scope);
  if (!root) throw fail('SKILL_READ_ONLY', `There is no writable ${scope} skills folder (caduceus plugins grants skills).`);
  const staged = await ctx.fs.stage(source);
  const notes: string[] = [];
  if (staged.skipped.length) {
    throw fail('INSTALL_UNSAFE', `${source} holds entries that are not plain files or folders, so nothing was installed: ${staged.skipped.slice(0, 10).map((s) => `${s.path} (${s.type}${s.target ? ` -> ${s.target}` : ''})`).join(', ')}. Replace links with the files themselves.`);
  }
  // The skill is the top of the source, or its one top folder (a tarball usually wraps one).
  let prefix = '';
  if (!staged.files.some((f) => f.path === 'SKILL.md')) {
    const tops = new Set(staged.files.filter((f) => !hidden(f.path)).map((f) => f.path.split('/')[0]!));
    const only = tops.size === 1 ? [...tops][0]! : undefined;
    if (staged.kind === 'file' || !only || !staged.files.some((f) => f.path === `${only}/SKILL.md`)) {
      throw fail('INSTALL_NO_SKILL', `${source} has no SKILL.md at its top or in a single top folder, so it is not a skill.`);
    }
    prefix = `${only}/`;
  }
  const files = [];
  for (const f of staged.files) {
    const rel = f.path.startsWith(prefix) ? f.path.slice(prefix.length) : undefined;
    if (rel === undefined || hidden(rel)) {
      if (!hidden(f.path) && rel === undefined) throw fail('INSTALL_INVALID', `${source} holds ${f.path} outside the skill folder ${prefix}; pack the skill folder alone.`);
      notes.push(`skipped hidden file ${f.path}`);
      continue;
    }
    files.push({ ...f, rel });
  }
  if (files.length > MAX_INSTALL_FILES) throw fail('INSTALL_TOO_LARGE', `${source} holds ${files.length} files, over the ${MAX_INSTALL_FILES} a skill may have.`);
  const big = files.filter((f) => f.size > MAX_INSTALL_FILE_BYTES);
  if (big.length) throw fail('INSTALL_TOO_LARGE', `${source} holds files over ${MAX_INSTALL_FILE_BYTES} bytes: ${big.map((f) => `${f.rel} (${f.size})`).join(', ')}.`);
  const total = files.reduce((n, f) => n + f.size, 0);
  if (total > MAX_INSTALL_BYTES) throw fail('INSTALL_TOO_LARGE', `${source} is ${total} bytes in all, over the ${MAX_INSTALL_BYTES} a skill may have.`);
  const binaries = files.filter((f) => f.binary);
  if (binaries.length) throw fail('INSTALL_BINARY', `${source} holds binary files, which skills may not ship: ${binaries.slice(0, 10).map((f) => f.rel).join(', ')}. Skills are text; remove them or link to them instead.`);

  const texts = new Map<string, string>();
  for (const f of files) texts.set(f.rel, await ctx.fs.read(join(staged.root, f.path)));
  const skillText = texts.get('SKILL.md')!;
  const parsed = parseSkill(skillText, `${source}/${prefix}SKILL.md`);
  if ('problem' in parsed) {
    const p = parsed.problem;
    throw fail('INSTALL_INVALID', `${prefix}SKILL.md does not load: line ${p.line}${p.field ? `, field '${p.field}'` : ''}: it ${p.message}. ${p.fix}`);
  }
  const name = parsed.skill.name;
  for (const [rel, text] of texts) {
    const scan = await gate.scan(text);
    if (scan.verdict === 'dangerous') {
      const finding = scan.findings.find((x) => x.severity === 'dangerous');
      throw fail('INSTALL_REFUSED', `The injection scanner refused ${rel} (${scan.rule}${finding ? `: "${finding.excerpt}"` : ''}); nothing was installed. Read the file before you trust this skill.`);
    }
    if (scan.verdict === 'caution') notes.push(`caution: ${rel} (${scan.rule})`);
  }

  const existing = await ctx.fs.stat(join(root.path, name));
  if (existing && !opts.force) throw fail('INSTALL_EXISTS', `A skill folder '${name}' already exists in ${root.label}. Pass --force to replace it, or remove it first (caduceus skills remove ${name}).`);
  if (existing) await removeFolder(ctx, join(root.path, name));
  const ordered = [...texts.keys()].sort((a, b) => (a === 'SKILL.md' ? 1 : b === 'SKILL.md' ? -1 : a < b ? -1 : 1));
  for (const rel of ordered) await ctx.fs.write(join(root.path, name, rel), texts.get(rel)!);
  const recorded = files.map((f) => ({ path: f.rel, sha256: f.sha256 }));
  const hash = contentHash(recorded);
  const record: InstallRecord = { name, scope, source: staged.source, kind: staged.kind, contentHash: hash, files: recorded, installedAt: ctx.clock.now() };
  await ctx.kv.set(recordKey(scope, name), record);
  await catalog.rescanFolder(root, name);
  catalog.publish(catalog.recompute());
  return { name, path: join(root.abs, name), contentHash: hash, files: files.length, replaced: existing !== null, notes };
}

export async function removeSkill(ctx: PluginContext, catalog: Catalog, name: string, opts: { project: boolean }): Promise<{ name: string; path: string }> {
  await catalog.ready();
  const scope = opts.project ? 'project' : 'user';
  const root = catalog.rootFor(scope);
  if (!root) throw fail('SKILL_READ_ONLY', `There is no writable ${scope} skills folder.`);
  const st = await ctx.fs.stat(join(root.path, name));
  if (!st || st.type !== 'dir') {
    const other = catalog.get(name);
    throw fail('SKILL_NOT_FOUND', other
      ? `Skill '${name}' is not in ${root.label}; it lives in ${other.root.label} (${other.dir})${other.root.writable ? ` (add --${other.root.kind === 'project' ? 'project' : 'user'})` : ', which this command does not change'}.`
      : `There is no skill folder '${name}' in ${root.label}.`);
  }
  await removeFolder(ctx, join(root.path, name));
  await ctx.kv.delete(recordKey(scope, name));
  await catalog.rescanFolder(root, name);
  catalog.publish(catalog.recompute());
  return { name, path: join(root.abs, name) };
}

/** Installed skills whose files no longer match the content hash recorded at install. */
export async function checkInstalls(ctx: PluginContext, catalog: Catalog): Promise<{ name: string; scope: string; ok: boolean; detail: string }[]> {
  const out: { name: string; scope: string; ok: boolean; detail: string }[] = [];
  for (const key of await ctx.kv.list('installed:')) {
    const rec = await ctx.kv.get<InstallRecord>(key);
    if (!rec) continue;
    const root: Root | undefined = catalog.rootFor(rec.scope);
    if (!root) continue;
    const dir = join(root.path, rec.name);
    if (!(await ctx.fs.stat(dir))) {
      out.push({ name: rec.name, scope: rec.scope, ok: false, detail: 'recorded as installed but the folder is gone (caduceus skills install it again, or ignore)' });
      continue;
    }
    const changed: string[] = [];
    const now: { path: string; sha256: string }[] = [];
    for (const f of rec.files) {
      try {
        const sha = sha256Hex(await ctx.fs.read(join(dir, f.path)));
        now.push({ path: f.path, sha256: sha });
        if (sha !== f.sha256) changed.push(`${f.path} changed`);
      } catch {
        changed.push(`${f.path} removed`);
      }
    }
    const hash = contentHash(now);
    out.push(changed.length === 0 && hash === rec.contentHash
      ? { name: rec.name, scope: rec.scope, ok: true, detail: `matches ${rec.contentHash} from ${rec.source}` }
      : { name: rec.name, scope: rec.scope, ok: false, detail: `modified since it was installed from ${rec.source}: ${changed.join(', ') || 'content hash differs'}` });
  }
  return out;
}

function hidden(path: string): boolean {
  return path.split('/').some((s) => s.startsWith('.'));
}
