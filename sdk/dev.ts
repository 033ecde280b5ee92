/**
 * The plugin dev loop (`caduceus plugin dev`): build, install and start a plugin folder in a running
 * kernel, then rebuild on every change and hot-reload it by swapping a whole generation
 * (`Kernel.reload`). Calls already running finish on the old generation, new calls go to the new one,
 * and a change that fails to build or to start leaves the old generation serving and says why.
 */
import { readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { isCoded } from '../core/errors.js';
import { MANIFEST_FILE } from '../core/manifest/schema.js';
import type { Kernel } from '../core/kernel.js';
import { installPlugin } from '../core/lifecycle/install.js';
import { enablePlugin, grantPermissions, type Consent } from '../core/lifecycle/manage.js';
import { meaningOf } from '../core/permissions.js';
import { buildPlugin } from './build.js';

export type DevEvent =
  | { type: 'ready'; id: string; generation: number; ms: number; tools: string[] }
  | { type: 'change'; files: string[] }
  | { type: 'reloaded'; id: string; generation: number; previous: number | undefined; ms: number; tools: string[] }
  | { type: 'failed'; stage: 'build' | 'install' | 'load'; error: { code: string; message: string }; live: number | undefined }
  | { type: 'permissions'; id: string; requested: string[]; granted: boolean };

export interface DevOptions {
  /** How a new or widened permission is consented to; without `yes` or `ask` it stays ungranted. */
  consent?: Consent;
  onEvent?: (e: DevEvent) => void;
  /** Quiet period after the last change before rebuilding. */
  debounceMs?: number;
}

export interface DevSession {
  readonly id: string;
  /** The live generation number. */
  generation(): number | undefined;
  /** Rebuilds and reloads now; resolves when done (whatever the outcome, which goes to onEvent). */
  rebuild(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the dev loop on a plugin folder. Throws if the first build, install or start fails.
 *
 * @example
 * ```ts
 * const dev = await startDev(kernel, './weather', { consent: { yes: true }, onEvent: console.log });
 * // edit ./weather/src/index.ts: onEvent gets { type: 'reloaded', generation: 2, ... }
 * await dev.stop();
 * ```
 */
export async function startDev(k: Kernel, dir: string, opts: DevOptions = {}): Promise<DevSession> {
  const folder = resolve(dir);
  const emit = opts.onEvent ?? (() => undefined);
  const consent = opts.consent ?? {};
  const t0 = performance.now();
  let manifestText = '';
  const build = async () => {
    const r = await buildPlugin(folder);
    manifestText = readFileSync(join(folder, MANIFEST_FILE), 'utf8');
    return r;
  };
  const built = await build();
  const before = k.activeRuntime(built.manifest.id) !== undefined;
  const first = await installPlugin(k, folder);
  const id = first.id;
  if (!first.enabled) await enablePlugin(k, id, consent);
  else await widen(k, id, first.newPermissions, consent, emit);
  // A kernel that already ran the plugin swaps generations; a fresh one (or one enable just started) has
  // the new code running already.
  await (before ? k.reload(id, 'plugin dev') : k.activate(id));
  let live: number | undefined = k.activeRuntime(id)?.generation;

  let running: Promise<void> | undefined;
  let again = false;
  const rebuild = async (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await cycle();
      } while (again);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const cycle = async () => {
    const started = performance.now();
    let stage: 'build' | 'install' | 'load' = 'build';
    try {
      await build();
      stage = 'install';
      const r = await installPlugin(k, folder);
      if (!r.enabled) await enablePlugin(k, id, consent);
      else await widen(k, id, r.newPermissions, consent, emit);
      stage = 'load';
      const swapped = await k.reload(id, 'plugin dev');
      live = swapped.generation;
      emit({ type: 'reloaded', id, generation: swapped.generation, previous: swapped.previous, ms: Math.round(performance.now() - started), tools: toolsOf(k, id) });
    } catch (err) {
      const error = isCoded(err) ? { code: err.code, message: err.message } : { code: 'CAD_ERR_BUILD_BUNDLE', message: String((err as Error)?.message ?? err) };
      // A rebuild that asks for more than was consented to is installed disabled: nothing serves then.
      emit({ type: 'failed', stage, error, live: k.isEnabled(id) ? k.activeRuntime(id)?.generation ?? live : undefined });
    }
  };

  let timer: NodeJS.Timeout | undefined;
  let changed = new Set<string>();
  const onChange = (file: string) => {
    changed.add(file);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const files = [...changed];
      changed = new Set();
      emit({ type: 'change', files });
      void rebuild();
    }, opts.debounceMs ?? 150);
  };
  // chokidar, not fs.watch: editors and tools save by writing a temporary file and renaming it over the
  // original, and a plain recursive fs.watch loses track of a file replaced that way.
  const { watch } = await import('chokidar');
  const watcher = watch([join(folder, 'src'), join(folder, MANIFEST_FILE), join(folder, 'package.json')], {
    ignoreInitial: true,
    ignored: (p: string) => p.includes(`${sep}node_modules${sep}`),
    awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 20 },
  });
  await new Promise<void>((ready) => watcher.once('ready', () => ready()));
  watcher.on('all', (_event, path) => {
    const name = relative(folder, path);
    // The build rewrites the manifest; only a change that is not the build's own output is an edit.
    if (name === MANIFEST_FILE) {
      let text = '';
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        // deleted or mid-save; rebuilding reports what is wrong
      }
      if (text === manifestText) return;
    }
    onChange(name);
  });

  // Ready only once the watcher is: an edit made right after 'ready' must not be missed.
  emit({ type: 'ready', id, generation: live ?? 0, ms: Math.round(performance.now() - t0), tools: toolsOf(k, id) });
  return {
    id,
    generation: () => k.activeRuntime(id)?.generation ?? live,
    rebuild,
    async stop() {
      clearTimeout(timer);
      await watcher.close();
    },
  };
}

function toolsOf(k: Kernel, id: string): string[] {
  return k.plugin(id).manifest.contributes.tools.map((t) => t.name);
}

/** A rebuilt plugin that asks for more: granted with consent, otherwise reported and left out. */
async function widen(k: Kernel, id: string, requested: string[], consent: Consent, emit: (e: DevEvent) => void): Promise<void> {
  if (requested.length === 0) return;
  const ok = consent.yes === true || (consent.ask ? await consent.ask(id, requested.map((p) => ({ permission: p, meaning: meaningOf(p) }))) : false);
  if (ok) await grantPermissions(k, id, requested);
  emit({ type: 'permissions', id, requested, granted: ok });
}
