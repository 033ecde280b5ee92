/**
 * search_files: file names by glob, file contents by regular expression, or both (contents of the files
 * the glob selects). Walks the folder through the host's fs syscalls, in name order so results are
 * stable, and skips what git would: `.git`, anything a .gitignore (or .git/info/exclude) ignores, unless
 * `includeIgnored`. Symlinks are not followed. Results, files visited and time are capped; when a cap
 * cuts the search short, the result says so and how to narrow it.
 */
import { defineTool, z, type PluginContext } from 'caduceus/sdk';
import { globMatcher } from './glob.js';
import { isIgnored, parseGitignore, type IgnoreFile } from './gitignore.js';
import { fail, looksBinary } from './text.js';

const MAX_VISITED = 50_000;
/** Content search reads files up to this size; larger ones are counted as skipped. */
const MAX_SEARCH_FILE = 1024 * 1024;
const MAX_MATCH_CHARS = 300;
/** Stop walking after this long, well inside the tool's timeout. */
const TIME_BUDGET_MS = 20_000;
const BINARY_EXT = /\.(png|jpe?g|gif|webp|ico|bmp|tiff?|pdf|zip|gz|tgz|bz2|xz|7z|rar|jar|war|class|o|a|so|dylib|dll|exe|bin|wasm|woff2?|ttf|otf|eot|mp[34]|mov|avi|mkv|webm|ogg|flac|wav|sqlite|db|pyc|node)$/i;

const input = z.object({
  pattern: z.string().min(1).max(1000).optional().describe('Regular expression (JavaScript syntax) to find in file contents, line by line'),
  glob: z.string().min(1).max(500).optional().describe('File name glob: "*.ts" matches names at any depth; with a slash ("src/**/*.test.ts") it matches the path below `path`'),
  path: z.string().min(1).max(4096).optional().describe('Folder (or file) to search, relative to the workspace; default the workspace'),
  ignoreCase: z.boolean().optional().describe('Case-insensitive pattern; default false'),
  maxResults: z.number().int().min(1).max(1000).optional().describe('At most this many matches (or files); default 100'),
  includeIgnored: z.boolean().optional().describe('Also search what .gitignore ignores (never .git itself); default false'),
});

const output = z.object({
  matches: z.array(z.object({ path: z.string(), line: z.number(), text: z.string() })).optional(),
  files: z.array(z.string()).optional(),
  filesSearched: z.number(),
  truncated: z.boolean(),
  note: z.string().optional(),
});

interface Walk {
  ctx: PluginContext;
  includeIgnored: boolean;
  visited: number;
  deadline: number;
  stop: string | undefined;
}

/**
 * Every file below the folder `prefix` (workspace-relative, '' for the workspace, or absolute), depth
 * first in name order, as paths of the same kind.
 */
async function* walk(w: Walk, prefix: string, ignores: IgnoreFile[]): AsyncGenerator<string> {
  if (w.stop) return;
  const entries = await w.ctx.fs.list(prefix === '' ? '.' : prefix);
  let here = ignores;
  if (!w.includeIgnored && entries.some((e) => e.name === '.gitignore' && e.type === 'file')) {
    here = [...ignores, parseGitignore(await w.ctx.fs.read(prefix === '' ? '.gitignore' : `${prefix}/.gitignore`), prefix)];
  }
  for (const e of entries) {
    if (++w.visited > MAX_VISITED) w.stop = `visited ${MAX_VISITED} entries`;
    else if (w.ctx.clock.now() > w.deadline) w.stop = `ran for ${TIME_BUDGET_MS / 1000} s`;
    if (w.stop) return;
    if (e.type === 'other') continue;
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
    if (e.type === 'dir' && e.name === '.git') continue;
    if (!w.includeIgnored && isIgnored(here, rel, e.type === 'dir')) continue;
    if (e.type === 'dir') yield* walk(w, rel, here);
    else yield rel;
  }
}

/** A searched path as the walk spells it: workspace-relative without `./` or a trailing slash ('' = workspace). */
function normalise(path: string): string {
  const p = path.replace(/\/+$/, '').replace(/^(\.\/)+/, '');
  return p === '.' ? '' : p;
}

/**
 * The ignore files that apply above the searched folder: .git/info/exclude and the .gitignore of every
 * folder from the workspace down to it. Only for a relative path inside the workspace; an absolute one
 * has no ancestors the plugin can name.
 */
async function outerIgnores(ctx: PluginContext, root: string): Promise<IgnoreFile[]> {
  const out: IgnoreFile[] = [];
  if (root.startsWith('/') || root.split('/').includes('..')) return out;
  const readIf = async (p: string) => ((await ctx.fs.stat(p))?.type === 'file' ? ctx.fs.read(p) : null);
  const exclude = await readIf('.git/info/exclude');
  if (exclude !== null) out.push(parseGitignore(exclude, ''));
  const parts = root === '' ? [] : root.split('/');
  for (let i = 0; i < parts.length; i++) {
    const folder = parts.slice(0, i).join('/');
    const text = await readIf(folder === '' ? '.gitignore' : `${folder}/.gitignore`);
    if (text !== null) out.push(parseGitignore(text, folder));
  }
  return out;
}

export const searchFiles = defineTool({
  name: 'search_files',
  description: 'Searches the workspace: file contents by regular expression (pattern), file names by glob, or both (pattern inside the files the glob selects). Skips .git and whatever .gitignore ignores unless includeIgnored. Returns matches as {path, line, text}, or file paths for a glob alone, capped at maxResults with a note when cut.',
  input,
  output,
  toolset: 'files',
  mutating: false,
  idempotent: true,
  timeoutMs: 60_000,
  maxResultBytes: 512 * 1024,
  availability: { permissions: ['fs.read:$WORKSPACE'] },
  handler: async (args, ctx) => {
    if (!args.pattern && !args.glob) throw fail('files:bad_search', 'give pattern (a regular expression to find in contents), glob (file names), or both.');
    let re: RegExp | undefined;
    if (args.pattern) {
      try {
        re = new RegExp(args.pattern, args.ignoreCase ? 'i' : '');
      } catch (err) {
        throw fail('files:bad_search', `pattern is not a valid JavaScript regular expression: ${(err as Error).message}. Escape special characters such as ( [ . * with a backslash for a literal match.`);
      }
    }
    const matchName = args.glob ? globMatcher(args.glob) : () => true;
    const max = args.maxResults ?? 100;
    const root = normalise(args.path ?? '.');
    const st = await ctx.fs.stat(root === '' ? '.' : root);
    if (!st) throw fail('files:not_found', `${args.path} does not exist.`);
    const w: Walk = { ctx, includeIgnored: args.includeIgnored === true, visited: 0, deadline: ctx.clock.now() + TIME_BUDGET_MS, stop: undefined };
    const files: string[] = [];
    const matches: { path: string; line: number; text: string }[] = [];
    let searched = 0;
    let large = 0;
    let binary = 0;
    let full = false;
    const candidates = st.type === 'dir'
      ? walk(w, root, w.includeIgnored ? [] : await outerIgnores(ctx, root))
      : (async function* one() { yield root; })();
    // A glob with a slash matches the path below the searched folder.
    const below = (path: string) => (st.type !== 'dir' ? path.slice(path.lastIndexOf('/') + 1) : root === '' ? path : path.slice(root.length + 1));
    for await (const path of candidates) {
      if (!matchName(below(path))) continue;
      if (!re) {
        if (files.length >= max) { full = true; break; }
        files.push(path);
        continue;
      }
      if (BINARY_EXT.test(path)) { binary++; continue; }
      const info = await ctx.fs.stat(path);
      if (!info || info.type !== 'file') continue;
      if (info.size > MAX_SEARCH_FILE) { large++; continue; }
      const text = await ctx.fs.read(path);
      if (looksBinary(text)) { binary++; continue; }
      searched++;
      const lines = text.split('\n');
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i]!;
        if (!re.test(line)) continue;
        if (matches.length >= max) { full = true; break; }
        const clean = line.endsWith('\r') ? line.slice(0, -1) : line;
        matches.push({ path, line: i + 1, text: clean.length > MAX_MATCH_CHARS ? `${clean.slice(0, MAX_MATCH_CHARS)}…` : clean });
      }
      if (full || ctx.clock.now() > w.deadline) {
        if (!full) w.stop = `ran for ${TIME_BUDGET_MS / 1000} s`;
        break;
      }
    }
    const notes: string[] = [];
    if (full) notes.push(`stopped at maxResults (${max}); narrow the pattern, glob or path, or raise maxResults (up to 1000)`);
    if (w.stop) notes.push(`the search stopped early (${w.stop}); results are incomplete, search a narrower path`);
    if (large) notes.push(`${large} file(s) over ${MAX_SEARCH_FILE} bytes were not searched`);
    if (binary) notes.push(`${binary} binary file(s) were skipped`);
    const result = re
      ? { matches, filesSearched: searched, truncated: full || w.stop !== undefined }
      : { files, filesSearched: files.length, truncated: full || w.stop !== undefined };
    return notes.length ? { ...result, note: notes.join('; ') } : result;
  },
});
