/**
 * The `fs.watch` syscall's host side: one chokidar watcher per watch (chokidar, not a bare recursive
 * `fs.watch`, because editors save by renaming a temp file over the original and because Linux has no
 * recursive native watch). Events are coalesced per path and delivered in debounced batches to a listener
 * inside the plugin's isolate. Paths in events are spelled under the path the plugin asked for, so it can
 * hand them straight back to `ctx.fs.read`.
 *
 * Containment: the watched folder is realpath'd and checked against the granted read roots before the
 * watch starts (fs.ts), and symlinks inside it are never followed, so nothing outside the roots is ever
 * watched or reported. A folder that does not exist yet is waited for (checked every second) and watched
 * once it appears; one that disappears goes back to waiting.
 *
 * When the system runs out of native watches (EMFILE, ENOSPC), a watch falls back to polling, with one
 * warning per plugin per process, and tells the listener to rescan (`overflow`), since events may have
 * been lost in between. The watch stops when the plugin closes it or its isolate is disposed.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, relative, sep } from 'node:path';

export type WatchEventType = 'add' | 'change' | 'unlink' | 'addDir' | 'unlinkDir';

export interface WatchEvent {
  type: WatchEventType;
  /** Absolute, under the path the plugin asked to watch. */
  path: string;
}

export interface WatchBatch {
  events: WatchEvent[];
  /** Events may have been missed (too many at once, a fallback to polling, the folder appeared, the watch just became ready): rescan. */
  overflow: boolean;
  mode: 'native' | 'polling' | 'waiting';
}

/** The chokidar surface used here; tests substitute their own to simulate running out of watches. */
export interface WatchEmitter {
  on(event: 'all', fn: (type: string, path: string) => void): unknown;
  on(event: 'error', fn: (err: unknown) => void): unknown;
  on(event: 'ready', fn: () => void): unknown;
  close(): Promise<void>;
}

export type WatchFactory = (path: string, opts: { polling: boolean; depth: number; ignore: readonly string[] }) => WatchEmitter;

export interface WatchSpec {
  plugin: string;
  /** Realpath of the watched folder (or where it will be), already checked against the roots. */
  real: string;
  /** The same folder as the plugin spelled it (absolute): event paths are reported under it. */
  shown: string;
  debounceMs: number;
  depth: number;
  /** Folder and file names never reported (and not descended into). */
  ignore: readonly string[];
  /** Hands a batch to the isolate; false when the isolate is gone, which closes the watch. */
  deliver(batch: WatchBatch): boolean;
  warn(message: string): void;
  factory?: WatchFactory;
  /** Start in polling mode (CADUCEUS_WATCH_POLLING=1, or a fallback that already happened). */
  polling?: boolean;
}

export const MAX_EVENTS_PER_BATCH = 2000;
const EXISTS_POLL_MS = 1000;
const POLL_INTERVAL_MS = 250;

/** Plugins already warned about the fallback to polling in this process. */
const warnedFallback = new Set<string>();

let chokidar: { watch: (path: string, opts: Record<string, unknown>) => WatchEmitter } | undefined;

/** chokidar, loaded on the first watch (listings and plain tool calls never pay for it). */
export const chokidarFactory: WatchFactory = (path, o) => {
  chokidar ??= createRequire(import.meta.url)('chokidar') as typeof chokidar;
  return chokidar!.watch(path, {
    ignoreInitial: true,
    followSymlinks: false,
    depth: o.depth,
    ignorePermissionErrors: true,
    usePolling: o.polling,
    interval: POLL_INTERVAL_MS,
    binaryInterval: POLL_INTERVAL_MS,
    ignored: (p: string) => {
      const name = basename(p);
      return o.ignore.includes(name) || /\.caduceus-\d+-\d+(-\d+)?\.tmp$/.test(name);
    },
  });
};

export class Watch {
  private emitter: WatchEmitter | undefined;
  private existsTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private firstPendingAt = 0;
  private pending = new Map<string, WatchEventType>();
  private overflow = false;
  private polling: boolean;
  private closed = false;

  private started = false;

  constructor(private readonly spec: WatchSpec) {
    this.polling = spec.polling === true || process.env.CADUCEUS_WATCH_POLLING === '1';
    // Started on the next turn of the event loop, not inside the syscall: loading chokidar and setting
    // up its first watches stays off the plugin call that asked (its 'ready' rescan covers the gap).
    setImmediate(() => {
      this.started = true;
      this.start();
    });
  }

  get mode(): WatchBatch['mode'] {
    if (!this.started) return this.polling ? 'polling' : isDir(this.spec.real) ? 'native' : 'waiting';
    return this.emitter ? (this.polling ? 'polling' : 'native') : 'waiting';
  }

  private start(): void {
    if (this.closed) return;
    if (!isDir(this.spec.real)) {
      // Not there yet (a project without .caduceus/skills): look again every second.
      this.existsTimer = setTimeout(() => {
        this.existsTimer = undefined;
        if (isDir(this.spec.real)) {
          this.overflow = true;
          this.schedule();
        }
        this.start();
      }, EXISTS_POLL_MS);
      this.existsTimer.unref?.();
      return;
    }
    const factory = this.spec.factory ?? chokidarFactory;
    const emitter = factory(this.spec.real, { polling: this.polling, depth: this.spec.depth, ignore: this.spec.ignore });
    this.emitter = emitter;
    emitter.on('all', (type, path) => this.onEvent(emitter, type, path));
    emitter.on('error', (err) => this.onError(emitter, err));
    // chokidar sets its watches up asynchronously: whatever changed before it was ready went unseen, so
    // the listener is told to rescan once it is.
    emitter.on('ready', () => {
      if (this.closed || emitter !== this.emitter) return;
      this.overflow = true;
      this.schedule();
    });
  }

  private onEvent(from: WatchEmitter, type: string, path: string): void {
    if (this.closed || from !== this.emitter) return;
    if (!['add', 'change', 'unlink', 'addDir', 'unlinkDir'].includes(type)) return;
    const rel = relative(this.spec.real, path);
    if (rel === '' && type === 'unlinkDir') {
      // The watched folder itself went away: report it, then wait for it to come back.
      this.stopEmitter();
      this.overflow = true;
      this.schedule();
      this.start();
      return;
    }
    if (rel.startsWith('..') || rel === '') return;
    const shown = `${this.spec.shown}${sep}${rel}`;
    const merged = merge(this.pending.get(shown), type as WatchEventType);
    if (merged === undefined) this.pending.delete(shown);
    else this.pending.set(shown, merged);
    this.schedule();
  }

  private onError(from: WatchEmitter, err: unknown): void {
    if (this.closed || from !== this.emitter) return;
    const code = (err as { code?: string }).code;
    if (!this.polling && (code === 'EMFILE' || code === 'ENOSPC')) {
      if (!warnedFallback.has(this.spec.plugin)) {
        warnedFallback.add(this.spec.plugin);
        this.spec.warn(`the system ran out of native file watches (${code}); plugin '${this.spec.plugin}' now polls its watched folders every ${POLL_INTERVAL_MS} ms. Raise the limit (on Linux: sysctl fs.inotify.max_user_watches / max_user_instances) to get native watches back.`);
      }
      this.stopEmitter();
      this.polling = true;
      this.overflow = true;
      this.schedule();
      this.start();
    }
  }

  private schedule(): void {
    const now = Date.now();
    if (this.pending.size === 0 && !this.overflow) return;
    if (this.flushTimer === undefined) this.firstPendingAt = now;
    else clearTimeout(this.flushTimer);
    // Trailing debounce, but a steady stream of changes still flushes at least every 10 debounce periods.
    const wait = Math.max(0, Math.min(this.spec.debounceMs, this.firstPendingAt + this.spec.debounceMs * 10 - now));
    this.flushTimer = setTimeout(() => this.flush(), wait);
    this.flushTimer.unref?.();
  }

  private flush(): void {
    this.flushTimer = undefined;
    if (this.closed) return;
    let events = [...this.pending].map(([path, type]) => ({ type, path }));
    this.pending.clear();
    let overflow = this.overflow;
    this.overflow = false;
    if (events.length > MAX_EVENTS_PER_BATCH) {
      events = events.slice(0, MAX_EVENTS_PER_BATCH);
      overflow = true;
    }
    if (events.length === 0 && !overflow) return;
    if (!this.spec.deliver({ events, overflow, mode: this.mode })) this.close();
  }

  private stopEmitter(): void {
    const e = this.emitter;
    this.emitter = undefined;
    if (e) void e.close().catch(() => undefined);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.existsTimer) clearTimeout(this.existsTimer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.stopEmitter();
  }
}

/** Folds a new event for a path into the one already pending; undefined means "nothing happened". */
function merge(prev: WatchEventType | undefined, next: WatchEventType): WatchEventType | undefined {
  if (prev === 'add' && next === 'change') return 'add';
  if (prev === 'add' && next === 'unlink') return undefined;
  if (prev === 'addDir' && next === 'unlinkDir') return undefined;
  if (prev === 'unlink' && next === 'add') return 'change';
  return next;
}

function isDir(p: string): boolean {
  try {
    return existsSync(p) && statSync(realpathSync(p)).isDirectory();
  } catch {
    return false;
  }
}
