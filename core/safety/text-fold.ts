/**
 * The folded copy of a text that the prompt-injection scanner (`text.ts`) matches its phrase rules
 * against, plus the decoders for the two ways Unicode smuggles ASCII past a human reader (tag characters
 * and runs of variation selectors). Folding is NFKC-equivalent (applied per code point as NFKD with
 * combining marks dropped, which is NFKC minus accents; per code point equals whole-text NFKC for the
 * Latin text the rules read, and keeps the index map exact), then: invisible and format characters removed, lowercase,
 * common Cyrillic/Greek look-alikes mapped to Latin, curly quotes and dashes made ASCII, and whitespace
 * runs collapsed to one space, one newline, or a blank line. So `ｉｇｎｏｒｅ`, `ig\u200Bnore`, `іgnоre`
 * (Cyrillic) and `IGNORE` all fold to `ignore`.
 *
 * Every folded code unit remembers the index of the original character it came from (`origin`), so a
 * match in the folded copy points back into the caller's text: exactly for ordinary characters, at the
 * start of the run for decoded variation-selector bytes.
 */

export interface Folded {
  text: string;
  /** origin[i] = index in the original text of the character folded code unit i came from. */
  origin: Int32Array;
}

// Look-alikes that survive NFKD (they are distinct letters, not compatibility forms). Light on purpose:
// enough to defeat "іgnоre" spelled with Cyrillic і/о, not a full UTS #39 skeleton.
const CONFUSABLES: Record<string, string> = {
  а: 'a', в: 'b', е: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  ѕ: 's', і: 'i', ј: 'j', ԁ: 'd', ԛ: 'q', ԝ: 'w', һ: 'h', ӏ: 'l', ɡ: 'g', ɩ: 'i', ʏ: 'y', ı: 'i', ȷ: 'j',
  α: 'a', β: 'b', ε: 'e', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', γ: 'y', ω: 'w',
  '‘': "'", '’': "'", '‛': "'", '′': "'", '“': '"', '”': '"', '„': '"', '″': '"', '«': '"', '»': '"',
  '‐': '-', '‑': '-', '‒': '-', '–': '-', '—': '-', '―': '-', '−': '-',
};

// Dropped entirely: format characters (zero-width, bidi, BOM, soft hyphen, tags), combining marks
// (accents, variation selectors), controls, lone surrogates, and the Hangul fillers that render blank.
const DROP = /^[\p{Cf}\p{M}\p{Cc}\p{Cs}\u115F\u1160\u3164\uFFA0]$/u;
const NEWLINE = /^[\u0085\u2028\u2029]$/u;
const SPACE = /^\p{White_Space}$/u;
const MARKS = /\p{M}/gu;
const MAX_EXPANSION = 4;

const cache = new Map<number, string>();

/** What one non-ASCII code point folds to: '' (dropped), '\n', ' ', or one or more characters. */
function foldCodePoint(cp: number): string {
  const hit = cache.get(cp);
  if (hit !== undefined) return hit;
  const ch = String.fromCodePoint(cp);
  let out: string;
  if (DROP.test(ch)) out = '';
  else if (NEWLINE.test(ch)) out = '\n';
  else if (SPACE.test(ch)) out = ' ';
  else {
    out = '';
    for (const c of ch.normalize('NFKD').replace(MARKS, '').toLowerCase()) out += CONFUSABLES[c] ?? c;
    // A few code points expand a lot (U+FDFA is 18 letters); no rule needs more than "(20)" from one, and an
    // uncapped expansion would let a megabyte of them cost many megabytes of scanning.
    if (out.length > MAX_EXPANSION) out = out.slice(0, MAX_EXPANSION);
  }
  if (cache.size > 50_000) cache.clear();
  cache.set(cp, out);
  return out;
}

export const isTag = (cp: number): boolean => cp >= 0xe0000 && cp <= 0xe007f;
export const isVariationSelector = (cp: number): boolean => (cp >= 0xfe00 && cp <= 0xfe0f) || (cp >= 0xe0100 && cp <= 0xe01ef);

/** Runs of this many variation selectors or more are decoded as smuggled bytes. */
export const VS_SMUGGLE_MIN = 4;

/** The ASCII that a run of tag characters spells (U+E0020–U+E007E map to ' '–'~'). */
export function decodeTags(run: string): string {
  let out = '';
  for (const c of run) {
    const cp = c.codePointAt(0)!;
    if (cp >= 0xe0020 && cp <= 0xe007e) out += String.fromCharCode(cp - 0xe0000);
  }
  return out;
}

/**
 * The bytes a run of variation selectors carries under the "emoji smuggling" scheme (U+FE00–FE0F are
 * bytes 0–15, U+E0100–E01EF bytes 16–255), read as UTF-8.
 */
export function decodeVariationSelectors(run: string): string {
  const bytes: number[] = [];
  for (const c of run) {
    const cp = c.codePointAt(0)!;
    if (cp >= 0xfe00 && cp <= 0xfe0f) bytes.push(cp - 0xfe00);
    else if (cp >= 0xe0100 && cp <= 0xe01ef) bytes.push(cp - 0xe0100 + 16);
  }
  return new TextDecoder('utf-8').decode(Uint8Array.from(bytes));
}

/**
 * True when the tag run text[start, end) is the tail of an emoji subdivision flag such as 🏴 + "gbsct" +
 * CANCEL TAG (Scotland): the one legitimate use of tag characters, which must not be flagged.
 */
export function isFlagTagSequence(text: string, start: number, end: number): boolean {
  if (start < 2 || text.codePointAt(start - 2) !== 0x1f3f4 || text.codePointAt(end - 2) !== 0xe007f) return false;
  const inner = [...text.slice(start, end - 2)].map((c) => c.codePointAt(0)!);
  return inner.length >= 2 && inner.length <= 6 && inner.every((cp) => (cp >= 0xe0030 && cp <= 0xe0039) || (cp >= 0xe0061 && cp <= 0xe007a));
}

/** End (exclusive) of the run of code points satisfying `test` that starts at `i`. */
export function runEnd(text: string, i: number, test: (cp: number) => boolean): number {
  while (i < text.length) {
    const cp = text.codePointAt(i)!;
    if (!test(cp)) break;
    i += cp > 0xffff ? 2 : 1;
  }
  return i;
}

/** The growing folded copy. Whitespace is emitted lazily so runs collapse: 0 none, 1 space, 2 newline, 3 blank line. */
class Out {
  buf: Uint16Array;
  origin: Int32Array;
  n = 0;
  ws = 0;
  wsAt = 0;

  constructor(size: number) {
    this.buf = new Uint16Array(size);
    this.origin = new Int32Array(size);
  }

  private push(code: number, at: number): void {
    if (this.n === this.buf.length) {
      const b = new Uint16Array(this.buf.length * 2); b.set(this.buf); this.buf = b;
      const o = new Int32Array(this.origin.length * 2); o.set(this.origin); this.origin = o;
    }
    this.buf[this.n] = code;
    this.origin[this.n++] = at;
  }

  space(newline: boolean, at: number): void {
    if (this.ws === 0) this.wsAt = at;
    if (newline) this.ws = this.ws >= 2 ? 3 : 2;
    else if (this.ws === 0) this.ws = 1;
  }

  char(code: number, at: number): void {
    if (this.ws > 0 && this.n > 0) {
      if (this.ws === 1) this.push(32, this.wsAt);
      else { this.push(10, this.wsAt); if (this.ws === 3) this.push(10, this.wsAt); }
    }
    this.ws = 0;
    this.push(code, at);
  }

  /** Emits already-folded text; `origins` gives each code unit's source index, or one index for all. */
  string(s: string, origins: number | ArrayLike<number>, base = 0, scale = 1): void {
    for (let k = 0; k < s.length; k++) {
      const at = typeof origins === 'number' ? origins : base + scale * origins[k]!;
      const c = s.charCodeAt(k);
      if (c === 10) this.space(true, at);
      else if (c === 32) this.space(false, at);
      else this.char(c, at);
    }
  }

  text(): string {
    // Chunked so a megabyte of text never hits the engine's argument-count limit.
    const parts: string[] = [];
    for (let k = 0; k < this.n; k += 8192) parts.push(String.fromCharCode.apply(null, this.buf.subarray(k, Math.min(this.n, k + 8192)) as unknown as number[]));
    return parts.join('');
  }
}

/** Longest run of variation selectors decoded for matching; longer runs are flagged anyway. */
const VS_DECODE_MAX = 4096;

/** Builds the folded copy; linear in the length of the text. */
export function foldText(text: string): Folded {
  const out = new Out(text.length + 16);
  for (let i = 0; i < text.length;) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if (c === 10) out.space(true, i);
      else if (c === 32 || c === 9 || c === 13 || c === 11 || c === 12) out.space(false, i);
      else if (c >= 32 && c !== 127) out.char(c >= 65 && c <= 90 ? c + 32 : c, i);
      i++;
      continue;
    }
    const cp = text.codePointAt(i)!;
    const start = i;
    if (isTag(cp)) {
      const end = runEnd(text, i, isTag);
      if (!isFlagTagSequence(text, start, end)) {
        // Each tag character is one surrogate pair, so decoded char k came from start + 2k.
        const inner = foldText(decodeTags(text.slice(start, end)));
        out.space(false, start);
        out.string(inner.text, inner.origin, start, 2);
        out.space(false, end);
      }
      i = end;
    } else if (isVariationSelector(cp)) {
      const end = runEnd(text, i, isVariationSelector);
      if (end - start >= VS_SMUGGLE_MIN) {
        const run = text.slice(start, Math.min(end, start + 2 * VS_DECODE_MAX));
        if ([...run].length >= VS_SMUGGLE_MIN) {
          out.space(false, start);
          out.string(foldText(decodeVariationSelectors(run)).text, start);
          out.space(false, end);
        }
      }
      i = end;
    } else {
      out.string(foldCodePoint(cp), start);
      i += cp > 0xffff ? 2 : 1;
    }
  }
  return { text: out.text(), origin: out.origin.subarray(0, out.n) };
}
