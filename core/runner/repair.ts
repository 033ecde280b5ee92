/**
 * Tool-call argument repair at the provider boundary. Models emit arguments as JSON text, and it is not
 * always JSON: cut off at max_tokens, wrapped in a code fence, followed by chatter, with a trailing
 * comma, or empty. `repairArguments` returns the parsed object and, when it had to change the text,
 * what it did, so the runner can audit the repair. What cannot be repaired is reported, never guessed.
 */

export type Repair = 'empty' | 'code-fence' | 'trailing-text' | 'trailing-comma' | 'truncated' | 'single-quotes';

export type RepairResult =
  | { ok: true; value: Record<string, unknown>; repairs: Repair[] }
  | { ok: false; reason: string };

export function repairArguments(raw: string): RepairResult {
  const repairs: Repair[] = [];
  let text = raw.trim();
  if (text === '') return { ok: true, value: {}, repairs: ['empty'] };
  const direct = tryObject(text);
  if (direct) return { ok: true, value: direct, repairs };
  const fence = /^```[a-zA-Z]*\s*([\s\S]*?)\s*(```)?$/.exec(text);
  if (fence) {
    text = fence[1]!.trim();
    repairs.push('code-fence');
    const v = tryObject(text);
    if (v) return { ok: true, value: v, repairs };
  }
  const start = text.indexOf('{');
  if (start < 0) return { ok: false, reason: 'the arguments contain no JSON object' };
  if (start > 0) {
    text = text.slice(start);
    repairs.push('trailing-text');
    const v = tryObject(text);
    if (v) return { ok: true, value: v, repairs };
  }
  const scanned = scan(text);
  if (scanned.end !== undefined && scanned.end < text.length) {
    text = text.slice(0, scanned.end);
    if (!repairs.includes('trailing-text')) repairs.push('trailing-text');
    const v = tryObject(text);
    if (v) return { ok: true, value: v, repairs };
  }
  const noCommas = text.replace(/,(\s*[}\]])/g, '$1');
  if (noCommas !== text) {
    text = noCommas;
    repairs.push('trailing-comma');
    const v = tryObject(text);
    if (v) return { ok: true, value: v, repairs };
  }
  if (scanned.end === undefined) {
    const closed = close(text);
    if (closed !== undefined) {
      const v = tryObject(closed.replace(/,(\s*[}\]])/g, '$1'));
      if (v) return { ok: true, value: v, repairs: [...repairs, 'truncated'] };
    }
  }
  if (/^\{\s*'/.test(text)) {
    const v = tryObject(text.replace(/'([^'\\]*)'/g, (_m, s: string) => JSON.stringify(s)));
    if (v) return { ok: true, value: v, repairs: [...repairs, 'single-quotes'] };
  }
  return { ok: false, reason: `the arguments are not a JSON object and could not be repaired: ${JSON.stringify(raw.slice(0, 120))}` };
}

function tryObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One pass over JSON text, strings and escapes respected: where the first top-level value ends
 * (exclusive; undefined when the text ends first), the closers still owed, whether it ends inside a
 * string, and whether the brackets matched as far as they went.
 */
function scan(text: string): { end: number | undefined; owed: string[]; inString: boolean; matched: boolean } {
  const owed: string[] = [];
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{') owed.push('}');
    else if (ch === '[') owed.push(']');
    else if (ch === '}' || ch === ']') {
      if (owed.pop() !== ch) return { end: undefined, owed, inString, matched: false };
      if (owed.length === 0) return { end: i + 1, owed, inString, matched: true };
    }
  }
  return { end: undefined, owed, inString, matched: true };
}

/** Closes an unterminated string and every open bracket of truncated JSON. */
function close(text: string): string | undefined {
  const { owed, inString, matched } = scan(text);
  if (!matched) return undefined;
  let out = text;
  if (inString) out += '"';
  // A dangling key or colon cannot be completed sensibly: drop it.
  out = out.replace(/,\s*"[^"]*"\s*:?\s*$/, '').replace(/\{\s*"[^"]*"\s*:?\s*$/, '{').replace(/[,:]\s*$/, '');
  return out + owed.reverse().join('');
}
