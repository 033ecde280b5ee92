/**
 * `skill_manage`: how a model (or the operator) writes skills. Writes go only to the writable roots (the
 * user's `$CADUCEUS_HOME/skills`, and the project's `.caduceus/skills`), through the host's atomic
 * `fs.write` (temp file + rename). Every text is size-capped, checked as a skill where it is SKILL.md,
 * and passed through the injection scanner: a `dangerous` verdict refuses the write, a `caution` is
 * written and reported. The index is updated at once, without waiting for the watcher.
 */
import type { PluginContext } from 'caduceus/sdk';
import type { Catalog, Root, Skill } from './catalog.js';
import type { Gate } from './gate.js';
import { join, safeRelative } from './paths.js';
import { MAX_SKILL_BYTES, NAME_RE, parseSkill, SUPPORT_DIRS } from './skill.js';

export const MAX_SUPPORT_FILE_CHARS = 1024 * 1024;
const MAX_FILES_LISTED = 500;

export type ManageAction = 'create' | 'patch' | 'edit' | 'delete' | 'write_file' | 'remove_file';

export interface ManageArgs {
  action: ManageAction;
  name: string;
  scope?: 'user' | 'project';
  content?: string;
  description?: string;
  body?: string;
  file?: string;
  old?: string;
  new?: string;
  replaceAll?: boolean;
}

export interface ManageResult {
  action: ManageAction;
  name: string;
  path: string;
  warnings: string[];
}

/** An error the caller can match on: `code` survives the sandbox boundary in details.pluginError. */
export function fail(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export async function manage(ctx: PluginContext, catalog: Catalog, gate: Gate, a: ManageArgs): Promise<ManageResult> {
  await catalog.ready();
  const warnings: string[] = [];
  if (!NAME_RE.test(a.name)) throw fail('SKILL_INVALID', `'${a.name}' is not a valid skill name: use at most 64 lowercase letters, digits, '.', '_' or '-'.`);
  if (a.action === 'create') return create(ctx, catalog, gate, a, warnings);

  const skill = catalog.get(a.name);
  if (!skill) throw fail('SKILL_NOT_FOUND', `No skill is named '${a.name}'. skills_list shows the names; create it with action "create".`);
  if (!skill.root.writable) {
    throw fail('SKILL_READ_ONLY', `Skill '${a.name}' lives in ${skill.root.label} (${skill.dir}), which skill_manage does not write. Create your own copy with action "create" (it goes to your user skills).`);
  }
  switch (a.action) {
    case 'edit': {
      const text = need(a.content, 'content', 'edit');
      await writeSkillMd(ctx, gate, skill.root, skill.folder, a.name, text, warnings);
      break;
    }
    case 'patch': {
      const file = a.file === undefined || a.file === 'SKILL.md' ? 'SKILL.md' : supportPath(a.file);
      const old = need(a.old, 'old', 'patch');
      const replacement = a.new ?? '';
      if (old === '') throw fail('PATCH_NOT_FOUND', 'patch needs a non-empty "old" text to replace.');
      const current = await ctx.fs.read(join(skill.fsDir, file));
      const count = current.split(old).length - 1;
      if (count === 0) throw fail('PATCH_NOT_FOUND', `The "old" text was not found in ${file} of skill '${a.name}'. Read it again with skill_view and copy the text exactly.`);
      if (count > 1 && !a.replaceAll) {
        throw fail('PATCH_AMBIGUOUS', `The "old" text occurs ${count} times in ${file} of skill '${a.name}'. Include more surrounding text so it occurs once, or set replaceAll to true.`);
      }
      const next = a.replaceAll ? current.split(old).join(replacement) : current.replace(old, () => replacement);
      if (file === 'SKILL.md') await writeSkillMd(ctx, gate, skill.root, skill.folder, a.name, next, warnings);
      else await writeSupport(ctx, gate, skill, file, next, warnings);
      break;
    }
    case 'write_file': {
      const file = supportPath(need(a.file, 'file', 'write_file'));
      await writeSupport(ctx, gate, skill, file, need(a.content, 'content', 'write_file'), warnings);
      break;
    }
    case 'remove_file': {
      const file = supportPath(need(a.file, 'file', 'remove_file'));
      const { removed } = await ctx.fs.remove(join(skill.fsDir, file));
      if (!removed) throw fail('SKILL_FILE_NOT_FOUND', `Skill '${a.name}' has no file ${file}.`);
      break;
    }
    case 'delete':
      await removeFolder(ctx, skill.fsDir);
      break;
    default:
      throw fail('SKILL_INVALID', `Unknown action ${JSON.stringify(a.action)}.`);
  }
  await catalog.rescanFolder(skill.root, skill.folder);
  catalog.publish(catalog.recompute());
  return { action: a.action, name: a.name, path: skill.dir, warnings };
}

async function create(ctx: PluginContext, catalog: Catalog, gate: Gate, a: ManageArgs, warnings: string[]): Promise<ManageResult> {
  const root = catalog.rootFor(a.scope ?? 'user');
  if (!root) throw fail('SKILL_READ_ONLY', `There is no writable ${a.scope ?? 'user'} skills folder (check the skills plugin grants: caduceus plugins grants skills).`);
  const existing = await ctx.fs.stat(join(root.path, a.name));
  if (existing) throw fail('SKILL_EXISTS', `A skill folder '${a.name}' already exists in ${root.label}. Change it with action "edit" or "patch", or delete it first.`);
  let text = a.content;
  if (text === undefined) {
    const description = need(a.description, 'description (or content)', 'create');
    const body = need(a.body, 'body (or content)', 'create');
    text = `---\nname: ${a.name}\ndescription: ${JSON.stringify(description.replace(/\s+/g, ' ').trim())}\n---\n\n${body.replace(/^\n+/, '')}${body.endsWith('\n') ? '' : '\n'}`;
  }
  const other = catalog.get(a.name);
  if (other) warnings.push(`a skill named '${a.name}' already exists in ${other.root.label} (${other.dir}); the one in the higher-precedence folder is used`);
  await writeSkillMd(ctx, gate, root, a.name, a.name, text, warnings);
  await catalog.rescanFolder(root, a.name);
  catalog.publish(catalog.recompute());
  return { action: 'create', name: a.name, path: join(root.abs, a.name), warnings };
}

async function writeSkillMd(ctx: PluginContext, gate: Gate, root: Root, folder: string, name: string, text: string, warnings: string[]): Promise<void> {
  if (text.length > MAX_SKILL_BYTES) throw fail('SKILL_TOO_LARGE', `SKILL.md would be ${text.length} characters, over the ${MAX_SKILL_BYTES} limit. Move details into references/ files.`);
  const parsed = parseSkill(text, `${folder}/SKILL.md`);
  if ('problem' in parsed) {
    const p = parsed.problem;
    throw fail('SKILL_INVALID', `The new SKILL.md would not load: line ${p.line}${p.field ? `, field '${p.field}'` : ''}: it ${p.message}. ${p.fix} Nothing was written.`);
  }
  if (parsed.skill.name !== name) throw fail('SKILL_INVALID', `The frontmatter name '${parsed.skill.name}' differs from the skill '${name}'. Keep \`name: ${name}\`; nothing was written.`);
  await scanned(gate, text, 'SKILL.md', warnings);
  await ctx.fs.write(join(root.path, folder, 'SKILL.md'), text);
}

async function writeSupport(ctx: PluginContext, gate: Gate, skill: Skill, file: string, content: string, warnings: string[]): Promise<void> {
  if (content.length > MAX_SUPPORT_FILE_CHARS) throw fail('SKILL_TOO_LARGE', `${file} would be ${content.length} characters, over the ${MAX_SUPPORT_FILE_CHARS} limit.`);
  await scanned(gate, content, file, warnings);
  await ctx.fs.write(join(skill.fsDir, file), content);
}

async function scanned(gate: Gate, text: string, what: string, warnings: string[]): Promise<void> {
  const scan = await gate.scan(text);
  if (scan.verdict === 'dangerous') {
    const f = scan.findings.find((x) => x.severity === 'dangerous');
    throw fail('SKILL_REFUSED', `The injection scanner refused ${what} (${scan.rule ?? 'dangerous'}${f ? `: "${f.excerpt}"` : ''}). Skills are instructions a model follows; rewrite that part. Nothing was written.`);
  }
  if (scan.verdict === 'caution') warnings.push(`the scanner flagged ${what} as caution (${scan.rule}); it was written`);
}

/** A support file path: inside references/, scripts/, templates/ or assets/. */
export function supportPath(p: string): string {
  const r = safeRelative(p);
  if ('reason' in r) throw fail('FILE_NOT_ALLOWED', `The file path ${JSON.stringify(p)} ${r.reason}.`);
  const top = r.path.split('/')[0]!;
  if (!(SUPPORT_DIRS as readonly string[]).includes(top) || r.path === top) {
    throw fail('FILE_NOT_ALLOWED', `${JSON.stringify(p)} is not in a support folder: write files under ${SUPPORT_DIRS.map((d) => `${d}/`).join(', ')}.`);
  }
  return r.path;
}

function need(v: string | undefined, field: string, action: string): string {
  if (v === undefined) throw fail('SKILL_INVALID', `Action "${action}" needs "${field}".`);
  return v;
}

/** Every file under a folder (relative, `/`-separated), up to a limit; hidden entries skipped. */
export async function listFiles(ctx: PluginContext, fsDir: string, limit = MAX_FILES_LISTED): Promise<{ files: string[]; more: boolean }> {
  const files: string[] = [];
  let more = false;
  const walk = async (rel: string, depth: number): Promise<void> => {
    if (depth > 6) return;
    for (const e of await ctx.fs.list(rel ? join(fsDir, rel) : fsDir)) {
      if (e.name.startsWith('.')) continue;
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.type === 'dir') await walk(p, depth + 1);
      else if (files.length >= limit) more = true;
      else files.push(p);
    }
  };
  await walk('', 0);
  return { files, more };
}

/** Deletes a skill folder: SKILL.md first (the skill is gone at once), then the rest, deepest first. */
export async function removeFolder(ctx: PluginContext, fsDir: string): Promise<void> {
  await ctx.fs.remove(join(fsDir, 'SKILL.md'));
  const dirs: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const e of await ctx.fs.list(rel ? join(fsDir, rel) : fsDir)) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.type === 'dir') {
        await walk(p);
        dirs.push(p);
      } else await ctx.fs.remove(join(fsDir, p));
    }
  };
  await walk('');
  for (const d of dirs) await ctx.fs.removeDir(join(fsDir, d));
  await ctx.fs.removeDir(fsDir);
}
