/** .gitignore matching and search_files globs, as pure functions. */
import { describe, expect, it } from 'vitest';
import { isIgnored, parseGitignore } from './gitignore.js';
import { globMatcher } from './glob.js';

describe('gitignore', () => {
  const root = parseGitignore('# comment\nnode_modules/\n*.log\n!keep.log\n/build\ndocs/*.tmp\n**/cache/**\n', '');

  it('matches names at any depth, anchored paths, folders only and negations', () => {
    expect(isIgnored([root], 'node_modules', true)).toBe(true);
    expect(isIgnored([root], 'pkg/node_modules', true)).toBe(true);
    expect(isIgnored([root], 'node_modules', false)).toBe(false);
    expect(isIgnored([root], 'a/b/debug.log', false)).toBe(true);
    expect(isIgnored([root], 'a/keep.log', false)).toBe(false);
    expect(isIgnored([root], 'build', true)).toBe(true);
    expect(isIgnored([root], 'src/build', true)).toBe(false);
    expect(isIgnored([root], 'docs/x.tmp', false)).toBe(true);
    expect(isIgnored([root], 'docs/sub/x.tmp', false)).toBe(false);
    expect(isIgnored([root], 'x/cache/y/z.txt', false)).toBe(true);
    expect(isIgnored([root], 'src/main.ts', false)).toBe(false);
  });

  it('applies a nested .gitignore below its folder only, after the outer ones', () => {
    const nested = parseGitignore('*.gen.ts\n!debug.log\n', 'pkg');
    expect(isIgnored([root, nested], 'pkg/a.gen.ts', false)).toBe(true);
    expect(isIgnored([root, nested], 'a.gen.ts', false)).toBe(false);
    expect(isIgnored([root, nested], 'pkg/debug.log', false)).toBe(false);
  });
});

describe('search globs', () => {
  it('matches names at any depth without a slash, paths with one', () => {
    expect(globMatcher('*.ts')('a/b/c.ts')).toBe(true);
    expect(globMatcher('*.ts')('a/b/c.tsx')).toBe(false);
    expect(globMatcher('src/**/*.test.ts')('src/a/b/x.test.ts')).toBe(true);
    expect(globMatcher('src/**/*.test.ts')('src/x.test.ts')).toBe(true);
    expect(globMatcher('src/*.ts')('src/a/x.ts')).toBe(false);
    expect(globMatcher('*.{js,mjs}')('lib/a.mjs')).toBe(true);
    expect(globMatcher('file?.[ch]')('file1.c')).toBe(true);
    expect(globMatcher('[!a]*')('abc')).toBe(false);
  });
});
