/**
 * read_file: a window of a text file with line numbers (`cat -n` style: the number, a tab, the line),
 * which models can cite and turn into patches. Binary files are named as such rather than dumped; long
 * lines are cut; the output stops at a character budget and says how to read on.
 */
import { defineTool, z } from 'caduceus/sdk';
import { fail, looksBinary, splitLines } from './text.js';

/** Files above this are refused (the host's own read limit is 10 MiB). */
export const MAX_FILE_BYTES = 8 * 1024 * 1024;
const DEFAULT_LIMIT = 2000;
const MAX_LINE_CHARS = 2000;
/** Characters of numbered output per call, about 25k tokens. */
const OUTPUT_BUDGET = 100_000;

const input = z.object({
  path: z.string().min(1).max(4096).describe('File to read, relative to the workspace (or absolute inside it)'),
  offset: z.number().int().min(1).optional().describe('First line to show, 1-based; default 1'),
  limit: z.number().int().min(1).max(10_000).optional().describe(`How many lines to show; default ${DEFAULT_LIMIT}`),
});

const output = z.object({
  path: z.string(),
  content: z.string().describe('The lines, each as "<number>\\t<text>"'),
  startLine: z.number(),
  endLine: z.number(),
  totalLines: z.number(),
  bytes: z.number(),
  truncated: z.boolean(),
  note: z.string().optional(),
});

export const readFile = defineTool({
  name: 'read_file',
  description: 'Reads a text file in the workspace and returns its lines numbered like `cat -n` ("   12\\tcode"). Use offset and limit for a window of a long file; the result says how to continue when it stops early. Binary files are reported, not shown. Line numbers are not part of the file: leave them out of patch old_string.',
  input,
  output,
  toolset: 'files',
  mutating: false,
  idempotent: true,
  timeoutMs: 15_000,
  maxResultBytes: 512 * 1024,
  availability: { permissions: ['fs.read:$WORKSPACE'] },
  handler: async ({ path, offset, limit }, ctx) => {
    const st = await ctx.fs.stat(path);
    if (!st) throw fail('files:not_found', `${path} does not exist. Use search_files with a glob to find the file.`);
    if (st.type === 'dir') throw fail('files:not_a_file', `${path} is a folder. Use search_files with a glob (e.g. "${path.replace(/\/$/, '')}/*") to list it.`);
    if (st.type !== 'file') throw fail('files:not_a_file', `${path} is not a regular file.`);
    if (st.size > MAX_FILE_BYTES) {
      throw fail('files:too_large', `${path} is ${st.size} bytes, over the ${MAX_FILE_BYTES} byte limit of read_file. Use search_files to find the lines you need.`);
    }
    const text = await ctx.fs.read(path);
    if (looksBinary(text)) throw fail('files:binary', `${path} is a binary file (${st.size} bytes); read_file shows text only.`, { bytes: st.size });
    const { lines } = splitLines(text);
    const total = lines.length;
    const start = offset ?? 1;
    if (total === 0) return { path, content: '', startLine: 0, endLine: 0, totalLines: 0, bytes: st.size, truncated: false, note: 'the file is empty' };
    if (start > total) throw fail('files:bad_range', `offset ${start} is past the end of ${path}, which has ${total} lines.`);
    const last = Math.min(total, start - 1 + (limit ?? DEFAULT_LIMIT));
    const width = Math.max(6, String(last).length);
    const out: string[] = [];
    let used = 0;
    let cutLines = 0;
    let end = start - 1;
    for (let n = start; n <= last; n++) {
      let line = lines[n - 1]!;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line.length > MAX_LINE_CHARS) {
        line = `${line.slice(0, MAX_LINE_CHARS)} … [line cut: ${line.length} characters]`;
        cutLines++;
      }
      const numbered = `${String(n).padStart(width)}\t${line}`;
      if (used + numbered.length + 1 > OUTPUT_BUDGET && out.length > 0) break;
      out.push(numbered);
      used += numbered.length + 1;
      end = n;
    }
    const notes: string[] = [];
    const truncated = end < total;
    if (truncated) notes.push(`showing lines ${start}-${end} of ${total}; read on with offset ${end + 1}`);
    if (cutLines) notes.push(`${cutLines} line(s) longer than ${MAX_LINE_CHARS} characters were cut`);
    const result = { path, content: out.join('\n'), startLine: start, endLine: end, totalLines: total, bytes: st.size, truncated };
    return notes.length ? { ...result, note: notes.join('; ') } : result;
  },
});
