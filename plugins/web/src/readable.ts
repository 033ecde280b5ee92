/**
 * Turns a parsed page into what a model should read: Markdown (headings, paragraphs, links, emphasis,
 * lists, code blocks, tables, quotes) or plain text. Scripts, styles, navigation, forms' controls,
 * embedded media and hidden elements are dropped; when the page marks its main content (`<main>`,
 * `role="main"`, or a single `<article>`) only that is kept. Links and images become absolute URLs.
 */
import { parseHtml, textContent, type Element, type Node } from './html.js';
import { resolveUrl, schemeOf } from './url.js';

export type Format = 'markdown' | 'text';

export interface Readable {
  title: string | undefined;
  content: string;
}

/** Never shown: code, styling, chrome, embedded media, form controls. */
const DROP = new Set(['head', 'script', 'style', 'noscript', 'template', 'svg', 'math', 'canvas', 'iframe', 'object', 'embed',
  'applet', 'audio', 'video', 'map', 'nav', 'button', 'input', 'select', 'option', 'optgroup', 'textarea', 'datalist',
  'frameset', 'frame', 'link', 'meta', 'base', 'title', 'xmp', 'noembed', 'noframes', 'plaintext', 'dialog', 'slot']);
const BLOCK = new Set(['#root', 'html', 'body', 'address', 'article', 'aside', 'blockquote', 'center', 'dd', 'details', 'dir',
  'div', 'dl', 'dt', 'fieldset', 'figcaption', 'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header',
  'hgroup', 'hr', 'li', 'main', 'menu', 'ol', 'p', 'pre', 'section', 'summary', 'table', 'tbody', 'td', 'tfoot', 'th',
  'thead', 'tr', 'ul', 'caption', 'legend', 'search', 'listing']);
const INLINE = new Set(['a', 'abbr', 'acronym', 'b', 'bdi', 'bdo', 'big', 'br', 'cite', 'code', 'data', 'del', 'dfn', 'em', 'font',
  'i', 'img', 'ins', 'kbd', 'label', 'mark', 'q', 's', 'samp', 'small', 'span', 'strike', 'strong', 'sub', 'sup', 'time', 'tt',
  'u', 'var', 'wbr', 'picture', 'nobr', 'output', 'meter', 'progress']);
const HIDDEN_STYLE = /(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\s*(?:!important\s*)?(?:;|$)/i;
const MAX_COLUMNS = 50;

export function htmlToReadable(html: string, format: Format, pageUrl: string): Readable {
  const root = parseHtml(html);
  const page = survey(root);
  let base = pageUrl;
  if (page.baseHref !== undefined) {
    const resolved = resolveUrl(pageUrl, page.baseHref);
    if (schemeOf(resolved) === 'http' || schemeOf(resolved) === 'https') base = resolved;
  }
  const renderer = new Renderer(format, base);
  const blocks = renderer.blocksOf(mainContent(page).children);
  return { title: page.title, content: tidy(blocks.join('\n\n')) };
}

interface Survey {
  title: string | undefined;
  baseHref: string | undefined;
  body: Element;
  main: Element | undefined;
  articles: Element[];
}

/** One walk over the tree for what the renderer needs to know up front. */
function survey(root: Element): Survey {
  let title: string | undefined;
  let ogTitle: string | undefined;
  let baseHref: string | undefined;
  let body: Element | undefined;
  let main: Element | undefined;
  const articles: Element[] = [];
  // Two parallel stacks rather than one of {node, flag} objects: a big page has a million nodes.
  const stack: Node[] = [];
  const inside: boolean[] = [];
  for (let i = root.children.length - 1; i >= 0; i--) {
    stack.push(root.children[i]!);
    inside.push(false);
  }
  while (stack.length) {
    const node = stack.pop()!;
    const inArticle = inside.pop()!;
    if (typeof node === 'string') continue;
    const a = node.attrs;
    switch (node.tag) {
      case 'title':
        title ??= oneLine(textContent(node)) || undefined;
        continue;
      case 'base':
        if (baseHref === undefined && typeof a.href === 'string') baseHref = a.href;
        continue;
      case 'meta':
        if (ogTitle === undefined && (a.property === 'og:title' || a.name === 'twitter:title') && a.content) ogTitle = oneLine(a.content) || undefined;
        continue;
      case 'body':
        body ??= node;
        break;
      case 'main':
        main ??= node;
        break;
      case 'article':
        if (!inArticle) articles.push(node);
        break;
      default:
        if (a.role === 'main') main ??= node;
    }
    const nested = inArticle || node.tag === 'article';
    for (let i = node.children.length - 1; i >= 0; i--) {
      stack.push(node.children[i]!);
      inside.push(nested);
    }
  }
  return { title: (title ?? ogTitle)?.slice(0, 300), baseHref, body: body ?? root, main, articles };
}

/**
 * The page's main content when it says where that is and it holds a fair share of the visible text
 * (a `<main>` wrapping only a search box must not hide the article beside it); otherwise the body.
 */
function mainContent(page: Survey): Element {
  const candidate = page.main ?? (page.articles.length === 1 ? page.articles[0] : undefined);
  if (candidate && !dropped(candidate)) {
    const own = visibleLength(candidate);
    if (own >= 200 || own >= visibleLength(page.body) * 0.25) return candidate;
  }
  return page.body;
}

function visibleLength(el: Element): number {
  let n = 0;
  const stack: Node[] = [el];
  while (stack.length) {
    const node = stack.pop()!;
    if (typeof node === 'string') n += node.trim().length;
    else if (!dropped(node)) for (const c of node.children) stack.push(c);
  }
  return n;
}

function dropped(el: Element): boolean {
  if (DROP.has(el.tag)) return true;
  const a = el.attrs;
  if ('hidden' in a || a['aria-hidden'] === 'true' || a.role === 'navigation') return true;
  return typeof a.style === 'string' && HIDDEN_STYLE.test(a.style);
}

/** Whether any element under `root` passes the test. */
function contains(root: Element, test: (e: Element) => boolean): boolean {
  const stack: Node[] = [];
  for (const c of root.children) stack.push(c);
  while (stack.length) {
    const n = stack.pop()!;
    if (typeof n === 'string') continue;
    if (test(n)) return true;
    for (const c of n.children) stack.push(c);
  }
  return false;
}

/** Runs of whitespace (including no-break spaces) become one space. */
function collapse(s: string): string {
  return s.replace(/\s+/g, ' ');
}

function oneLine(s: string): string {
  return collapse(s).trim();
}

/** Final clean-up: no control characters, no trailing spaces, at most one blank line in a row. */
function tidy(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** Paragraph text from inline runs: spaces collapsed per line, blank edges dropped. */
function tidyInline(run: string): string {
  if (run.indexOf('\n') < 0) return run.replace(/ {2,}/g, ' ').trim();
  const lines = run.split('\n').map((l) => l.replace(/ {2,}/g, ' ').trim());
  return lines.join('\n').replace(/\n{3,}/g, '\n\n').trim();
}

function indent(text: string, first: string, rest: string): string {
  return text.split('\n').map((line, i) => (i === 0 ? first + line : line ? rest + line : line)).join('\n');
}

class Renderer {
  private readonly md: boolean;
  private readonly blockish = new WeakMap<Element, boolean>();

  constructor(format: Format, private readonly base: string) {
    this.md = format === 'markdown';
  }

  /** Renders a run of sibling nodes as blocks; inline runs between blocks become paragraphs. */
  blocksOf(nodes: readonly Node[]): string[] {
    const out: string[] = [];
    let run = '';
    const flush = () => {
      if (!run || !/\S/.test(run)) {
        run = '';
        return;
      }
      const p = tidyInline(run);
      if (p) out.push(p);
      run = '';
    };
    for (const n of nodes) {
      if (typeof n === 'string') run += collapse(n);
      else if (dropped(n)) continue;
      else if (this.isBlock(n)) {
        flush();
        // Not push(...blocks): a body with 100k paragraphs would exceed the argument limit.
        for (const b of this.block(n)) out.push(b);
      } else run += this.inline(n);
    }
    flush();
    return out;
  }

  private isBlock(el: Element): boolean {
    if (BLOCK.has(el.tag)) return true;
    if (INLINE.has(el.tag)) return false;
    // Custom elements (<my-card>) are blocks when they hold blocks.
    let known = this.blockish.get(el);
    if (known === undefined) {
      known = el.children.some((c) => typeof c !== 'string' && !dropped(c) && this.isBlock(c));
      this.blockish.set(el, known);
    }
    return known;
  }

  private block(el: Element): string[] {
    const tag = el.tag;
    if (/^h[1-6]$/.test(tag)) {
      const text = oneLine(this.inlineOf(el.children));
      if (!text) return [];
      return [this.md ? `${'#'.repeat(Number(tag[1]))} ${text}` : text];
    }
    switch (tag) {
      case 'hr':
        return ['---'];
      case 'pre':
      case 'listing':
        return this.pre(el);
      case 'blockquote': {
        const inner = this.blocksOf(el.children).join('\n\n');
        return inner ? [inner.split('\n').map((l) => (l ? `> ${l}` : '>')).join('\n')] : [];
      }
      case 'ul':
      case 'ol':
      case 'menu':
      case 'dir':
        return this.list(el);
      case 'li': {
        const body = this.blocksOf(el.children).join('\n');
        return body ? [indent(body, '- ', '  ')] : [];
      }
      case 'dl':
        return this.definitions(el);
      case 'table':
        return this.table(el);
      default:
        return this.blocksOf(el.children);
    }
  }

  private pre(el: Element): string[] {
    let code = preText(el).replace(/^\r?\n/, '').replace(/\s+$/, '');
    if (!code.trim()) return [];
    code = code.replace(/\r\n?/g, '\n');
    if (!this.md) return [code];
    const codeEl = el.children.find((c): c is Element => typeof c !== 'string' && c.tag === 'code');
    const cls = `${el.attrs.class ?? ''} ${codeEl?.attrs.class ?? ''} ${el.attrs['data-lang'] ?? ''}`;
    const lang = /(?:^|\s)(?:lang(?:uage)?-)([A-Za-z0-9_+#.-]{1,30})/.exec(cls)?.[1] ?? (el.attrs['data-lang'] ?? '').replace(/[^A-Za-z0-9_+#.-]/g, '').slice(0, 30);
    const longest = (code.match(/`{3,}/g) ?? []).reduce((m, r) => Math.max(m, r.length), 2);
    const fence = '`'.repeat(longest + 1);
    return [`${fence}${lang}\n${code}\n${fence}`];
  }

  private list(el: Element): string[] {
    const ordered = el.tag === 'ol';
    const start = Number.parseInt(el.attrs.start ?? '', 10);
    let n = ordered && Number.isFinite(start) ? start : 1;
    const items: string[] = [];
    for (const child of el.children) {
      let body: string;
      if (typeof child === 'string') body = oneLine(child);
      else if (dropped(child)) continue;
      else if (child.tag === 'li') body = this.blocksOf(child.children).join('\n');
      else if (child.tag === 'ul' || child.tag === 'ol') {
        // A list directly inside a list (invalid, common): it belongs to the item before it.
        const nested = this.list(child).join('\n');
        if (nested && items.length) items[items.length - 1] += `\n${indent(nested, '  ', '  ')}`;
        else if (nested) items.push(nested);
        continue;
      } else body = this.blocksOf([child]).join('\n');
      if (!body) continue;
      const marker = ordered ? `${n}. ` : '- ';
      n++;
      items.push(indent(body, marker, ' '.repeat(marker.length)));
    }
    return items.length ? [items.join('\n')] : [];
  }

  private definitions(el: Element): string[] {
    const lines: string[] = [];
    for (const child of el.children) {
      if (typeof child === 'string' || dropped(child)) continue;
      if (child.tag === 'dt') {
        const term = oneLine(this.inlineOf(child.children));
        if (term) lines.push(this.md ? `**${term}**` : term);
      } else if (child.tag === 'dd') {
        const body = this.blocksOf(child.children).join('\n');
        if (body) lines.push(indent(body, this.md ? ': ' : '  ', '  '));
      } else if (child.tag === 'div') {
        // <dl><div><dt/><dd/></div></dl> is allowed in HTML.
        for (const l of this.definitions(child)) lines.push(l);
      }
    }
    return lines.length ? [lines.join('\n')] : [];
  }

  private table(el: Element): string[] {
    const rows: { cells: Element[]; head: boolean }[] = [];
    let caption = '';
    const collect = (parent: Element, head: boolean) => {
      for (const c of parent.children) {
        if (typeof c === 'string' || dropped(c)) continue;
        if (c.tag === 'tr') rows.push({ cells: c.children.filter((x): x is Element => typeof x !== 'string' && (x.tag === 'td' || x.tag === 'th')), head });
        else if (c.tag === 'thead') collect(c, true);
        else if (c.tag === 'tbody' || c.tag === 'tfoot') collect(c, false);
        else if (c.tag === 'caption') caption = oneLine(this.inlineOf(c.children));
      }
    };
    collect(el, false);
    const width = Math.min(MAX_COLUMNS, rows.reduce((m, r) => Math.max(m, r.cells.reduce((w, c) => w + span(c), 0)), 0));
    const layout = width <= 1 || rows.some((r) => r.cells.some((c) => contains(c, (e) => e.tag === 'table' || e.tag === 'pre')));
    if (layout) {
      // A table used for page layout, or one column: its cells are just blocks in order.
      const out: string[] = caption ? [caption] : [];
      for (const r of rows) for (const c of r.cells) for (const b of this.blocksOf(c.children)) out.push(b);
      return out;
    }
    const grid = rows.map((r) => {
      const cells: string[] = [];
      for (const c of r.cells) {
        const text = oneLine(this.blocksOf(c.children).join(' '));
        cells.push(this.md ? text.replace(/\|/g, '\\|') : text);
        for (let k = 1; k < span(c); k++) cells.push('');
      }
      while (cells.length < width) cells.push('');
      return cells.slice(0, width);
    }).filter((cells) => cells.some((c) => c !== ''));
    if (!grid.length) return caption ? [caption] : [];
    const out: string[] = caption ? [this.md ? `**${caption}**` : caption] : [];
    if (!this.md) {
      out.push(grid.map((cells) => cells.join(' | ').trim()).join('\n'));
      return out;
    }
    const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
    const [first, ...rest] = grid;
    out.push([line(first!), line(first!.map(() => '---')), ...rest.map(line)].join('\n'));
    return out;
  }

  private inlineOf(nodes: readonly Node[]): string {
    let out = '';
    for (const n of nodes) out += typeof n === 'string' ? collapse(n) : this.inline(n);
    return out;
  }

  private inline(el: Element): string {
    if (dropped(el)) return '';
    switch (el.tag) {
      case 'br':
        return '\n';
      case 'wbr':
        return '';
      case 'img': {
        const alt = oneLine(el.attrs.alt ?? '');
        const src = this.link(el.attrs.src);
        return alt && src && this.md ? `![${alt.replace(/[[\]]/g, '')}](${src})` : alt;
      }
      case 'a': {
        const inner = this.inlineOf(el.children).replace(/\n+/g, ' ');
        const href = this.link(el.attrs.href);
        if (!this.md || !href || !inner.trim()) return inner;
        return wrapCore(inner, (core) => `[${core}](${href})`);
      }
      case 'code':
      case 'kbd':
      case 'samp':
      case 'tt': {
        const raw = collapse(textContent(el));
        if (!this.md || !raw.trim()) return raw;
        return wrapCore(raw, (core) => (core.includes('`') ? `\`\` ${core} \`\`` : `\`${core}\``));
      }
      case 'strong':
      case 'b':
        return this.emphasis(el, '**');
      case 'em':
      case 'i':
        return this.emphasis(el, '*');
      case 'del':
      case 's':
      case 'strike':
        return this.emphasis(el, '~~');
      case 'q':
        return `"${this.inlineOf(el.children)}"`;
      default:
        // Inline elements, and blocks met inside inline content (<a><div>…</div></a>): their text, spaced.
        return this.isBlock(el) ? ` ${this.inlineOf(el.children)} ` : this.inlineOf(el.children);
    }
  }

  private emphasis(el: Element, marker: string): string {
    const inner = this.inlineOf(el.children);
    if (!this.md || !inner.trim()) return inner;
    return wrapCore(inner, (core) => `${marker}${core}${marker}`);
  }

  /** An absolute http(s) or mailto URL for a link target, or undefined for anchors, scripts and data. */
  private link(raw: string | undefined): string | undefined {
    if (!raw || raw.trim().startsWith('#')) return undefined;
    const url = resolveUrl(this.base, raw);
    const scheme = schemeOf(url);
    if (scheme !== 'http' && scheme !== 'https' && scheme !== 'mailto') return undefined;
    return url.replace(/\(/g, '%28').replace(/\)/g, '%29');
  }
}

/** Wraps the non-blank middle of `s`, keeping its edge whitespace outside the markup. */
function wrapCore(s: string, wrap: (core: string) => string): string {
  const lead = /^\s*/.exec(s)![0];
  const trail = /\s*$/.exec(s.slice(lead.length))![0];
  const core = s.slice(lead.length, s.length - trail.length);
  return core ? lead + wrap(core) + trail : s;
}

function span(cell: Element): number {
  const n = Number.parseInt(cell.attrs.colspan ?? '1', 10);
  return Number.isFinite(n) && n > 1 ? Math.min(n, MAX_COLUMNS) : 1;
}

/** Text of a <pre> as laid out: whitespace kept, <br> as a newline, hidden parts left out. */
function preText(node: Node): string {
  if (typeof node === 'string') return node;
  if (node.tag === 'br') return '\n';
  if (dropped(node)) return '';
  let out = '';
  for (const c of node.children) out += preText(c);
  return out;
}
