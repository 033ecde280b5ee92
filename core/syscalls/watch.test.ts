/**
 * The host side of fs.watch (watch.ts), with a stand-in for chokidar where the system has to misbehave
 * (running out of native watches cannot be arranged on a shared machine) and with real chokidar on real
 * files otherwise: coalescing and debouncing, the fallback to polling with one warning per plugin and a
 * rescan signal, waiting for a folder that does not exist yet, reporting paths under the folder as the
 * plugin spelled it, and stopping for good on close.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Watch, type WatchBatch, type WatchEmitter, type WatchFactory } from './watch.js';

class FakeEmitter extends EventEmitter implements WatchEmitter {
  closed = false;
  constructor(readonly path: string, readonly polling: boolean) {
    super();
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const temps: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'cad-watch-'));
  temps.push(d);
  return d;
};
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

function harness(opts: { real?: string; shown?: string; plugin?: string; debounceMs?: number; useReal?: boolean } = {}) {
  const dir = opts.real ?? temp();
  const emitters: FakeEmitter[] = [];
  const batches: WatchBatch[] = [];
  const warnings: string[] = [];
  const factory: WatchFactory = (path, o) => {
    const e = new FakeEmitter(path, o.polling);
    emitters.push(e);
    return e;
  };
  const watch = new Watch({
    plugin: opts.plugin ?? 'p', real: dir, shown: opts.shown ?? dir, debounceMs: opts.debounceMs ?? 30, depth: 4, ignore: [],
    deliver: (b) => (batches.push(b), true), warn: (m) => warnings.push(m), ...(opts.useReal ? {} : { factory }),
  });
  return { dir, watch, emitters, batches, warnings };
}

/** The watch starts on the next turn of the event loop. */
const started = () => new Promise((r) => setImmediate(r));

describe('fs.watch host side', () => {
  it('coalesces the events of one path and delivers one debounced batch', async () => {
    const h = harness();
    await started();
    const e = h.emitters[0]!;
    e.emit('all', 'add', join(h.dir, 'a/SKILL.md'));
    e.emit('all', 'change', join(h.dir, 'a/SKILL.md'));
    e.emit('all', 'add', join(h.dir, 'tmp.txt'));
    e.emit('all', 'unlink', join(h.dir, 'tmp.txt'));
    e.emit('all', 'unlink', join(h.dir, 'b/SKILL.md'));
    e.emit('all', 'add', join(h.dir, 'b/SKILL.md'));
    expect(h.batches).toEqual([]);
    await sleep(80);
    expect(h.batches).toEqual([{ events: [{ type: 'add', path: join(h.dir, 'a/SKILL.md') }, { type: 'change', path: join(h.dir, 'b/SKILL.md') }], overflow: false, mode: 'native' }]);
    h.watch.close();
  });

  it('falls back to polling when native watches run out, warns once per plugin, and asks for a rescan', async () => {
    const a = harness({ plugin: 'fallback-plugin' });
    const b = harness({ plugin: 'fallback-plugin' });
    await started();
    for (const h of [a, b]) h.emitters[0]!.emit('error', Object.assign(new Error('watch limit'), { code: h === a ? 'ENOSPC' : 'EMFILE' }));
    for (const h of [a, b]) {
      expect(h.emitters).toHaveLength(2);
      expect(h.emitters[0]!.closed).toBe(true);
      expect(h.emitters[1]!.polling).toBe(true);
      expect(h.watch.mode).toBe('polling');
    }
    expect([...a.warnings, ...b.warnings]).toHaveLength(1);
    expect(a.warnings[0]).toMatch(/ran out of native file watches \(ENOSPC\); plugin 'fallback-plugin' now polls/);
    await sleep(80);
    expect(a.batches).toEqual([{ events: [], overflow: true, mode: 'polling' }]);
    // Events still flow, from the polling watcher only.
    a.emitters[0]!.emit('all', 'add', join(a.dir, 'old'));
    a.emitters[1]!.emit('all', 'add', join(a.dir, 'x/SKILL.md'));
    await sleep(80);
    expect(a.batches[1]!.events).toEqual([{ type: 'add', path: join(a.dir, 'x/SKILL.md') }]);
    // Other errors do not switch modes.
    a.emitters[1]!.emit('error', Object.assign(new Error('denied'), { code: 'EACCES' }));
    expect(a.emitters).toHaveLength(2);
    a.watch.close();
    b.watch.close();
  });

  it('waits for a folder that does not exist yet, then watches it and asks for a rescan', async () => {
    const base = temp();
    const h = harness({ real: join(base, 'later') });
    await started();
    expect(h.watch.mode).toBe('waiting');
    expect(h.emitters).toHaveLength(0);
    mkdirSync(join(base, 'later'));
    await sleep(1300);
    expect(h.emitters).toHaveLength(1);
    expect(h.batches).toEqual([{ events: [], overflow: true, mode: 'native' }]);
    // The folder itself going away: back to waiting, with a rescan.
    h.emitters[0]!.emit('all', 'unlinkDir', join(base, 'later'));
    expect(h.emitters[0]!.closed).toBe(true);
    await sleep(80);
    expect(h.batches.at(-1)).toMatchObject({ overflow: true });
    h.watch.close();
  });

  it('stops for good when closed', async () => {
    const h = harness();
    await started();
    h.emitters[0]!.emit('all', 'add', join(h.dir, 'a'));
    h.watch.close();
    expect(h.emitters[0]!.closed).toBe(true);
    h.emitters[0]!.emit('all', 'add', join(h.dir, 'b'));
    await sleep(80);
    expect(h.batches).toEqual([]);
  });

  it('with real chokidar: reports real changes under the path as the plugin spelled it, and no symlink targets', async () => {
    const base = temp();
    const real = join(base, 'real');
    const outside = join(base, 'outside');
    mkdirSync(real);
    mkdirSync(outside);
    symlinkSync(real, join(base, 'alias'));
    symlinkSync(outside, join(real, 'link-out'));
    const h = harness({ real, shown: join(base, 'alias'), useReal: true, debounceMs: 40 });
    await sleep(400);
    mkdirSync(join(real, 'skill'));
    writeFileSync(join(real, 'skill', 'SKILL.md'), 'one');
    writeFileSync(join(outside, 'secret.txt'), 'never reported');
    for (let i = 0; i < 100 && !h.batches.some((b) => b.events.some((e) => e.path.endsWith('SKILL.md'))); i++) await sleep(50);
    const paths = h.batches.flatMap((b) => b.events.map((e) => e.path));
    expect(paths).toContain(join(base, 'alias', 'skill', 'SKILL.md'));
    expect(paths.some((p) => p.includes('secret'))).toBe(false);
    h.watch.close();
  });
});
