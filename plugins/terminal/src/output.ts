/**
 * Command output as a model should get it: bounded, keeping the start and the end (errors and summaries
 * are usually at the end), with what was cut said in the text itself.
 */

/** Cuts the middle out of text longer than max characters; `cut` is how many characters went. */
export function headTail(text: string, max: number): { text: string; cut: number } {
  if (text.length <= max) return { text, cut: 0 };
  const head = Math.floor(max * 0.4);
  const tail = max - head;
  const cut = text.length - head - tail;
  return { text: `${text.slice(0, head)}\n… [${cut} characters cut from the middle] …\n${text.slice(text.length - tail)}`, cut };
}

/** Keeps the end of text longer than max characters (for output read in pieces, where the start was seen). */
export function tail(text: string, max: number): { text: string; cut: number } {
  if (text.length <= max) return { text, cut: 0 };
  const cut = text.length - max;
  return { text: `… [${cut} earlier characters cut] …\n${text.slice(cut)}`, cut };
}

export function maxChars(config: Readonly<Record<string, unknown>>): number {
  const v = config.maxOutputChars;
  return typeof v === 'number' && Number.isFinite(v) && v >= 1000 ? Math.floor(v) : 50_000;
}
