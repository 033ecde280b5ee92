/**
 * The skills index: which roots there are, in which order they win, what each skill folder holds, and
 * how it changes. Roots, highest precedence first:
 *
 *   1. project `$WORKSPACE/.caduceus/skills`, then project `$WORKSPACE/.agents/skills`
 *   2. user `$CADUCEUS_HOME/skills`
 *   3. extra folders from config (`plugins.skills.extraDirs`), in the order given
 *   4. skills shipped by plugins (`contributes.skills`), named `<plugin>:<skill>`, so they never collide
 *      with the others
 *
 * The same name in two roots: the higher root wins, and a warning names both files (within one root the
 * folder that sorts first wins). Each skill is one folder holding SKILL.md; a file that fails to load
 * gives a Problem and never stops the others. A broken edit of a skill that loaded before keeps the last
 * good version live and reports the error. Every root is watched through `ctx.fs.watch`; a batch of
 * changes rescans the skill folders it touched and reports what was added, changed and removed.
 */
import type { PluginContext, WatchBatch } from 'caduceus/sdk';
import { parseSkill, type ParsedSkill, type Problem } from './skill.js';
import { join, within } from './paths.js';

export type RootKind = 'project' | 'user' | 'extra' | 'plugin';

export interface Root {
  id: string;
  kind: RootKind;
  /** As given to ctx.fs (may start with $WORKSPACE or $CADUCEUS_HOME). */
  path: string;
  /** Absolute, as the host spells it (watch events come under it). */
  abs: string;
  plugin?: string;
  writable: boolean;
  label: string;
  exists: boolean;
  mode: 'native' | 'polling' | 'waiting' | 'not watched';
}

export interface Skill extends ParsedSkill {
  /** The name skills are known by: `name`, or `<plugin>:<name>` for plugin skills. */
  id: string;
  root: Root;
  folder: string;
  /** Absolute folder and SKILL.md paths. */
  dir: string;
  file: string;
  /** For ctx.fs calls (root.path based). */
  fsDir: string;
  text: string;
  /** Bumped when a support file changes while SKILL.md stays the same. */
  touched: number;
  /** Set when the newest edit failed to load and this is the last good version. */
  stale?: Problem;
}

interface Entry {
  folder: string;
  skill?: Skill;
  problem?: Problem;
}

export interface Change {
  added: string[];
  changed: string[];
  removed: string[];
  /** Problems that appeared with this change (a broken edit, a new shadowing). */
  problems: Problem[];
}

export interface Config {
  extraDirs?: string[];
  promptMaxChars?: number;
  debounceMs?: number;
}

const PROJECT_ROOTS = ['$WORKSPACE/.caduceus/skills', '$WORKSPACE/.agents/skills'];
const USER_ROOT = '$CADUCEUS_HOME/skills';

export class Catalog {
  roots: Root[] = [];
  private entries = new Map<string, Map<string, Entry>>();
  private live = new Map<string, Skill>();
  private shadowWarnings: Problem[] = [];
  private scanned: Promise<void> | undefined;
  private watching: Promise<void> | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<(change: Change) => void>();
  /** Problems seen before, so a change reports only new ones. */
  private reported = new Set<string>();

  constructor(private readonly ctx: PluginContext, private readonly config: Config) {}

  /** Scans every root once (later calls share the first scan). */
  ready(): Promise<void> {
    this.scanned ??= this.scanAll();
    return this.scanned;
  }

  /** Starts watching every root (once); changes update the index and reach the listeners. */
  watch(): Promise<void> {
    this.watching ??= (async () => {
      await this.ready();
      for (const root of this.roots) {
        try {
          const w = await this.ctx.fs.watch(root.path, (batch) => this.enqueue(root, batch), { debounceMs: this.config.debounceMs ?? 50, depth: 4, ignore: ['.git', 'node_modules'] });
          root.abs = w.path;
          root.mode = w.mode;
        } catch (err) {
          root.mode = 'not watched';
          this.ctx.log.warn(`cannot watch ${root.label} ${root.path}: ${(err as Error).message}`);
        }
      }
    })();
    return this.watching;
  }

  onChange(fn: (change: Change) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The live skills, by id, in precedence order. */
  skills(): Skill[] {
    return [...this.live.values()];
  }

  get(id: string): Skill | undefined {
    return this.live.get(id);
  }

  /** Every problem now: load errors (including broken edits), warnings, shadowing. */
  problems(): Problem[] {
    const out: Problem[] = [];
    for (const root of this.roots) {
      for (const e of this.entries.get(root.id)?.values() ?? []) {
        if (e.problem) out.push(e.problem);
        if (e.skill) out.push(...e.skill.warnings);
      }
    }
    return [...out, ...this.shadowWarnings];
  }

  rootFor(kind: 'user' | 'project'): Root | undefined {
    return this.roots.find((r) => r.kind === kind && r.writable);
  }

  /** All skills of every root, shadowed ones included (for doctor). */
  allEntries(): { root: Root; folder: string; skill?: Skill; problem?: Problem }[] {
    return this.roots.flatMap((root) => [...(this.entries.get(root.id)?.values() ?? [])].map((e) => ({ root, ...e })));
  }

  private async scanAll(): Promise<void> {
    this.roots = await this.discoverRoots();
    for (const root of this.roots) await this.scanRoot(root);
    this.recompute();
    for (const p of this.problems()) this.reported.add(key(p));
  }

  private async discoverRoots(): Promise<Root[]> {
    const roots: Root[] = [];
    const add = async (kind: RootKind, path: string, writable: boolean, label: string, plugin?: string) => {
      let abs = path;
      try {
        abs = await this.ctx.fs.realpath(path);
      } catch {
        // not readable under our grants: the scan reports it
      }
      roots.push({ id: `${kind}:${path}`, kind, path, abs, writable, label, exists: false, mode: 'not watched', ...(plugin ? { plugin } : {}) });
    };
    await add('project', PROJECT_ROOTS[0]!, true, 'project (.caduceus/skills)');
    await add('project', PROJECT_ROOTS[1]!, false, 'project (.agents/skills)');
    await add('user', USER_ROOT, true, 'user ($CADUCEUS_HOME/skills)');
    for (const dir of this.config.extraDirs ?? []) await add('extra', dir, false, `extra (${dir})`);
    try {
      for (const { plugin, path } of await this.ctx.fs.skillDirs()) await add('plugin', path, false, `plugin '${plugin}'`, plugin);
    } catch (err) {
      this.ctx.log.warn(`plugin skill folders are not readable: ${(err as Error).message}`);
    }
    // The same folder reached twice (an extra dir that is also the user root) is scanned once.
    const seen = new Set<string>();
    return roots.filter((r) => (seen.has(r.abs) ? false : (seen.add(r.abs), true)));
  }

  private async scanRoot(root: Root): Promise<void> {
    const map = new Map<string, Entry>();
    const prev = this.entries.get(root.id);
    let listing: { name: string; type: string }[] = [];
    try {
      const st = await this.ctx.fs.stat(root.path);
      root.exists = st !== null && st.type === 'dir';
      if (root.exists) listing = await this.ctx.fs.list(root.path);
    } catch (err) {
      root.exists = false;
      map.set('', { folder: '', problem: { severity: root.kind === 'extra' ? 'error' : 'warning', file: root.path, line: 0, message: `cannot be read: ${(err as Error).message}`, fix: root.kind === 'extra' ? `Remove it from plugins.skills.extraDirs, or grant the skills plugin read access to it (caduceus plugins grants skills).` : 'Check the folder and the skills plugin grants (caduceus plugins grants skills).' } });
    }
    for (const ent of listing) {
      if (ent.name.startsWith('.') || ent.type === 'file') continue;
      map.set(ent.name, await this.loadFolder(root, ent.name, prev?.get(ent.name)));
    }
    this.entries.set(root.id, map);
  }

  /** Loads one skill folder; keeps the last good version when the new text does not load. */
  private async loadFolder(root: Root, folder: string, prev: Entry | undefined): Promise<Entry> {
    const fsDir = join(root.path, folder);
    const dir = join(root.abs, folder);
    const file = join(dir, 'SKILL.md');
    let text: string;
    try {
      text = await this.ctx.fs.read(join(fsDir, 'SKILL.md'));
    } catch (err) {
      const code = (err as { code?: string }).code;
      let problem: Problem;
      if (code === 'CAD_ERR_FS_OUTSIDE_ROOT') {
        problem = { severity: 'error', file, line: 0, message: 'resolves outside its skills folder (a symlink that leaves the root), so it is refused', fix: 'Copy the skill into the folder instead of linking to it.' };
      } else {
        let exists = true;
        try {
          exists = (await this.ctx.fs.stat(join(fsDir, 'SKILL.md'))) !== null;
        } catch {
          // the read's own error says enough
        }
        if (!exists) {
          return { folder, problem: { severity: 'warning', file: dir, line: 0, message: 'is a folder without SKILL.md, so it is not a skill', fix: 'Add a SKILL.md, or move the folder out of the skills folder.' } };
        }
        problem = { severity: 'error', file, line: 0, message: `cannot be read: ${(err as Error).message}`, fix: 'Check the file: it must be a UTF-8 text file of at most 256 KiB.' };
      }
      return keepLastGood(folder, prev, problem);
    }
    const parsed = parseSkill(text, file);
    if ('problem' in parsed) return keepLastGood(folder, prev, parsed.problem);
    const s = parsed.skill;
    const id = root.kind === 'plugin' ? `${root.plugin}:${s.name}` : s.name;
    const warnings = [...s.warnings];
    if (s.name !== folder) {
      warnings.push({ severity: 'warning', file, line: 2, field: 'name', message: `\`name\` is '${s.name}' but the folder is '${folder}'`, fix: `Rename the folder to '${s.name}' or change \`name\`; the skill is known as '${id}'.` });
    }
    const skill: Skill = { ...s, warnings, id, root, folder, dir, file, fsDir, text, touched: 0 };
    if (prev?.skill && prev.skill.text === text) skill.touched = prev.skill.touched + 1;
    return { folder, skill };
  }

  /** Re-reads one folder of a root (after a change); a folder that is gone drops out. */
  async rescanFolder(root: Root, folder: string): Promise<void> {
    const map = this.entries.get(root.id) ?? new Map<string, Entry>();
    this.entries.set(root.id, map);
    let st: { type: string } | null = null;
    try {
      st = await this.ctx.fs.stat(join(root.path, folder));
    } catch {
      st = null;
    }
    if (!st || st.type === 'file') map.delete(folder);
    else map.set(folder, await this.loadFolder(root, folder, map.get(folder)));
  }

  /** Rebuilds the live set by precedence; returns what changed since the last time. */
  recompute(): Change {
    const next = new Map<string, Skill>();
    const shadows: Problem[] = [];
    for (const root of this.roots) {
      const entries = [...(this.entries.get(root.id)?.values() ?? [])].sort((a, b) => (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : 0));
      for (const e of entries) {
        if (!e.skill) continue;
        const winner = next.get(e.skill.id);
        if (winner) {
          shadows.push({
            severity: 'warning', file: e.skill.file, line: 2, field: 'name',
            message: `skill '${e.skill.id}' is also defined in ${winner.file} (${winner.root.label}), which wins; this one is ignored`,
            fix: 'Rename one of them, or delete the one you do not want.',
          });
        } else next.set(e.skill.id, e.skill);
      }
    }
    const change: Change = { added: [], changed: [], removed: [], problems: [] };
    for (const [id, s] of next) {
      const before = this.live.get(id);
      if (!before) change.added.push(id);
      else if (before.file !== s.file || before.text !== s.text || before.touched !== s.touched) change.changed.push(id);
    }
    for (const id of this.live.keys()) if (!next.has(id)) change.removed.push(id);
    this.live = next;
    this.shadowWarnings = shadows;
    const now = this.problems();
    const keys = new Set(now.map(key));
    change.problems = now.filter((p) => !this.reported.has(key(p)));
    this.reported = keys;
    return change;
  }

  private enqueue(root: Root, batch: WatchBatch): void {
    this.queue = this.queue.then(() => this.onBatch(root, batch)).catch((err) => this.ctx.log.error(`skills reload failed: ${(err as Error).message}`));
  }

  private async onBatch(root: Root, batch: WatchBatch): Promise<void> {
    root.mode = batch.mode;
    if (batch.overflow) await this.scanRoot(root);
    else {
      const folders = new Set<string>();
      for (const e of batch.events) {
        const rel = within(root.abs, e.path);
        if (!rel) continue;
        const folder = rel.split('/')[0]!;
        // A file directly in the root is not a skill; a folder whose only event is its own removal
        // is rescanned like any other (it drops out).
        if (folder.startsWith('.') || (rel === folder && (e.type === 'add' || e.type === 'change' || e.type === 'unlink') && !this.entries.get(root.id)?.has(folder))) continue;
        folders.add(folder);
      }
      for (const folder of folders) await this.rescanFolder(root, folder);
    }
    this.publish(this.recompute());
  }

  /** Tells listeners and the kernel (skillsChanged) about a change, if there is one. */
  publish(change: Change): void {
    if (change.added.length + change.changed.length + change.removed.length + change.problems.length === 0) return;
    for (const fn of this.listeners) {
      try {
        fn(change);
      } catch (err) {
        this.ctx.log.error(`a skills listener failed: ${(err as Error).message}`);
      }
    }
    if (change.added.length + change.changed.length + change.removed.length > 0) {
      void this.ctx.emit('skillsChanged', { added: change.added, changed: change.changed, removed: change.removed })
        .catch((err: unknown) => this.ctx.log.warn(`skillsChanged not sent: ${(err as Error).message}`));
    }
  }
}

function keepLastGood(folder: string, prev: Entry | undefined, problem: Problem): Entry {
  return prev?.skill ? { folder, skill: { ...prev.skill, stale: problem }, problem } : { folder, problem };
}

function key(p: Problem): string {
  return `${p.severity}\0${p.file}\0${p.line}\0${p.message}`;
}
