/**
 * The two ways `patch` changes a file, as pure functions over its text.
 *
 * Exact replacement: `old_string` must occur exactly once (or `replace_all`); zero or several
 * occurrences are refused with the line numbers, never guessed at. The one allowance: when the file uses
 * CRLF line endings and old_string uses LF, both strings are converted to CRLF first.
 *
 * Unified diff, applied strictly: every context and removed line must equal the file's line (line
 * endings aside). A hunk is applied where its header says; if the lines there differ (the model's line
 * numbers are often off), it is applied where its old lines occur exactly once after the previous hunk;
 * otherwise it is refused. No fuzz: context is never dropped. Header counts are recomputed from the body.
 */
import { fail, lineNumbersAt, splitLines } from './text.js';

export function replaceExact(text: string, oldString: string, newString: string, replaceAll: boolean, path: string): { text: string; count: number } {
  if (oldString === '') throw fail('files:bad_patch', `old_string is empty. To write a whole file use write_file; to insert text, include a neighbouring line in old_string and in new_string.`);
  if (oldString === newString) throw fail('files:bad_patch', 'old_string and new_string are the same; nothing would change.');
  let from = oldString;
  let to = newString;
  let positions = occurrences(text, from);
  if (positions.length === 0 && text.includes('\r\n') && !from.includes('\r\n') && from.includes('\n')) {
    from = from.replace(/\n/g, '\r\n');
    to = to.replace(/\r?\n/g, '\r\n');
    positions = occurrences(text, from);
  }
  if (positions.length === 0) {
    const numbered = /^\s*\d+\t/.test(oldString) ? ' It starts with a line number and a tab: leave out the numbers read_file puts before each line.' : '';
    throw fail('files:no_match', `old_string was not found in ${path}.${numbered} Read the file again (read_file) and copy the text exactly, including indentation and blank lines.`);
  }
  if (positions.length > 1 && !replaceAll) {
    const lines = lineNumbersAt(text, positions);
    throw fail('files:ambiguous',
      `old_string occurs ${positions.length} times in ${path} (at lines ${lines.slice(0, 20).join(', ')}${lines.length > 20 ? ', …' : ''}). Add surrounding lines so it matches exactly one place, or pass replace_all: true to change every occurrence.`,
      { occurrences: positions.length, lines: lines.slice(0, 100) });
  }
  // split/join replaces every non-overlapping occurrence, the same ones `occurrences` counted.
  const out = replaceAll ? text.split(from).join(to) : text.slice(0, positions[0]) + to + text.slice(positions[0]! + from.length);
  return { text: out, count: replaceAll ? positions.length : 1 };
}

/** Start offsets of the non-overlapping occurrences of `needle`, left to right. */
function occurrences(text: string, needle: string): number[] {
  const out: number[] = [];
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + needle.length)) out.push(i);
  return out;
}

interface Hunk {
  header: string;
  oldStart: number;
  /** The header's counts: only used to tell a `--- ` removed line from the next file's header. */
  statedOld: number;
  statedNew: number;
  /** Lines as they are in the old file (context and removed), and in the new one (context and added). */
  oldLines: string[];
  newLines: string[];
  /** `\ No newline at end of file` after an old-side / new-side last line. */
  oldNoEol: boolean;
  newNoEol: boolean;
  added: number;
  removed: number;
}

export function parseUnifiedDiff(diff: string): Hunk[] {
  const lines = diff.replace(/\r\n/g, '\n').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const hunks: Hunk[] = [];
  let files = 0;
  let cur: Hunk | undefined;
  let last: ' ' | '-' | '+' | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const head = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/.exec(line);
    if (head) {
      cur = {
        header: head[0], oldStart: Number(head[1]), statedOld: head[2] === undefined ? 1 : Number(head[2]), statedNew: head[4] === undefined ? 1 : Number(head[4]),
        oldLines: [], newLines: [], oldNoEol: false, newNoEol: false, added: 0, removed: 0,
      };
      hunks.push(cur);
      last = undefined;
      continue;
    }
    // A file header, unless the current hunk still expects lines (then it is a removed "-- …" line).
    const hunkDone = !cur || (cur.oldLines.length >= cur.statedOld && cur.newLines.length >= cur.statedNew);
    if (line.startsWith('--- ') && hunkDone && /^\+\+\+ /.test(lines[i + 1] ?? '')) {
      i++;
      if (++files > 1) throw fail('files:bad_patch', 'the diff changes more than one file; patch one file per call (the path argument names it).');
      cur = undefined;
      continue;
    }
    if (!cur) {
      if (line.startsWith('+++ ') || line.startsWith('diff ') || line.startsWith('index ') || line.trim() === '') continue;
      throw fail('files:bad_patch', `the diff has a line before its first hunk header (@@ -a,b +c,d @@): ${JSON.stringify(line.slice(0, 80))}.`);
    }
    if (line.startsWith('\\')) {
      if (last === '-' || last === ' ') cur.oldNoEol = true;
      if (last === '+' || last === ' ') cur.newNoEol = true;
      continue;
    }
    const tag = line === '' ? ' ' : line[0];
    const body = line === '' ? '' : line.slice(1);
    if (tag === ' ') {
      cur.oldLines.push(body);
      cur.newLines.push(body);
    } else if (tag === '-') {
      cur.oldLines.push(body);
      cur.removed++;
    } else if (tag === '+') {
      cur.newLines.push(body);
      cur.added++;
    } else {
      throw fail('files:bad_patch', `hunk ${cur.header} has a line that starts with neither " ", "-" nor "+": ${JSON.stringify(line.slice(0, 80))}. Prefix context lines with a space.`);
    }
    last = tag as ' ' | '-' | '+';
  }
  if (hunks.length === 0) throw fail('files:bad_patch', 'the diff has no hunk (a line like @@ -12,3 +12,4 @@ followed by the lines). Or use old_string and new_string instead.');
  return hunks;
}

export function applyUnifiedDiff(text: string, diff: string, path: string): { text: string; hunks: number; added: number; removed: number } {
  const hunks = parseUnifiedDiff(diff);
  const crlf = text.includes('\r\n');
  const { lines, finalNewline } = splitLines(text);
  const bare = lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const out: string[] = [];
  let copied = 0;
  let delta = 0;
  let endsWithNewline = finalNewline;
  hunks.forEach((h, n) => {
    const want = h.oldLines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
    // Header line numbers are 1-based; an insertion-only hunk (-a,0) goes after line a.
    const stated = (want.length === 0 ? h.oldStart : h.oldStart - 1) + delta;
    const matchesAt = (at: number) => at >= copied && at + want.length <= bare.length && want.every((l, i) => bare[at + i] === l);
    let at = stated;
    if (!matchesAt(at)) {
      if (want.length === 0) {
        throw fail('files:hunk_failed', `hunk ${n + 1} (${h.header}) inserts after line ${h.oldStart}, which is outside ${path} (${bare.length} lines) or before an earlier hunk. Give it context lines.`);
      }
      const found: number[] = [];
      for (let i = copied; i + want.length <= bare.length; i++) if (matchesAt(i)) found.push(i);
      if (found.length !== 1) {
        const where = stated >= 0 && stated < bare.length ? ` At line ${stated + 1} the file has ${JSON.stringify(bare[stated]!.slice(0, 120))} where the hunk expects ${JSON.stringify((want[0] ?? '').slice(0, 120))}.` : '';
        throw fail(found.length === 0 ? 'files:hunk_failed' : 'files:ambiguous',
          found.length === 0
            ? `hunk ${n + 1} (${h.header}) does not match ${path}: its context and removed lines occur nowhere after the previous hunk.${where} Read the file again and rebuild the diff from its current text; nothing was changed.`
            : `hunk ${n + 1} (${h.header}) does not match ${path} at its stated line, and its lines occur ${found.length} times (at lines ${found.slice(0, 10).map((f) => f + 1).join(', ')}). Add context lines or fix the line numbers; nothing was changed.`,
          { hunk: n + 1 });
      }
      at = found[0]!;
    }
    out.push(...lines.slice(copied, at));
    out.push(...h.newLines.map((l) => (crlf && !l.endsWith('\r') ? `${l}\r` : l)));
    copied = at + want.length;
    delta += h.newLines.length - want.length;
    if (copied === lines.length) {
      if (h.newNoEol) endsWithNewline = false;
      else if (h.oldNoEol) endsWithNewline = true;
    }
  });
  out.push(...lines.slice(copied));
  const added = hunks.reduce((n, h) => n + h.added, 0);
  const removed = hunks.reduce((n, h) => n + h.removed, 0);
  if (out.length === 0) return { text: '', hunks: hunks.length, added, removed };
  // Lines keep their own ending; the last one gets the ending the file should now end with.
  const lastLine = out[out.length - 1]!;
  if (crlf && endsWithNewline && !lastLine.endsWith('\r')) out[out.length - 1] = `${lastLine}\r`;
  if (crlf && !endsWithNewline && lastLine.endsWith('\r')) out[out.length - 1] = lastLine.slice(0, -1);
  return { text: out.join('\n') + (endsWithNewline ? '\n' : ''), hunks: hunks.length, added, removed };
}
