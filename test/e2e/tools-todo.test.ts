/**
 * The bundled todo plugin through the built CLI: one list per session (`--session`), one default list
 * without a session, add / update / list / clear, the item cap, and bad arguments.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHome, type Home } from '../helpers/cli.js';

describe('todo tool (CLI)', () => {
  let home: Home;
  beforeAll(() => {
    home = makeHome('cad-todo-');
  });
  afterAll(() => home?.cleanup());

  const call = (args: unknown, session?: string) => {
    const r = home.run(['tools', 'call', 'todo', JSON.stringify(args), '--json', ...(session ? ['--session', session] : [])]);
    const envelope = r.json();
    expect(r.code, r.stderr).toBe(envelope.ok ? 0 : 1);
    return envelope;
  };
  const ok = (args: unknown, session?: string) => {
    const r = call(args, session);
    expect(r.ok, JSON.stringify(r.error)).toBe(true);
    return r.result;
  };
  const failure = (args: unknown, session?: string) => {
    const r = call(args, session);
    expect(r.ok).toBe(false);
    return { code: r.error.details?.pluginError?.code ?? r.error.code, message: r.error.message as string };
  };

  it('is bundled and enabled by default, with a complete descriptor', () => {
    expect(home.run(['plugins', 'list', '--json']).json<any[]>().find((p) => p.id === 'todo')).toMatchObject({ bundled: true, enabled: true });
    expect(home.run(['tools', 'list', '--json']).json<any[]>().find((t) => t.name === 'todo')).toMatchObject({
      plugin: 'todo', status: 'available', mutating: true, idempotent: false, toolset: 'todo', timeoutMs: 10_000, maxResultBytes: 262_144,
    });
  });

  it('keeps one list per session, numbered from 1, and updates statuses and text by id', () => {
    const added = ok({ action: 'add', items: [{ content: 'read the code' }, { content: 'write the patch', status: 'in_progress' }, { content: 'run the tests' }] }, 's1');
    expect(added).toEqual({
      list: 'session:s1', session: 's1', message: 'added #1, #2, #3',
      items: [{ id: 1, content: 'read the code', status: 'pending' }, { id: 2, content: 'write the patch', status: 'in_progress' }, { id: 3, content: 'run the tests', status: 'pending' }],
      counts: { pending: 2, in_progress: 1, completed: 0, cancelled: 0 },
    });
    const updated = ok({ action: 'update', updates: [{ id: 1, status: 'completed' }, { id: 3, content: 'run the whole test suite', status: 'cancelled' }] }, 's1');
    expect(updated.items).toEqual([
      { id: 1, content: 'read the code', status: 'completed' },
      { id: 2, content: 'write the patch', status: 'in_progress' },
      { id: 3, content: 'run the whole test suite', status: 'cancelled' },
    ]);
    expect(updated.counts).toEqual({ pending: 0, in_progress: 1, completed: 1, cancelled: 1 });
    // Another session and no session each have their own list.
    expect(ok({ action: 'list' }, 's2')).toMatchObject({ list: 'session:s2', items: [] });
    expect(ok({ action: 'add', items: [{ content: 'outside any session' }] })).toMatchObject({ list: 'default', session: null, items: [{ id: 1, content: 'outside any session', status: 'pending' }] });
    expect(ok({ action: 'list' }, 's1').items).toHaveLength(3);
  });

  it('clears finished items, or all of them; ids are never reused', () => {
    expect(ok({ action: 'clear' }, 's1')).toMatchObject({ message: 'cleared 2 finished items', items: [{ id: 2, status: 'in_progress' }] });
    expect(ok({ action: 'add', items: [{ content: 'ship it' }] }, 's1').items.map((i: any) => i.id)).toEqual([2, 4]);
    expect(ok({ action: 'clear', all: true }, 's1')).toMatchObject({ message: 'cleared 2 items', items: [] });
    expect(ok({ action: 'add', items: [{ content: 'again' }] }, 's1').items).toEqual([{ id: 5, content: 'again', status: 'pending' }]);
  });

  it('refuses unknown ids and empty updates without changing anything', () => {
    const missing = failure({ action: 'update', updates: [{ id: 5, status: 'completed' }, { id: 99, status: 'completed' }] }, 's1');
    expect(missing.code).toBe('todo:not_found');
    expect(missing.message).toContain('no item with id 99 in this list (ids: 5). Nothing was changed');
    expect(failure({ action: 'update', updates: [{ id: 5 }] }, 's1')).toMatchObject({ code: 'todo:bad_args', message: expect.stringContaining('changes nothing') });
    expect(ok({ action: 'list' }, 's1').items).toEqual([{ id: 5, content: 'again', status: 'pending' }]);
  });

  it('caps a list at 100 items', () => {
    const batch = (n: number) => Array.from({ length: n }, (_, i) => ({ content: `task ${i}` }));
    ok({ action: 'add', items: batch(50) }, 'big');
    ok({ action: 'add', items: batch(50) }, 'big');
    const full = failure({ action: 'add', items: batch(1) }, 'big');
    expect(full.code).toBe('todo:full');
    expect(full.message).toContain('holds 100 of 100 items');
    expect(full.message).toContain('"clear"');
  });

  it('rejects bad arguments', () => {
    expect(failure({ action: 'add' }, 's3')).toMatchObject({ code: 'todo:bad_args' });
    expect(failure({ action: 'update' }, 's3')).toMatchObject({ code: 'todo:bad_args' });
    for (const args of [
      { action: 'done' },
      { action: 'add', items: [{ content: 'x', status: 'blocked' }] },
      { action: 'add', items: [] },
      { action: 'add', items: [{ content: '' }] },
      { action: 'update', updates: [{ id: 0, status: 'completed' }] },
      { action: 'add', items: ['plain string'] },
    ]) {
      expect(failure(args, 's3').code, JSON.stringify(args)).toBe('CAD_ERR_TOOL_ARGS_INVALID');
    }
  });
});
