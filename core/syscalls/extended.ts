/**
 * Syscalls for plugin CLI commands, file watches and the skills contribution kind, kept apart from the
 * core set in index.ts, which hands over every name it does not know:
 *
 * - `command.output`: a running command's `io.print`/`io.error` (core/command-run.ts);
 * - `fs.watch` / `fs.unwatch`: debounced change batches delivered into the isolate (watch.ts);
 * - `fs.removeDir`: delete an empty folder under a write root (never the root itself);
 * - `fs.stage`: copy a file, folder or .tgz the operator named on the command line (stage.ts);
 * - `fs.skillDirs`: the skill folders enabled plugins ship, for a plugin granted `fs.read:$PLUGIN_SKILLS`;
 * - `host.probe`: whether programs are on PATH, environment variables set, tools available (no values);
 * - `hooks.emit`: fire a notification hook the plugin holds an `emit:<hook>` grant for.
 *
 * Each checks the plugin's grants on the host like the rest, and denials are audited the same way.
 */
import { existsSync, lstatSync, realpathSync, rmdirSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { CaduceusError } from '../errors.js';
import { EMITTABLE_HOOKS, PLUGIN_SKILLS_MARKER, expandPathVars } from '../permissions.js';
import type { SyscallSession } from '../sandbox/sandbox.js';
import type { Kernel } from '../kernel.js';
import { inside, resolveInRoots, type FsContext } from './fs.js';
import type { SyscallDeps } from './index.js';
import { commandOutput, liveRunsOf } from '../command-run.js';
import { Watch, type WatchFactory } from './watch.js';
import { stageSource } from './stage.js';

/** Returned for a name this module does not serve, so index.ts can report it as unknown. */
export const UNHANDLED: unique symbol = Symbol('unhandled');

/** What these syscalls need from the kernel (built by extendedDepsOf; absent in bare syscall tables). */
export interface ExtendedDeps {
  /** Skill folders of enabled plugins (contributes.skills), each checked to lie inside its plugin. */
  skillDirs(): { plugin: string; path: string }[];
  toolStatus(name: string): string | undefined;
  emit(hook: string, payload: unknown): void;
  /** Tests: a stand-in for chokidar. */
  watchFactory?: WatchFactory;
}

export const MAX_WATCHES = 64;
const MAX_PROBE_NAMES = 64;
const MAX_CHANGE_NAMES = 10_000;

type Args = Record<string, unknown>;

export function createExtendedSyscalls(d: SyscallDeps & { extended?: ExtendedDeps }, fsCtx: FsContext): (name: string, args: Args, session: SyscallSession | undefined) => unknown {
  const plugin = d.plugin;
  const x = d.extended;
  // fs.read:$PLUGIN_SKILLS: the marker (which matches nothing) becomes the folders themselves.
  const skillDirs = fsCtx.roots.read.includes(PLUGIN_SKILLS_MARKER) && x ? x.skillDirs() : [];
  fsCtx.roots.read = [...fsCtx.roots.read.filter((r) => r !== PLUGIN_SKILLS_MARKER), ...skillDirs.map((s) => s.path)];
  const watches = new Map<number, Watch>();
  let nextWatch = 1;

  const audited = <T>(syscall: string, fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'CAD_ERR_PERMISSION_DENIED' || code === 'CAD_ERR_FS_OUTSIDE_ROOT' || code === 'CAD_ERR_FS_PROTECTED') {
        d.audit({ ts: Date.now(), kind: 'syscall.denied', plugin, outcome: 'denied', code, detail: { syscall } });
      }
      throw err;
    }
  };
  const str = (args: Args, key: string, syscall: string): string => {
    const v = args[key];
    if (typeof v !== 'string') throw invalid(plugin, `${syscall} with '${key}' that is not a string`);
    return v;
  };

  return (name, args, session) => {
    switch (name) {
      case 'command.output':
        return commandOutput(plugin, args);

      case 'fs.watch':
        return audited(name, () => {
          const s = needSession(plugin, session, name);
          const path = str(args, 'path', name);
          const opts = (typeof args.options === 'object' && args.options !== null ? args.options : {}) as Args;
          const real = resolveInRoots(fsCtx, path, 'read');
          if (watches.size >= MAX_WATCHES) {
            throw new CaduceusError('CAD_ERR_FS_FAILED', `Plugin '${plugin}' already has ${MAX_WATCHES} watches open; close some (watch.close()) before watching ${JSON.stringify(path)}.`, { plugin });
          }
          const debounceMs = clampInt(opts.debounceMs, 10, 5000, 100);
          const depth = clampInt(opts.depth, 0, 16, 8);
          const ignore = Array.isArray(opts.ignore) ? opts.ignore.filter((n): n is string => typeof n === 'string').slice(0, 32) : ['.git', 'node_modules'];
          const id = nextWatch++;
          const shown = resolve(d.workspace, expandPathVars(path, { workspace: d.workspace, pluginData: d.pluginData, caduceusHome: d.caduceusHome }));
          const watch = new Watch({
            plugin, real, shown, debounceMs, depth, ignore,
            deliver: (batch) => s.push(id, JSON.stringify(batch)),
            warn: (message) => {
              d.log(plugin, 'warn', message);
              d.audit({ ts: Date.now(), kind: 'fs.watch_fallback', plugin, outcome: 'error', detail: { path: shown, message } });
            },
            ...(x?.watchFactory ? { factory: x.watchFactory } : {}),
          });
          watches.set(id, watch);
          s.onDispose(() => {
            watch.close();
            watches.delete(id);
          });
          return { id, path: shown, mode: watch.mode };
        });

      case 'fs.unwatch': {
        const id = args.id;
        const watch = typeof id === 'number' ? watches.get(id) : undefined;
        if (!watch) return { closed: false };
        watch.close();
        watches.delete(id as number);
        return { closed: true };
      }

      case 'fs.removeDir':
        return audited(name, () => {
          const path = str(args, 'path', name);
          const real = resolveInRoots(fsCtx, path, 'write', false);
          const roots = fsCtx.roots.write.map((r) => (existsSync(r) ? realpathSync(r) : r));
          if (roots.includes(real)) throw fsFailed(plugin, path, 'is a granted root; only folders inside it can be removed');
          let st;
          try {
            st = lstatSync(real);
          } catch {
            return { removed: false };
          }
          if (!st.isDirectory()) throw fsFailed(plugin, path, 'is not a folder (remove files with fs.remove)');
          try {
            rmdirSync(real);
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            throw fsFailed(plugin, path, code === 'ENOTEMPTY' || code === 'EEXIST' ? 'is not empty; remove what is in it first' : `could not be removed (${code})`);
          }
          return { removed: true };
        });

      case 'fs.stage':
        return audited(name, () => {
          const path = str(args, 'path', name);
          // The staged copy lands in the plugin's data folder, which it must be able to read.
          try {
            resolveInRoots(fsCtx, join(d.pluginData, 'staged'), 'read');
          } catch {
            throw new CaduceusError('CAD_ERR_PERMISSION_DENIED',
              `Plugin '${plugin}' called fs.stage without a grant on its data folder. It needs fs.read:$PLUGIN_DATA or fs.write:$PLUGIN_DATA (\`caduceus plugins grant ${plugin} fs.write:$PLUGIN_DATA\`).`,
              { plugin, details: { syscall: name, permission: 'fs.write:$PLUGIN_DATA' } });
          }
          const out = stageSource({ plugin, workspace: d.workspace, pluginData: d.pluginData, requested: path, runs: liveRunsOf(plugin) });
          d.audit({ ts: Date.now(), kind: 'fs.stage', plugin, caller: 'operator', outcome: 'ok', detail: { source: out.source, kind: out.kind, files: out.files.length, skipped: out.skipped.length, contentHash: out.contentHash } });
          return out;
        });

      case 'fs.skillDirs':
        return audited(name, () => {
          if (!d.grants.some((g) => g.kind === 'fs.read' && g.path === '$PLUGIN_SKILLS')) deny(d, name, 'fs.read:$PLUGIN_SKILLS');
          return skillDirs;
        });

      case 'host.probe': {
        const names = (key: string, re: RegExp): string[] => {
          const v = args[key];
          if (v === undefined) return [];
          if (!Array.isArray(v) || v.length > MAX_PROBE_NAMES || !v.every((n) => typeof n === 'string' && re.test(n))) {
            throw invalid(plugin, `host.probe with '${key}' that is not a list of at most ${MAX_PROBE_NAMES} names`);
          }
          return v as string[];
        };
        const env = d.fakes?.env ?? process.env;
        const out = { platform: process.platform, arch: process.arch, bins: {} as Record<string, boolean>, env: {} as Record<string, boolean>, tools: {} as Record<string, boolean> };
        for (const b of names('bins', /^[A-Za-z0-9._+-]{1,128}$/)) out.bins[b] = onPath(b);
        for (const e of names('env', /^[A-Za-z_][A-Za-z0-9_]{0,127}$/)) out.env[e] = typeof env[e] === 'string' && env[e] !== '';
        for (const t of names('tools', /^[a-zA-Z0-9_:.-]{1,128}$/)) {
          const status = x?.toolStatus(t);
          out.tools[t] = status === 'available' || status === 'degraded';
        }
        return out;
      }

      case 'hooks.emit':
        return audited(name, () => {
          const hook = str(args, 'hook', name);
          if (!EMITTABLE_HOOKS.includes(hook)) throw invalid(plugin, `hooks.emit with hook ${JSON.stringify(hook)}, which plugins cannot fire (only ${EMITTABLE_HOOKS.join(', ')})`);
          if (!d.grants.some((g) => g.kind === 'emit' && g.hook === hook)) deny(d, name, `emit:${hook}`);
          const payload = skillsChange(plugin, args.payload);
          x?.emit(hook, payload);
          d.audit({ ts: Date.now(), kind: 'hook.emit', plugin, outcome: 'ok', detail: { hook, added: payload.added.length, changed: payload.changed.length, removed: payload.removed.length } });
          return null;
        });

      default:
        return UNHANDLED;
    }
  };
}

/** The kernel's side of ExtendedDeps. */
export function extendedDepsOf(k: Kernel): ExtendedDeps {
  return {
    skillDirs: () => k.plugins().filter((p) => p.enabled).flatMap((p) => {
      if (p.manifest.contributes.skills.length === 0) return [];
      const base = k.pluginRow(p.id).path;
      const realBase = existsSync(base) ? realpathSync(base) : base;
      return p.manifest.contributes.skills.flatMap((dir) => {
        const path = resolve(base, dir);
        // A tarball's manifest can name any path; only folders inside the plugin's own folder count.
        const real = existsSync(path) ? realpathSync(path) : path;
        return inside(realBase, real) && real !== realBase ? [{ plugin: p.id, path }] : [];
      });
    }),
    toolStatus: (name) => k.toolView(name)?.status,
    emit: (hook, payload) => {
      const h = (k.hooks as unknown as Record<string, { isUsed(): boolean; promise(p: unknown): Promise<unknown> }>)[hook];
      if (h?.isUsed()) void h.promise(payload).catch(() => undefined);
    },
  };
}

/** For syscalls that need the isolate (watches): a bare handler call without a session is a host bug. */
export function needSession(plugin: string, session: SyscallSession | undefined, syscall: string): SyscallSession {
  if (!session) throw invalid(plugin, `${syscall} where no isolate session exists`);
  return session;
}

function skillsChange(plugin: string, raw: unknown): { added: string[]; changed: string[]; removed: string[] } {
  const p = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const list = (key: string): string[] => {
    const v = p[key] ?? [];
    if (!Array.isArray(v) || v.length > MAX_CHANGE_NAMES || !v.every((n) => typeof n === 'string' && n.length > 0 && n.length <= 256)) {
      throw invalid(plugin, `hooks.emit skillsChanged with '${key}' that is not a list of at most ${MAX_CHANGE_NAMES} names`);
    }
    return v as string[];
  };
  return { added: list('added'), changed: list('changed'), removed: list('removed') };
}

function deny(d: SyscallDeps, syscall: string, permission: string): never {
  throw new CaduceusError('CAD_ERR_PERMISSION_DENIED',
    `Plugin '${d.plugin}' called ${syscall} without the permission '${permission}'. Run \`caduceus plugins grant ${d.plugin} ${permission}\` if it should have it.`,
    { plugin: d.plugin, details: { syscall, permission } });
}

function invalid(plugin: string, what: string): CaduceusError {
  return new CaduceusError('CAD_ERR_SYSCALL_INVALID', `Plugin '${plugin}' called ${what}.`, { plugin });
}

function fsFailed(plugin: string, path: string, why: string): CaduceusError {
  return new CaduceusError('CAD_ERR_FS_FAILED', `Plugin '${plugin}' fs path ${JSON.stringify(path)} ${why}.`, { plugin });
}

function clampInt(v: unknown, min: number, max: number, dflt: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(max, Math.max(min, Math.round(v))) : dflt;
}

const binCache = new Map<string, boolean>();
function onPath(bin: string): boolean {
  let hit = binCache.get(bin);
  if (hit === undefined) {
    hit = (process.env.PATH ?? '').split(delimiter).some((dir) => {
      if (!dir) return false;
      try {
        return lstatSync(join(dir, bin)).isFile() || existsSync(join(dir, bin));
      } catch {
        return false;
      }
    });
    binCache.set(bin, hit);
  }
  return hit;
}
