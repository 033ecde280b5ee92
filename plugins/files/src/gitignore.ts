/**
 * .gitignore rules as git reads them, for search_files: blank lines and `#` comments skipped, `!`
 * re-includes, a trailing `/` matches folders only, a pattern with a `/` before its end is anchored to
 * the folder of its .gitignore (a leading `/` only anchors), any other pattern matches a name at any
 * depth below that folder. The last matching rule wins; the walker never enters an ignored folder,
 * so (as in git) nothing inside one can be re-included.
 */
import { globSource } from './glob.js';

interface Rule {
  negate: boolean;
  dirOnly: boolean;
  re: RegExp;
}

export interface IgnoreFile {
  /** The folder holding the .gitignore, relative to the search root ('' for the root itself). */
  base: string;
  rules: Rule[];
}

export function parseGitignore(text: string, base: string): IgnoreFile {
  const rules: Rule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw;
    if (line === '' || line.startsWith('#')) continue;
    // Trailing spaces are dropped unless escaped with a backslash.
    line = line.replace(/(?<!\\)\s+$/, '').replace(/\\(\s)$/, '$1');
    if (line === '') continue;
    let negate = false;
    if (line.startsWith('!')) {
      negate = true;
      line = line.slice(1);
    } else if (line.startsWith('\\!') || line.startsWith('\\#')) {
      line = line.slice(1);
    }
    let dirOnly = false;
    if (line.endsWith('/')) {
      dirOnly = true;
      line = line.replace(/\/+$/, '');
    }
    if (line === '') continue;
    const anchored = line.includes('/');
    const pattern = line.replace(/^\//, '');
    const source = globSource(pattern);
    rules.push({ negate, dirOnly, re: new RegExp(anchored ? `^${source}$` : `^(?:.*/)?${source}$`) });
  }
  return { base, rules };
}

/** Whether a path (relative to the search root) is ignored by the given files, outermost first. */
export function isIgnored(files: readonly IgnoreFile[], relPath: string, isDir: boolean): boolean {
  let ignored = false;
  for (const f of files) {
    let rel: string;
    if (f.base === '') rel = relPath;
    else if (relPath.startsWith(`${f.base}/`)) rel = relPath.slice(f.base.length + 1);
    else continue;
    for (const r of f.rules) {
      if (r.dirOnly && !isDir) continue;
      if (r.re.test(rel)) ignored = !r.negate;
    }
  }
  return ignored;
}
