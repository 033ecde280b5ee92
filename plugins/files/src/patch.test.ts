/** The patch tool's two modes as pure functions: exact replacement and strict unified diffs. */
import { describe, expect, it } from 'vitest';
import { applyUnifiedDiff, replaceExact } from './patch.js';

const code = (e: unknown) => (e as { code?: string }).code;
const thrown = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
};

describe('replaceExact', () => {
  it('replaces a unique occurrence', () => {
    expect(replaceExact('a\nb\nc\n', 'b', 'B', false, 'f')).toEqual({ text: 'a\nB\nc\n', count: 1 });
  });

  it('refuses 0 and >1 occurrences, naming the lines, unless replace_all', () => {
    expect(code(thrown(() => replaceExact('a\nb\n', 'x', 'y', false, 'f')))).toBe('files:no_match');
    const e = thrown(() => replaceExact('x\ny\nx\n', 'x', 'z', false, 'f')) as Error & { details: { lines: number[] } };
    expect(code(e)).toBe('files:ambiguous');
    expect(e.message).toContain('2 times');
    expect(e.details.lines).toEqual([1, 3]);
    expect(replaceExact('x\ny\nx\n', 'x', 'z', true, 'f')).toEqual({ text: 'z\ny\nz\n', count: 2 });
  });

  it('treats "$&" and other replacement patterns literally', () => {
    expect(replaceExact('price: X', 'X', '$& $1 $$', false, 'f').text).toBe('price: $& $1 $$');
  });

  it('matches LF old_string in a CRLF file, writing CRLF', () => {
    expect(replaceExact('a\r\nb\r\nc\r\n', 'a\nb', 'A\nB', false, 'f').text).toBe('A\r\nB\r\nc\r\n');
  });

  it('hints when old_string carries read_file line numbers', () => {
    expect((thrown(() => replaceExact('foo\n', '     1\tfoo', 'bar', false, 'f')) as Error).message).toContain('line number');
  });

  it('refuses an empty or unchanged old_string', () => {
    expect(code(thrown(() => replaceExact('a', '', 'b', false, 'f')))).toBe('files:bad_patch');
    expect(code(thrown(() => replaceExact('a', 'a', 'a', false, 'f')))).toBe('files:bad_patch');
  });
});

describe('applyUnifiedDiff', () => {
  const file = 'one\ntwo\nthree\nfour\nfive\n';

  it('applies a hunk at its stated line', () => {
    const diff = '--- a/f\n+++ b/f\n@@ -2,3 +2,3 @@\n two\n-three\n+THREE\n four\n';
    expect(applyUnifiedDiff(file, diff, 'f')).toEqual({ text: 'one\ntwo\nTHREE\nfour\nfive\n', hunks: 1, added: 1, removed: 1 });
  });

  it('finds a hunk whose line numbers are off when its lines occur exactly once', () => {
    const diff = '@@ -40,2 +40,3 @@\n four\n+four and a half\n five\n';
    expect(applyUnifiedDiff(file, diff, 'f').text).toBe('one\ntwo\nthree\nfour\nfour and a half\nfive\n');
  });

  it('refuses a hunk whose context does not match, changing nothing', () => {
    const e = thrown(() => applyUnifiedDiff(file, '@@ -2,2 +2,2 @@\n two\n-tree\n+THREE\n', 'f')) as Error;
    expect(code(e)).toBe('files:hunk_failed');
    expect(e.message).toContain('hunk 1');
  });

  it('refuses an ambiguous relocated hunk', () => {
    const text = 'x\ny\nx\ny\n';
    expect(code(thrown(() => applyUnifiedDiff(text, '@@ -9,2 +9,2 @@\n x\n-y\n+Y\n', 'f')))).toBe('files:ambiguous');
  });

  it('applies several hunks in order, tracking the shift', () => {
    const diff = '@@ -1,2 +1,3 @@\n one\n+one.5\n two\n@@ -4,2 +5,1 @@\n four\n-five\n';
    expect(applyUnifiedDiff(file, diff, 'f').text).toBe('one\none.5\ntwo\nthree\nfour\n');
  });

  it('keeps CRLF line endings', () => {
    expect(applyUnifiedDiff('a\r\nb\r\n', '@@ -1,2 +1,2 @@\n a\n-b\n+B\n', 'f').text).toBe('a\r\nB\r\n');
  });

  it('honours "No newline at end of file"', () => {
    const diff = '@@ -1,2 +1,2 @@\n a\n-b\n+c\n\\ No newline at end of file\n';
    expect(applyUnifiedDiff('a\nb\n', diff, 'f').text).toBe('a\nc');
  });

  it('tells a removed "-- comment" line from a file header by the hunk counts', () => {
    const sql = 'select 1;\n-- old comment\nselect 2;\n';
    const diff = '--- a/q.sql\n+++ b/q.sql\n@@ -1,3 +1,2 @@\n select 1;\n--- old comment\n select 2;\n';
    expect(applyUnifiedDiff(sql, diff, 'q.sql').text).toBe('select 1;\nselect 2;\n');
  });

  it('refuses diffs of several files and text without hunks', () => {
    const two = '--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n--- a/y\n+++ b/y\n@@ -1 +1 @@\n-a\n+b\n';
    expect(code(thrown(() => applyUnifiedDiff('a\n', two, 'x')))).toBe('files:bad_patch');
    expect(code(thrown(() => applyUnifiedDiff('a\n', 'just some text', 'x')))).toBe('files:bad_patch');
  });
});
