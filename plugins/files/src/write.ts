/**
 * write_file and patch. Both go through `change`: read what is there, compute the new text, record a
 * checkpoint of the old state, then write through the host's atomic `fs.write` (a temp file renamed over
 * the target). A write that changes nothing records nothing. Binary files are never rewritten: the host
 * hands them over as lossy UTF-8, so writing them back would corrupt them.
 */
import { defineTool, z, type PluginContext, type ToolCallContext } from 'caduceus/sdk';
import { drop, record, serial } from './checkpoints.js';
import { applyUnifiedDiff, replaceExact } from './patch.js';
import { MAX_FILE_BYTES } from './read.js';
import { fail, looksBinary } from './text.js';

async function change(
  ctx: PluginContext, call: ToolCallContext, tool: string, path: string,
  compute: (previous: string | null) => string,
): Promise<{ previous: string | null; next: string; checkpoint: number | null; bytes: number }> {
  return serial(async () => {
    const st = await ctx.fs.stat(path);
    if (st && st.type !== 'file') throw fail('files:not_a_file', `${path} is ${st.type === 'dir' ? 'a folder' : 'not a regular file'}; ${tool} changes files only.`);
    if (st && st.size > MAX_FILE_BYTES) throw fail('files:too_large', `${path} is ${st.size} bytes, over the ${MAX_FILE_BYTES} byte limit for changing a file (its old content could not be kept for undo).`);
    const previous = st ? await ctx.fs.read(path) : null;
    if (previous !== null && looksBinary(previous)) throw fail('files:binary', `${path} is a binary file; ${tool} changes text files only.`);
    const next = compute(previous);
    if (next === previous) return { previous, next, checkpoint: null, bytes: st!.size };
    const real = await ctx.fs.realpath(path);
    const cp = await record(ctx, { path: real, asGiven: path, previous, next, tool, sessionId: call.sessionId });
    try {
      const { bytes } = await ctx.fs.write(path, next);
      return { previous, next, checkpoint: cp.seq, bytes };
    } catch (err) {
      await drop(ctx, cp);
      throw err;
    }
  });
}

function countLines(s: string): number {
  if (s === '') return 0;
  let n = 1;
  for (let i = s.indexOf('\n'); i !== -1 && i < s.length - 1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

export const writeFile = defineTool({
  name: 'write_file',
  description: 'Creates a file or replaces its whole content (folders are created as needed). Prefer patch for changing part of an existing file. The old content is kept as a checkpoint, so the operator can roll the write back with `caduceus files undo`.',
  input: z.object({
    path: z.string().min(1).max(4096).describe('File to write, relative to the workspace'),
    content: z.string().max(MAX_FILE_BYTES).describe('The complete new content'),
  }),
  output: z.object({ path: z.string(), bytes: z.number(), created: z.boolean(), unchanged: z.boolean(), checkpoint: z.number().nullable() }),
  toolset: 'files',
  mutating: true,
  idempotent: true,
  timeoutMs: 30_000,
  maxResultBytes: 4096,
  availability: { permissions: ['fs.write:$WORKSPACE'] },
  handler: async ({ path, content }, ctx, call) => {
    const r = await change(ctx, call, 'write_file', path, () => content);
    return { path, bytes: r.bytes, created: r.previous === null, unchanged: r.checkpoint === null, checkpoint: r.checkpoint };
  },
});

export const patch = defineTool({
  name: 'patch',
  description: 'Changes part of an existing text file. Either give old_string (copied exactly from the file, with enough surrounding lines to occur exactly once; without read_file line numbers) and new_string, or give diff, a unified diff of this one file (@@ -a,b +c,d @@ hunks). Nothing is guessed: if old_string occurs 0 or several times (without replace_all), or a hunk does not match, the file is left unchanged and the error says why. The old content is kept for `caduceus files undo`.',
  input: z.object({
    path: z.string().min(1).max(4096).describe('File to change, relative to the workspace'),
    old_string: z.string().optional().describe('Exact text to replace'),
    new_string: z.string().optional().describe('Text to put in its place'),
    replace_all: z.boolean().optional().describe('Replace every occurrence of old_string; default false (it must occur exactly once)'),
    diff: z.string().optional().describe('A unified diff of this file, instead of old_string/new_string'),
  }),
  output: z.object({ path: z.string(), mode: z.enum(['replace', 'diff']), replacements: z.number(), linesAdded: z.number(), linesRemoved: z.number(), bytes: z.number(), checkpoint: z.number().nullable() }),
  toolset: 'files',
  mutating: true,
  idempotent: false,
  timeoutMs: 30_000,
  maxResultBytes: 4096,
  availability: { permissions: ['fs.write:$WORKSPACE'] },
  handler: async (args, ctx, call) => {
    const { path, old_string: oldString, new_string: newString, diff } = args;
    const exact = oldString !== undefined || newString !== undefined;
    if (exact === (diff !== undefined)) {
      throw fail('files:bad_patch', exact ? 'give either old_string/new_string or diff, not both.' : 'give old_string and new_string (exact replacement) or diff (a unified diff).');
    }
    if (exact && (oldString === undefined || newString === undefined)) throw fail('files:bad_patch', `${oldString === undefined ? 'old_string' : 'new_string'} is missing; exact replacement needs both (new_string may be "" to delete).`);
    let replacements = 0;
    let added = 0;
    let removed = 0;
    const r = await change(ctx, call, 'patch', path, (previous) => {
      if (previous === null) throw fail('files:not_found', `${path} does not exist. Create it with write_file.`);
      if (exact) {
        const out = replaceExact(previous, oldString!, newString!, args.replace_all === true, path);
        replacements = out.count;
        added = countLines(newString!) * out.count;
        removed = countLines(oldString!) * out.count;
        return out.text;
      }
      const out = applyUnifiedDiff(previous, diff!, path);
      replacements = out.hunks;
      added = out.added;
      removed = out.removed;
      return out.text;
    });
    return { path, mode: exact ? 'replace' as const : 'diff' as const, replacements, linesAdded: added, linesRemoved: removed, bytes: r.bytes, checkpoint: r.checkpoint };
  },
});
