/**
 * The character-level half of the prompt-injection scanner: invisible characters, bidi controls, tag
 * characters and variation-selector runs, found in the original text (not the folded copy) so their
 * indexes are exact. Also renders excerpts with invisible characters spelled `\u{XXXX}`, so a finding
 * shows a reviewer what their editor hides.
 *
 * Legitimate uses stay quiet: a BOM at index 0, ZWJ between emoji (👨‍👩‍👧), ZWJ/ZWNJ next to letters of
 * scripts that need them (Arabic, Persian, Indic), ZWSP next to scripts that use it as a line-break hint
 * (Thai, Khmer, CJK), one or two variation selectors after a character (❤️, 葛󠄀, a doubled VS16), and the
 * tag characters of an emoji subdivision flag (🏴󠁧󠁢󠁳󠁣󠁴󠁿). Arabic and Hebrew letters are not bidi *controls* and
 * are never flagged.
 */
import { VS_SMUGGLE_MIN, decodeTags, decodeVariationSelectors, isFlagTagSequence } from './text-fold.js';

export interface UnicodeHit {
  rule: 'unicode.invisible' | 'unicode.bidi' | 'unicode.tags' | 'unicode.variation-selectors' | 'hidden.zero-width-text';
  severity: 'caution' | 'dangerous';
  index: number;
  excerpt: string;
}

/** A run of this many invisible characters is a hidden message (binary steganography), not an accident. */
const ZW_BLOCK_MIN = 8;
const PER_KIND_CAP = 200;

const UNICODE = /([\u200B-\u200D\u2060-\u2064\uFEFF\u180E\u3164\uFFA0]+)|([\u202A-\u202E\u2066-\u2069]+)|([\u{E0000}-\u{E007F}]+)|([\uFE00-\uFE0F\u{E0100}-\u{E01EF}]{3,})/gu;
const EMOJI_BEFORE = /^[\p{Extended_Pictographic}\p{Emoji_Modifier}\uFE0F\u20E3]$/u;
const EMOJI_AFTER = /^\p{Extended_Pictographic}$/u;
// Scripts whose orthography needs ZWJ/ZWNJ (Persian "می‌خواهم", Devanagari half forms "क्‍ष").
const JOINING_SCRIPT = /^[\p{Script=Arabic}\p{Script=Syriac}\p{Script=Nko}\p{Script=Thaana}\p{Script=Mongolian}\p{Script=Devanagari}\p{Script=Bengali}\p{Script=Gurmukhi}\p{Script=Gujarati}\p{Script=Oriya}\p{Script=Tamil}\p{Script=Telugu}\p{Script=Kannada}\p{Script=Malayalam}\p{Script=Sinhala}\p{M}]$/u;
// Scripts written without spaces, where ZWSP marks word boundaries for line breaking.
const ZWSP_SCRIPT = /^[\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}\p{Script=Tibetan}\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]$/u;

function prevChar(text: string, i: number): string {
  if (i <= 0) return '';
  const lo = text.charCodeAt(i - 1);
  return lo >= 0xdc00 && lo <= 0xdfff && i >= 2 ? text.slice(i - 2, i) : text.slice(i - 1, i);
}
function nextChar(text: string, i: number): string {
  const cp = text.codePointAt(i);
  return cp === undefined ? '' : String.fromCodePoint(cp);
}

/** A single zero-width character that its neighbours explain. */
function explained(text: string, i: number, cp: number): boolean {
  const before = prevChar(text, i);
  const after = nextChar(text, i + 1);
  if (cp === 0xfeff) return i === 0;
  if (cp === 0x200d && EMOJI_BEFORE.test(before) && EMOJI_AFTER.test(after)) return true;
  if ((cp === 0x200d || cp === 0x200c) && (JOINING_SCRIPT.test(before) || JOINING_SCRIPT.test(after))) return true;
  if (cp === 0x200b && (ZWSP_SCRIPT.test(before) || ZWSP_SCRIPT.test(after))) return true;
  return false;
}

/** Finds invisible, bidi, tag and variation-selector abuse; one hit per run of characters. */
export function scanUnicode(text: string): UnicodeHit[] {
  const hits: UnicodeHit[] = [];
  const counts = new Map<string, number>();
  const add = (hit: UnicodeHit): void => {
    const c = counts.get(hit.rule) ?? 0;
    if (c >= PER_KIND_CAP) return;
    counts.set(hit.rule, c + 1);
    hits.push(hit);
  };
  UNICODE.lastIndex = 0;
  for (let m = UNICODE.exec(text); m; m = UNICODE.exec(text)) {
    const [run] = m;
    const start = m.index;
    const end = start + run.length;
    if (m[1] !== undefined) {
      const length = codePoints(run);
      if (length >= ZW_BLOCK_MIN) add({ rule: 'hidden.zero-width-text', severity: 'dangerous', index: start, excerpt: excerptAt(text, start) });
      else if (length > 1 || !explained(text, start, run.codePointAt(0)!)) {
        // A leading BOM followed by more invisibles: report from the first one that is not the BOM.
        const at = start === 0 && run.charCodeAt(0) === 0xfeff && length > 1 ? 1 : start;
        add({ rule: 'unicode.invisible', severity: 'caution', index: at, excerpt: excerptAt(text, at) });
      }
    } else if (m[2] !== undefined) {
      add({ rule: 'unicode.bidi', severity: 'dangerous', index: start, excerpt: excerptAt(text, start) });
    } else if (m[3] !== undefined) {
      if (!isFlagTagSequence(text, start, end)) add({ rule: 'unicode.tags', severity: 'dangerous', index: start, excerpt: decodedExcerpt('tag characters spell', decodeTags(run.slice(0, 400))) });
    } else {
      const length = codePoints(run);
      const decoded = length >= VS_SMUGGLE_MIN ? decodeVariationSelectors(run.slice(0, 400)) : '';
      add({
        rule: 'unicode.variation-selectors', severity: length >= VS_SMUGGLE_MIN ? 'dangerous' : 'caution', index: start,
        excerpt: decoded ? decodedExcerpt('variation selectors encode', decoded) : excerptAt(text, start),
      });
    }
  }
  return hits;
}

function codePoints(run: string): number {
  let n = 0;
  for (let i = 0; i < run.length; i++) { const c = run.charCodeAt(i); if (c < 0xdc00 || c > 0xdfff) n++; }
  return n;
}

const INVISIBLE = /^[\p{Cf}\p{Cc}\p{Cs}\p{Zl}\p{Zp}\uFE00-\uFE0F\u{E0100}-\u{E01EF}\u115F\u1160\u3164\uFFA0\u034F]$/u;
const BLANK = /^\s$/u;
const MAX_EXCERPT = 80;

function escape(ch: string): string {
  return `\\u{${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}}`;
}

/**
 * Up to 80 characters of `text` from `index`: whitespace runs shown as one space, invisible characters as
 * `\u{XXXX}`, a trailing … when cut.
 */
export function excerptAt(text: string, index: number, max = MAX_EXCERPT): string {
  let i = Math.max(0, Math.min(index, text.length));
  const lo = text.charCodeAt(i);
  if (i > 0 && lo >= 0xdc00 && lo <= 0xdfff) i--; // never start inside a surrogate pair
  return render(text, i, max);
}

function render(text: string, from: number, max: number): string {
  let out = '';
  let blank = false;
  for (let i = from; i < text.length;) {
    const cp = text.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    i += ch.length;
    let piece: string;
    if (ch !== '\n' && ch !== '\t' && INVISIBLE.test(ch)) piece = escape(ch);
    else if (BLANK.test(ch)) { if (blank) continue; piece = ' '; }
    else piece = ch;
    blank = piece === ' ';
    if (out.length + piece.length > max - 1 && i < text.length) return `${out}…`;
    if (out.length + piece.length > max) return `${out}…`;
    out += piece;
  }
  return out;
}

function decodedExcerpt(label: string, decoded: string): string {
  return render(`${label} "${decoded}"`, 0, MAX_EXCERPT);
}
