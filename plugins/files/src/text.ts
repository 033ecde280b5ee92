/**
 * Text helpers shared by the files tools: telling binary from text (the host hands files over as UTF-8,
 * so a binary file shows up as NULs and replacement characters), splitting lines, and a content hash
 * the undo uses to notice that a file changed after the write it would roll back.
 */

/** A file is binary when its start holds a NUL, or when many of its bytes were not valid UTF-8. */
export function looksBinary(text: string): boolean {
  const head = text.length > 8192 ? text.slice(0, 8192) : text;
  if (head.includes('\u0000')) return true;
  let bad = 0;
  for (let i = 0; i < head.length; i++) if (head.charCodeAt(i) === 0xfffd) bad++;
  return bad > 8 && bad / head.length > 0.05;
}

/** Lines without their terminators, and whether the text ended with a newline. */
export function splitLines(text: string): { lines: string[]; finalNewline: boolean } {
  if (text === '') return { lines: [], finalNewline: false };
  const lines = text.split('\n');
  const finalNewline = lines[lines.length - 1] === '';
  if (finalNewline) lines.pop();
  return { lines, finalNewline };
}

/** The line numbers (1-based) at which each of the given character offsets falls. */
export function lineNumbersAt(text: string, offsets: number[]): number[] {
  const out: number[] = [];
  let line = 1;
  let pos = 0;
  for (const target of [...offsets].sort((a, b) => a - b)) {
    while (pos < target) {
      const nl = text.indexOf('\n', pos);
      if (nl === -1 || nl >= target) break;
      line++;
      pos = nl + 1;
    }
    out.push(line);
  }
  return out;
}

/**
 * A 53-bit content fingerprint (two multiply-xorshift lanes over UTF-16 code units), written as hex and
 * prefixed with the length. Not cryptographic: it only has to notice that a file was edited since.
 */
export function fingerprint(text: string): string {
  let a = 0x811c9dc5 ^ text.length;
  let b = 0x2545f491 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x9e3779b1);
    b = Math.imul(b ^ c, 0x85ebca77);
  }
  a = Math.imul(a ^ (a >>> 16), 0x7feb352d) ^ Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  b = Math.imul(b ^ (b >>> 16), 0x846ca68b) ^ Math.imul(a ^ (a >>> 13), 0x27d4eb2f);
  const hi = (b >>> 0) & 0x1fffff;
  return `${text.length}:${(hi * 0x100000000 + (a >>> 0)).toString(16)}`;
}

/** An Error with a `code` the caller (and the model) can match on, and optional plain-data details. */
export function fail(code: string, message: string, details?: Record<string, unknown>): Error {
  const err = new Error(message) as Error & { code: string; details?: Record<string, unknown> };
  err.code = code;
  if (details) err.details = details;
  return err;
}
