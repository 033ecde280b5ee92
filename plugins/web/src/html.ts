/**
 * A forgiving HTML parser for the sandbox: tokenises a page and builds a small element tree, with the
 * parts of the HTML tree-construction rules that decide what a reader sees (void elements, raw-text
 * elements such as script and style, paragraphs and list items closed implicitly, stray end tags
 * ignored). It is not a browser: no scripting, no foreign-content namespaces, no adoption agency. It is
 * linear in the input and caps nesting, so a hostile page cannot make it recurse without bound.
 */
import { decodeEntities } from './entities.js';

export interface Element {
  tag: string;
  attrs: Record<string, string>;
  children: Node[];
}
export type Node = Element | string;

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr', 'keygen', 'frame', 'basefont', 'isindex']);
/** Elements whose content is text up to the matching end tag; the first group decodes references. */
const RCDATA = new Set(['title', 'textarea']);
const RAWTEXT = new Set(['script', 'style', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript', 'plaintext']);
/** Opening one of these closes an open <p>. */
const CLOSES_P = new Set(['address', 'article', 'aside', 'blockquote', 'center', 'details', 'dialog', 'dir', 'div', 'dl', 'fieldset',
  'figcaption', 'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hgroup', 'hr', 'main', 'menu', 'nav', 'ol',
  'p', 'pre', 'section', 'summary', 'table', 'ul', 'li', 'dd', 'dt']);
/** Where the search for an element to close implicitly stops. */
const SCOPE = new Set(['html', 'body', 'table', 'td', 'th', 'caption', 'template', 'marquee', 'object', 'applet', 'button']);
const LIST_SCOPE = new Set([...SCOPE, 'ol', 'ul']);
const TABLE_PARTS = new Set(['table', 'thead', 'tbody', 'tfoot', 'tr', 'td', 'th', 'caption']);
/** Implied ends inside tables cross open cells but never leave the table. */
const TABLE_SCOPE = new Set(['table', 'template']);
const ROW_SCOPE = new Set(['table', 'template', 'tr']);
const SECTIONS = new Set(['thead', 'tbody', 'tfoot']);
const CELLS = new Set(['td', 'th']);
const DEFINITIONS = new Set(['dt', 'dd']);
const HEAD_CONTENT = new Set(['title', 'meta', 'link', 'style', 'script', 'base', 'noscript', 'template']);
const HEADINGS = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
/** Deeper elements are flattened into their ancestor: real pages stay far below this. */
export const MAX_DEPTH = 200;

/** Parses a document; the result is a synthetic `#root` element holding the top-level nodes. */
export function parseHtml(html: string): Element {
  const root: Element = { tag: '#root', attrs: {}, children: [] };
  const stack: Element[] = [root];
  const current = () => stack[stack.length - 1]!;
  const text = (t: string) => {
    if (!t) return;
    // Words directly in an unclosed <head> belong to the body, as in a browser.
    if (current().tag === 'head' && /\S/.test(t)) stack.length -= 1;
    const kids = current().children;
    const last = kids[kids.length - 1];
    if (typeof last === 'string') kids[kids.length - 1] = last + t;
    else kids.push(t);
  };
  /** Index of the nearest open `tag`, searching down to a scope boundary; -1 if none. */
  const openIndex = (tags: Set<string> | string, scope: Set<string>): number => {
    for (let i = stack.length - 1; i > 0; i--) {
      const t = stack[i]!.tag;
      if (typeof tags === 'string' ? t === tags : tags.has(t)) return i;
      if (scope.has(t)) return -1;
    }
    return -1;
  };
  const closeTo = (i: number) => {
    if (i > 0) stack.length = i;
  };

  const len = html.length;
  let i = 0;
  while (i < len) {
    const lt = html.indexOf('<', i);
    if (lt < 0) {
      text(decodeEntities(html.slice(i)));
      break;
    }
    if (lt > i) text(decodeEntities(html.slice(i, lt)));
    i = lt;
    const next = html.charCodeAt(i + 1);
    if (html.startsWith('<!--', i)) {
      const end = html.indexOf('-->', i + 4);
      i = end < 0 ? len : end + 3;
      continue;
    }
    if (next === 33 /* ! */ || next === 63 /* ? */) {
      // doctype, CDATA outside foreign content, processing instructions: bogus comments to a browser
      const end = html.indexOf('>', i + 2);
      i = end < 0 ? len : end + 1;
      continue;
    }
    if (next === 47 /* / */ && isLetter(html.charCodeAt(i + 2))) {
      const nameEnd = scanName(html, i + 2);
      const name = html.slice(i + 2, nameEnd).toLowerCase();
      const end = html.indexOf('>', nameEnd);
      i = end < 0 ? len : end + 1;
      endTag(name);
      continue;
    }
    if (!isLetter(next)) {
      text('<');
      i += 1;
      continue;
    }
    const nameEnd = scanName(html, i + 1);
    const name = html.slice(i + 1, nameEnd).toLowerCase();
    const { attrs, end, selfClosing } = scanAttributes(html, nameEnd);
    i = end;
    if (RAWTEXT.has(name) || RCDATA.has(name)) {
      const close = name === 'plaintext' ? -1 : indexOfEndTag(html, name, i);
      const body = html.slice(i, close < 0 ? len : close);
      const el: Element = { tag: name, attrs, children: [] };
      if (body) el.children.push(RCDATA.has(name) ? decodeEntities(body) : body);
      if (CLOSES_P.has(name)) closeTo(openIndex('p', SCOPE));
      current().children.push(el);
      if (close < 0) break;
      const gt = html.indexOf('>', close);
      i = gt < 0 ? len : gt + 1;
      continue;
    }
    startTag(name, attrs, selfClosing);
  }
  return root;

  function startTag(name: string, attrs: Record<string, string>, selfClosing: boolean): void {
    if (name === 'html' || name === 'body' || name === 'head') {
      // Their attributes do not matter here, and stray repeats must not nest.
      if (stack.some((e) => e.tag === name)) return;
    } else if (!HEAD_CONTENT.has(name)) {
      // Page content closes an unclosed <head>, as in a browser.
      // <head> is only ever open right under the root or under <html>.
      const head = stack[1]?.tag === 'head' ? 1 : stack[2]?.tag === 'head' ? 2 : -1;
      if (head > 0) closeTo(head);
    }
    if (CLOSES_P.has(name)) closeTo(openIndex('p', SCOPE));
    if (name === 'li') closeTo(openIndex('li', LIST_SCOPE));
    if (name === 'dt' || name === 'dd') closeTo(openIndex(DEFINITIONS, LIST_SCOPE));
    if (name === 'option') closeTo(openIndex('option', SCOPE));
    if (name === 'tr') closeTo(openIndex('tr', TABLE_SCOPE));
    if (name === 'td' || name === 'th') closeTo(openIndex(CELLS, ROW_SCOPE));
    if (name === 'thead' || name === 'tbody' || name === 'tfoot') closeTo(openIndex(SECTIONS, TABLE_SCOPE));
    if (HEADINGS.has(name)) {
      const open = openIndex(HEADINGS, SCOPE);
      if (open === stack.length - 1) closeTo(open);
    }
    const el: Element = { tag: name, attrs, children: [] };
    current().children.push(el);
    if (!VOID.has(name) && !selfClosing && stack.length < MAX_DEPTH) stack.push(el);
  }

  function endTag(name: string): void {
    if (name === 'br') {
      current().children.push({ tag: 'br', attrs: {}, children: [] });
      return;
    }
    // Content after </body> or </html> still belongs to the body, as in a browser.
    if (name === 'html' || name === 'body') return;
    const tablePart = TABLE_PARTS.has(name);
    for (let j = stack.length - 1; j > 0; j--) {
      const tag = stack[j]!.tag;
      if (tag === name) {
        stack.length = j;
        return;
      }
      // A stray </div> inside a table cell must not close the table around it; </tr> and </table> close cells.
      if (SCOPE.has(tag) && !(tablePart && (tag === 'td' || tag === 'th' || tag === 'caption'))) return;
    }
  }
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function scanName(s: string, from: number): number {
  let j = from;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (c === 62 || c === 47 || c === 32 || c === 9 || c === 10 || c === 12 || c === 13) break;
    j++;
  }
  return j;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 12 || c === 13;
}

/** Reads attributes up to the end of a start tag; returns the index after `>`. */
function scanAttributes(s: string, from: number): { attrs: Record<string, string>; end: number; selfClosing: boolean } {
  const attrs: Record<string, string> = {};
  let j = from;
  let selfClosing = false;
  while (j < s.length) {
    while (j < s.length && isSpace(s.charCodeAt(j))) j++;
    const c = s.charCodeAt(j);
    if (j >= s.length) break;
    if (c === 62) return { attrs, end: j + 1, selfClosing };
    if (c === 47) {
      selfClosing = s.charCodeAt(j + 1) === 62;
      j++;
      continue;
    }
    const nameStart = j;
    while (j < s.length) {
      const d = s.charCodeAt(j);
      if (isSpace(d) || d === 47 || d === 62 || (d === 61 && j > nameStart)) break;
      j++;
    }
    const name = s.slice(nameStart, j).toLowerCase();
    while (j < s.length && isSpace(s.charCodeAt(j))) j++;
    let value = '';
    if (s.charCodeAt(j) === 61) {
      j++;
      while (j < s.length && isSpace(s.charCodeAt(j))) j++;
      const q = s.charCodeAt(j);
      if (q === 34 || q === 39) {
        const close = s.indexOf(q === 34 ? '"' : "'", j + 1);
        const stop = close < 0 ? s.length : close;
        value = s.slice(j + 1, stop);
        j = stop + 1;
      } else {
        const start = j;
        while (j < s.length && !isSpace(s.charCodeAt(j)) && s.charCodeAt(j) !== 62) j++;
        value = s.slice(start, j);
      }
    }
    selfClosing = false;
    if (name && !(name in attrs)) attrs[name] = decodeEntities(value, true);
  }
  return { attrs, end: s.length, selfClosing };
}

const endTagPatterns = new Map<string, RegExp>();

/** Where `</name` starts (any case, followed by a tag-ending character), or -1. Linear from `from`. */
function indexOfEndTag(s: string, name: string, from: number): number {
  let re = endTagPatterns.get(name);
  if (!re) {
    re = new RegExp(`</${name}(?=[\\s/>]|$)`, 'ig');
    endTagPatterns.set(name, re);
  }
  re.lastIndex = from;
  const m = re.exec(s);
  return m ? m.index : -1;
}

/** The text inside a node, entities already decoded, whitespace as written. */
export function textContent(node: Node): string {
  if (typeof node === 'string') return node;
  let out = '';
  for (const c of node.children) out += textContent(c);
  return out;
}
