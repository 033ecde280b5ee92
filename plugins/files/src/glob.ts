/**
 * Glob patterns as regular expressions over `/`-separated relative paths, as search_files and
 * .gitignore use them: `*` and `?` stay within one path segment, `**` spans segments (`a/**` is
 * everything under a, `**` + `/b` is b at any depth), `[abc]` / `[!abc]` are character classes and
 * `{x,y}` alternatives (nestable).
 */

/** The regular expression source (unanchored) for a glob. */
export function globSource(glob: string): string {
  let out = '';
  let i = 0;
  let braces = 0;
  while (i < glob.length) {
    const ch = glob[i]!;
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        const atStart = i === 0 || glob[i - 1] === '/';
        const slashAfter = glob[i + 2] === '/';
        const atEnd = i + 2 === glob.length;
        if (atStart && slashAfter) {
          out += '(?:[^/]+/)*';
          i += 3;
          continue;
        }
        if (atStart && atEnd) {
          out += '.*';
          i += 2;
          continue;
        }
        out += '[^/]*';
        i += 2;
        continue;
      }
      out += '[^/]*';
      i++;
    } else if (ch === '?') {
      out += '[^/]';
      i++;
    } else if (ch === '[') {
      const close = findClassEnd(glob, i);
      if (close === -1) {
        out += '\\[';
        i++;
        continue;
      }
      let body = glob.slice(i + 1, close);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      body = body.replace(/\\/g, '\\\\').replace(/\]/g, '\\]').replace(/\[/g, '\\[');
      out += negate ? `[^/${body}]` : `[${body}]`;
      i = close + 1;
    } else if (ch === '{' && hasClosingBrace(glob, i)) {
      out += '(?:';
      braces++;
      i++;
    } else if (ch === '}' && braces > 0) {
      out += ')';
      braces--;
      i++;
    } else if (ch === ',' && braces > 0) {
      out += '|';
      i++;
    } else if (ch === '\\' && i + 1 < glob.length) {
      out += escapeRegex(glob[i + 1]!);
      i += 2;
    } else {
      out += escapeRegex(ch);
      i++;
    }
  }
  return out;
}

function findClassEnd(glob: string, open: number): number {
  let j = open + 1;
  if (glob[j] === '!' || glob[j] === '^') j++;
  if (glob[j] === ']') j++;
  while (j < glob.length && glob[j] !== ']') j++;
  return j < glob.length ? j : -1;
}

function hasClosingBrace(glob: string, open: number): boolean {
  let depth = 0;
  for (let j = open; j < glob.length; j++) {
    if (glob[j] === '{') depth++;
    else if (glob[j] === '}' && --depth === 0) return true;
  }
  return false;
}

function escapeRegex(ch: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(ch) ? `\\${ch}` : ch;
}

/**
 * A matcher for search_files' `glob`: a glob without `/` matches the file name at any depth
 * (`*.ts`), one with `/` matches the path relative to the searched folder (`src/**` + `/*.test.ts`).
 */
export function globMatcher(glob: string): (relPath: string) => boolean {
  const trimmed = glob.replace(/^\.\//, '');
  if (!trimmed.includes('/')) {
    const re = new RegExp(`^${globSource(trimmed)}$`);
    return (p) => re.test(p.slice(p.lastIndexOf('/') + 1));
  }
  const re = new RegExp(`^${globSource(trimmed.replace(/^\//, ''))}$`);
  return (p) => re.test(p);
}
