/**
 * The hidden-content half of the prompt-injection scanner (`text.ts`): places a rendered document hides
 * from its human reader but a model still reads. HTML comments, Markdown comment idioms and elements
 * hidden by style or the `hidden` attribute are judged by what they hold: any injection or exfiltration
 * phrase inside makes them dangerous; a long note addressed to an AI makes them caution; ordinary
 * comments (TODOs, lint pragmas, licence headers) pass. Reads the folded copy.
 */
import type { Hit, Severity } from './text.js';

/** Hits kept per rule; the verdict needs one, a reviewer a handful. */
const PER_RULE_CAP = 200;

// Text in a hidden place that addresses a model or carries instructions.
const AI_CUE = /\b(?:you|your)\s+(?:must|should|shall|will|need\s+to|have\s+to|are\s+(?:now|to|an?))\b|\b(?:ai|assistant|llm|chatbot|copilot|claude|chatgpt|gpt|gemini|ai\s+agents?|coding\s+agents?)\b|\b(?:instructions?|ignore|secretly|covertly|pretend)\b|\b(?:do\s+not|don't|never)\s+(?:tell|mention|reveal|show|inform)\b/;
const HIDDEN_NOTE_MIN = 40;

/**
 * Severity of a hidden container: dangerous if any injection or exfiltration phrasing sits inside (even the
 * caution kinds: "do not tell the user" hidden from the user is not a style guide), caution if it is long and
 * addresses a model, otherwise nothing.
 */
function containerSeverity(body: string, bodyStart: number, bodyEnd: number, phrases: Hit[]): Severity | undefined {
  if (phrases.some((h) => h.start >= bodyStart && h.start < bodyEnd)) return 'dangerous';
  return body.trim().length >= HIDDEN_NOTE_MIN && AI_CUE.test(body) ? 'caution' : undefined;
}

export function scanComments(s: string, phrases: Hit[], hits: Hit[]): void {
  let count = 0;
  for (let open = s.indexOf('<!--'); open >= 0 && count < PER_RULE_CAP; open = s.indexOf('<!--', open + 4)) {
    // '<!--' right after a quote, bracket or backslash is a string in code (a lexer, a template), not markup.
    if (open > 0 && /["'`(\\=[]/.test(s[open - 1]!)) continue;
    const close = s.indexOf('-->', open + 4);
    const end = close < 0 ? s.length : close; // unterminated: hides the rest of the document
    const severity = containerSeverity(s.slice(open + 4, end), open + 4, end, phrases);
    if (severity) { hits.push({ rule: 'hidden.html-comment', severity, start: open, end }); count++; }
    if (close < 0) return;
    open = close - 1;
  }
}

const MD_COMMENT = /(?:^|\n) {0,3}\[[^\]\n]{1,40}\]:[ ]*(?:#|<>|<#>)[ ]+(?:\(([^)\n]{0,2000})\)|"([^"\n]{0,2000})"|'([^'\n]{0,2000})')/g;

export function scanMarkdownComments(s: string, phrases: Hit[], hits: Hit[]): void {
  MD_COMMENT.lastIndex = 0;
  for (let m = MD_COMMENT.exec(s); m; m = MD_COMMENT.exec(s)) {
    const start = m.index + (m[0].startsWith('\n') ? 1 : 0);
    const body = m[1] ?? m[2] ?? m[3] ?? '';
    const severity = containerSeverity(body, start, m.index + m[0].length, phrases);
    if (severity) hits.push({ rule: 'hidden.markdown-comment', severity, start, end: m.index + m[0].length });
  }
}

const HIDDEN_BODY_MAX = 4000;
const VOID_ELEMENTS = new Set(['img', 'br', 'hr', 'input', 'meta', 'link', 'source', 'area', 'col', 'embed', 'wbr', 'track', 'param', 'base']);
// An opening tag with attributes; [^<>] keeps the scan linear (each character is read for one tag at most).
const OPEN_TAG = /<([a-z][a-z0-9-]*)(\s[^<>]{0,800})>/g;
const STYLE_ATTR = /\bstyle\s*=\s*(["'])([^"'\n]{0,400})\1/g;
const HIDDEN_ATTR = /(?:^|\s)hidden(?=[\s/=]|$)/; // not aria-hidden, which hides nothing from sight
const HIDING_STYLE = /(?:^|[;\s])(?:display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:\.0+)?(?:px|pt|em|rem|%)?\s*(?:;|!|$)|opacity\s*:\s*0(?:\.0+)?\s*(?:;|!|$)|(?:max-)?(?:height|width)\s*:\s*0(?:px)?\s*(?:;|!|$)|color\s*:\s*(?:white|#fff(?:fff)?|transparent|rgba?\([^)]{0,40},\s*0\s*\))\s*(?:;|!|$))/;

function hides(attrs: string): boolean {
  if (HIDDEN_ATTR.test(attrs)) return true;
  STYLE_ATTR.lastIndex = 0;
  for (let m = STYLE_ATTR.exec(attrs); m; m = STYLE_ATTR.exec(attrs)) if (HIDING_STYLE.test(m[2]!)) return true;
  return false;
}

export function scanHiddenElements(s: string, phrases: Hit[], hits: Hit[]): void {
  OPEN_TAG.lastIndex = 0;
  let count = 0;
  for (let m = OPEN_TAG.exec(s); m && count < PER_RULE_CAP; m = OPEN_TAG.exec(s)) {
    if (VOID_ELEMENTS.has(m[1]!) || !hides(m[2]!)) continue; // <img style="color:transparent"> hides no text
    const bodyStart = m.index + m[0].length;
    const window = s.slice(bodyStart, bodyStart + HIDDEN_BODY_MAX);
    const closeIn = window.indexOf(`</${m[1]}`);
    const body = closeIn < 0 ? window : window.slice(0, closeIn);
    if (!/[a-z]{3}/.test(body.replace(/<[^<>]{0,400}>/g, ' '))) continue; // markup only (an icon, an svg): no text to hide
    const end = bodyStart + body.length;
    const phrased = phrases.some((h) => h.start >= bodyStart && h.start < end);
    hits.push({ rule: 'hidden.css', severity: phrased ? 'dangerous' : 'caution', start: m.index, end });
    count++;
  }
}
