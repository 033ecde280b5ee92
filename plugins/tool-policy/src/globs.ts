/** Name globs: `*` matches any run of characters, everything else is literal. Returns the matching pattern. */
export function compileGlobs(patterns: string[]): (name: string) => string | undefined {
  const compiled = patterns.map((p) => ({ p, re: new RegExp(`^${p.split('*').map(escape).join('.*')}$`) }));
  return (name) => compiled.find((c) => c.re.test(name))?.p;
}

function escape(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}
